package io.kvmfilter.filter;

/**
 * A {@code Range} request (RFC 9110 §14) that the filter hid from the application and answers itself when the
 * response is served untransformed: the application produced the whole representation, the filter sends the
 * part asked for. One byte range is supported ({@code bytes=0-99}, {@code bytes=100-}, {@code bytes=-500});
 * several ranges, other units or a malformed header are ignored, and the whole representation is sent, as RFC
 * 9110 allows. {@code If-Range} is honoured: a strong ETag equal to the response's, or a date equal to its
 * {@code Last-Modified}; anything else sends the whole representation.
 */
final class RangeRequest {

    /** What to send for a complete representation. */
    sealed interface Answer permits Whole, Part, Unsatisfiable {
    }

    /** The whole representation: 200. */
    record Whole() implements Answer {
    }

    /**
     * Bytes {@code first} to {@code last} (inclusive) of a representation of {@code length} bytes: 206.
     *
     * @param first  first byte sent
     * @param last   last byte sent
     * @param length the complete length
     */
    record Part(long first, long last, long length) implements Answer {
        long size() {
            return last - first + 1;
        }

        /** The Content-Range header value. */
        String contentRange() {
            return "bytes " + first + "-" + last + "/" + length;
        }
    }

    /**
     * No byte of the range exists in a representation of {@code length} bytes: 416.
     *
     * @param length the complete length
     */
    record Unsatisfiable(long length) implements Answer {
        /** The Content-Range header value. */
        String contentRange() {
            return "bytes */" + length;
        }
    }

    private static final Answer WHOLE = new Whole();

    private final String range;
    private final String ifRange;

    private RangeRequest(String range, String ifRange) {
        this.range = range;
        this.ifRange = ifRange;
    }

    /** The request's range, or null when it has no {@code Range} header. */
    static RangeRequest of(String range, String ifRange) {
        return range == null ? null : new RangeRequest(range.trim(), ifRange == null ? null : ifRange.trim());
    }

    /**
     * What to send of a complete representation.
     *
     * @param length       its length in bytes
     * @param etag         its ETag header, or null
     * @param lastModified its Last-Modified header, or null
     */
    Answer answer(long length, String etag, String lastModified) {
        if (ifRange != null && !ifRangeMatches(etag, lastModified)) {
            return WHOLE;
        }
        if (!range.regionMatches(true, 0, "bytes=", 0, 6)) {
            return WHOLE;
        }
        String spec = range.substring(6).trim();
        if (spec.indexOf(',') >= 0) {
            return WHOLE; // several ranges: allowed to send the whole representation instead
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return WHOLE;
        }
        String firstText = spec.substring(0, dash).trim();
        String lastText = spec.substring(dash + 1).trim();
        long first = number(firstText);
        long last = number(lastText);
        if (firstText.isEmpty()) {
            // bytes=-N: the last N bytes
            if (last < 0) {
                return WHOLE;
            }
            if (last == 0 || length == 0) {
                return new Unsatisfiable(length);
            }
            return new Part(Math.max(0, length - last), length - 1, length);
        }
        if (first < 0 || (!lastText.isEmpty() && (last < 0 || last < first))) {
            return WHOLE; // not a valid range: ignored
        }
        if (first >= length) {
            return new Unsatisfiable(length);
        }
        long end = lastText.isEmpty() ? length - 1 : Math.min(last, length - 1);
        return new Part(first, end, length);
    }

    /** A decimal number of at most 18 digits, or -1. */
    private static long number(String text) {
        if (text.isEmpty() || text.length() > 18) {
            return -1;
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return -1;
            }
        }
        return Long.parseLong(text);
    }

    /** If-Range: a strong entity tag equal to the response's, or an HTTP-date equal to its Last-Modified. */
    private boolean ifRangeMatches(String etag, String lastModified) {
        if (ifRange.startsWith("\"")) {
            return etag != null && !etag.trim().startsWith("W/") && etag.trim().equals(ifRange);
        }
        if (ifRange.startsWith("W/")) {
            return false; // a weak tag never validates a range
        }
        long date = HttpDates.parse(ifRange);
        return date >= 0 && date == HttpDates.parse(lastModified);
    }
}
