package io.kvmfilter.filter;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses an {@code Accept} header (RFC 9110 §12.5.1) into media ranges with their weights, leniently: whatever a
 * client sends, parsing ends and yields the ranges it could understand, never an exception. What is lenient:
 *
 * <ul>
 *   <li>empty list elements and empty parameters ({@code ,,}, {@code ;;}, a lone {@code ;}) are skipped;</li>
 *   <li>an element that is not a media range ({@code nonsense}, {@code image/}, {@code ;q=1}) is skipped, and so
 *       is a range whose weight is malformed ({@code q=}, {@code q=abc}, {@code q=-1}, {@code q=2},
 *       {@code q=1e3}, {@code q=NaN}): the rest of the header still counts;</li>
 *   <li>a weight may have more than three decimals and may start with the dot ({@code q=.2}); {@code Q=} counts
 *       as {@code q=}; white space is allowed around {@code =};</li>
 *   <li>a lone {@code *} (sent by old Java clients: {@code *; q=.2}) means {@code *}{@code /*};</li>
 *   <li>media type parameters other than the weight ({@code text/html;level=1}) are ignored: ranges are matched
 *       on type and subtype only; a comma or semicolon inside a quoted parameter value does not split;</li>
 *   <li>only the first {@link #MAX_RANGES} ranges and the first {@link #MAX_LENGTH} characters are read, so a
 *       huge header costs bounded time (containers refuse headers this long long before, by default).</li>
 * </ul>
 *
 * Without ranges (no header, an empty one, or nothing understandable) the client accepts anything.
 */
final class AcceptHeader {

    /** One media range: a lower-case {@code type/subtype}, {@code type/*} or {@code *}{@code /*}, and its weight. */
    record Range(String type, double quality) {
    }

    /** Ranges beyond this many are ignored. */
    static final int MAX_RANGES = 1000;
    /** Characters beyond this many are ignored. */
    static final int MAX_LENGTH = 64 * 1024;

    private AcceptHeader() {
    }

    /** The understandable ranges of the header, in header order; empty for null. */
    static List<Range> parse(String header) {
        List<Range> ranges = new ArrayList<>();
        if (header == null) {
            return ranges;
        }
        String text = header.length() > MAX_LENGTH ? header.substring(0, MAX_LENGTH) : header;
        for (String element : split(text, ',')) {
            if (ranges.size() == MAX_RANGES) {
                break;
            }
            Range range = range(element);
            if (range != null) {
                ranges.add(range);
            }
        }
        return ranges;
    }

    /** One list element as a range, or null when it is empty or not understandable. */
    private static Range range(String element) {
        List<String> parts = split(element, ';');
        String type = parts.get(0).trim().toLowerCase(Locale.ROOT);
        if (type.isEmpty()) {
            return null;
        }
        if (type.equals("*")) {
            type = "*/*";
        }
        if (!type.equals("*/*") && !MediaTypes.isValid(type, true)) {
            return null;
        }
        double quality = 1.0;
        for (int i = 1; i < parts.size(); i++) {
            String parameter = parts.get(i);
            int equals = parameter.indexOf('=');
            if (equals < 0 || !parameter.substring(0, equals).trim().equalsIgnoreCase("q")) {
                continue; // an empty parameter, or a media type parameter: ignored
            }
            quality = qvalue(parameter.substring(equals + 1).trim());
            if (Double.isNaN(quality)) {
                return null;
            }
        }
        return new Range(type, quality);
    }

    /** A weight from 0 to 1 in plain decimal notation, or NaN when it is anything else. */
    private static double qvalue(String text) {
        if (text.isEmpty() || text.length() > 16) {
            return Double.NaN;
        }
        boolean digit = false;
        boolean dot = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                digit = true;
            } else if (c == '.' && !dot) {
                dot = true;
            } else {
                return Double.NaN; // signs, exponents, hex, NaN, Infinity, quotes
            }
        }
        if (!digit) {
            return Double.NaN;
        }
        double value = Double.parseDouble(text);
        return value <= 1.0 ? value : Double.NaN;
    }

    /** Splits at the separator, except inside a quoted string (with backslash escapes). */
    private static List<String> split(String text, char separator) {
        List<String> parts = new ArrayList<>();
        int start = 0;
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted && c == '\\') {
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == separator && !quoted) {
                parts.add(text.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(text.substring(start));
        return parts;
    }
}
