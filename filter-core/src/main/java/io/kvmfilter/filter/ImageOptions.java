package io.kvmfilter.filter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Per-request image options from a URL's query (issue #17), checked against configured bounds and turned into the
 * {@code arg} of the bundled {@code image} program (docs/writing-programs.md, "Options of the image programs").
 *
 * <p>The scheme, one query parameter per option: {@code w} and {@code h} (CSS pixels), {@code fit} ({@code cover},
 * {@code contain}, {@code fill}, {@code inside}), {@code g} (gravity: {@code center}, {@code north} ...
 * {@code southwest}, {@code smart}), {@code q} (quality 1–100), {@code fmt} ({@code auto}, {@code webp},
 * {@code avif}, {@code jpeg}, {@code png}), {@code dpr} (device pixel ratio), {@code p} (a named preset, whose
 * options the explicit ones override). {@code s}, the signature, is {@link UrlSigner}'s. Any other parameter is
 * an error, so that a typo is not silently ignored (and cannot make cache keys without end).
 *
 * @param width   the box's width in CSS pixels, or 0 for none
 * @param height  the box's height in CSS pixels, or 0 for none
 * @param fit     how the image fits a box of both sides
 * @param gravity which part {@code cover} keeps
 * @param quality lossy quality, or 0 for the program's default
 * @param format  the output format; {@code auto} is resolved from the request's Accept by {@link #resolve}
 * @param dpr     device pixel ratio, 1 by default
 */
public record ImageOptions(int width, int height, String fit, String gravity, int quality, String format,
        double dpr) {

    /** The option parameters, in the order they are written back. */
    static final List<String> PARAMETERS = List.of("w", "h", "fit", "g", "q", "fmt", "dpr");
    /** The parameter naming a preset. */
    static final String PRESET = "p";
    static final Set<String> FITS = Set.of("cover", "contain", "fill", "inside");
    static final Set<String> GRAVITIES = Set.of("center", "north", "south", "east", "west", "northeast",
            "northwest", "southeast", "southwest", "smart");
    static final Set<String> FORMATS = Set.of("auto", "webp", "avif", "jpeg", "png");

    /** Checks the components (the parser gives only valid ones). */
    public ImageOptions {
        Objects.requireNonNull(fit, "fit");
        Objects.requireNonNull(gravity, "gravity");
        Objects.requireNonNull(format, "format");
    }

    /**
     * The bounds every request's options must keep, so that options cannot be used to burn CPU.
     *
     * @param maxWidth    largest {@code w}, in CSS pixels
     * @param maxHeight   largest {@code h}, in CSS pixels
     * @param maxDpr      largest {@code dpr}
     * @param maxPixels   largest output, in device pixels ({@code w × dpr × h × dpr}, or the side given squared)
     * @param formats     the formats a request may ask for ({@code auto} included when allowed)
     * @param presets     named option sets, each a query string such as {@code w=200&h=200&fit=cover}
     * @param presetsOnly true: a request may name a preset and nothing else
     */
    public record Limits(int maxWidth, int maxHeight, double maxDpr, long maxPixels, Set<String> formats,
            Map<String, String> presets, boolean presetsOnly) {

        /** Defaults: 4096 × 4096 CSS pixels, dpr up to 3, 25 million output pixels, every format, no presets. */
        public static final Limits DEFAULT = new Limits(4096, 4096, 3, 25_000_000L, FORMATS, Map.of(), false);

        /** Checks the bounds and copies the collections. */
        public Limits {
            if (maxWidth < 1 || maxHeight < 1 || maxWidth > 16383 || maxHeight > 16383) {
                throw new IllegalArgumentException("maxWidth and maxHeight must be 1 to 16383, got " + maxWidth
                        + " and " + maxHeight);
            }
            if (!(maxDpr >= 1 && maxDpr <= 8)) {
                throw new IllegalArgumentException("maxDpr must be 1 to 8, got " + maxDpr);
            }
            if (maxPixels < 1) {
                throw new IllegalArgumentException("maxPixels must be at least 1, got " + maxPixels);
            }
            formats = Set.copyOf(formats);
            for (String format : formats) {
                if (!FORMATS.contains(format)) {
                    throw new IllegalArgumentException("unknown format \"" + format + "\"; allowed: "
                            + new TreeSet<>(FORMATS));
                }
            }
            presets = Map.copyOf(presets);
            if (presetsOnly && presets.isEmpty()) {
                throw new IllegalArgumentException("presetsOnly needs at least one preset");
            }
        }
    }

    /** A bad option: which one, and what is allowed. */
    public static final class InvalidOptionException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String option;

        InvalidOptionException(String option, String message) {
            super("image option \"" + option + "\": " + message);
            this.option = option;
        }

        /** @return the parameter's name */
        public String option() {
            return option;
        }
    }

    /**
     * Parses a query string (without the leading {@code ?}; may be null).
     *
     * @return the options, or empty when the query names none (the original is meant)
     * @throws InvalidOptionException naming the first parameter that is unknown, repeated, malformed or out of bounds
     */
    public static Optional<ImageOptions> parse(String query, Limits limits) throws InvalidOptionException {
        return parse(query, limits, null, 0, new ArrayList<>());
    }

    /**
     * Parses a query string and fills what it leaves open from client hints ({@link ClientHints}).
     *
     * @param hints           the request's hints, or null to use none
     * @param saveDataQuality the quality for {@code Save-Data: on}
     * @param vary            receives the hint headers the answer depends on
     * @return the options, or empty when the query names none (hints alone do not ask for a made image)
     * @throws InvalidOptionException naming the first parameter that is unknown, repeated, malformed or out of
     *                                bounds; a hint never causes one
     */
    public static Optional<ImageOptions> parse(String query, Limits limits, ClientHints hints, int saveDataQuality,
            List<String> vary) throws InvalidOptionException {
        Map<String, String> given = parameters(query, true);
        given.remove(UrlSigner.PARAMETER);
        if (given.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> options = new LinkedHashMap<>();
        String preset = given.remove(PRESET);
        if (preset != null) {
            String presetQuery = limits.presets().get(preset);
            if (presetQuery == null) {
                throw new InvalidOptionException(PRESET, "no preset \"" + LogText.escape(preset) + "\"; presets: "
                        + new TreeMap<>(limits.presets()).keySet());
            }
            options.putAll(parameters(presetQuery, false));
        } else if (limits.presetsOnly()) {
            throw new InvalidOptionException(PRESET, "this server takes presets only: give p=NAME, one of "
                    + new TreeMap<>(limits.presets()).keySet());
        }
        if (limits.presetsOnly() && !given.isEmpty()) {
            throw new InvalidOptionException(given.keySet().iterator().next(), "this server takes presets only");
        }
        options.putAll(given);
        if (hints == null) {
            return Optional.of(of(options, limits));
        }
        ImageOptions asked = of(options, limits); // the URL's own errors first
        Map<String, String> hinted = new LinkedHashMap<>(options);
        vary.addAll(hints.applyTo(hinted, limits, saveDataQuality));
        try {
            return Optional.of(of(hinted, limits));
        } catch (InvalidOptionException e) {
            return Optional.of(asked); // hints that would break a bound (maxPixels) are not used
        }
    }

    /** A number as the {@code dpr} parameter writes it: at most 3 decimals, no trailing zeros. */
    static String decimal(double value) {
        return java.math.BigDecimal.valueOf(value).setScale(3, java.math.RoundingMode.HALF_UP).stripTrailingZeros()
                .toPlainString();
    }

    /** name → value of a query; a name given twice or unknown is an error. */
    private static Map<String, String> parameters(String query, boolean fromRequest) throws InvalidOptionException {
        Map<String, String> out = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) {
            return out;
        }
        if (query.length() > 2048) {
            throw new InvalidOptionException("query", "longer than 2048 characters");
        }
        for (String pair : query.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            int equals = pair.indexOf('=');
            String name = equals < 0 ? pair : pair.substring(0, equals);
            String value = equals < 0 ? "" : pair.substring(equals + 1);
            boolean known = PARAMETERS.contains(name) || (fromRequest && (name.equals(PRESET)
                    || name.equals(UrlSigner.PARAMETER)));
            if (!known) {
                throw new InvalidOptionException(LogText.escape(name), "unknown; allowed: " + String.join(", ",
                        PARAMETERS) + (fromRequest ? ", p (preset), s (signature)" : ""));
            }
            if (out.put(name, value) != null) {
                throw new InvalidOptionException(name, "given twice");
            }
        }
        return out;
    }

    private static ImageOptions of(Map<String, String> options, Limits limits) throws InvalidOptionException {
        int width = integer(options, "w", 1, limits.maxWidth(), 0);
        int height = integer(options, "h", 1, limits.maxHeight(), 0);
        String fit = word(options, "fit", FITS, "cover");
        String gravity = word(options, "g", GRAVITIES, "center");
        int quality = integer(options, "q", 1, 100, 0);
        String format = word(options, "fmt", limits.formats(), limits.formats().contains("auto") ? "auto"
                : "webp");
        double dpr = 1;
        String dprText = options.get("dpr");
        if (dprText != null) {
            try {
                dpr = Double.parseDouble(dprText);
            } catch (NumberFormatException e) {
                dpr = Double.NaN;
            }
            if (!(dpr >= 0.1 && dpr <= limits.maxDpr()) || !dprText.matches("[0-9]{1,2}(\\.[0-9]{1,3})?")) {
                throw new InvalidOptionException("dpr", "must be a number from 0.1 to " + limits.maxDpr()
                        + " (at most 3 decimals); got \"" + LogText.escape(dprText) + "\"");
            }
        }
        long deviceWidth = Math.round((width == 0 ? height : width) * dpr);
        long deviceHeight = Math.round((height == 0 ? width : height) * dpr);
        if (deviceWidth * deviceHeight > limits.maxPixels()) {
            throw new InvalidOptionException(width > 0 ? "w" : "h", "the output would be " + deviceWidth + "x"
                    + deviceHeight + " device pixels, more than " + limits.maxPixels());
        }
        return new ImageOptions(width, height, fit, gravity, quality, format, dpr);
    }

    private static int integer(Map<String, String> options, String name, int min, int max, int absent)
            throws InvalidOptionException {
        String value = options.get(name);
        if (value == null) {
            return absent;
        }
        if (value.matches("[0-9]{1,6}")) {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) {
                return n;
            }
        }
        throw new InvalidOptionException(name, "must be an integer from " + min + " to " + max + "; got \""
                + LogText.escape(value) + "\"");
    }

    private static String word(Map<String, String> options, String name, Set<String> allowed, String absent)
            throws InvalidOptionException {
        String value = options.get(name);
        if (value == null) {
            return absent;
        }
        String word = value.toLowerCase(Locale.ROOT);
        if (!allowed.contains(word)) {
            throw new InvalidOptionException(name, "must be one of " + new TreeSet<>(allowed) + "; got \""
                    + LogText.escape(value) + "\"");
        }
        return word;
    }

    /**
     * The format to produce: {@code auto} becomes the best the client accepts (AVIF, then WebP, else JPEG), among
     * the allowed formats.
     *
     * @param accepts whether the client accepts a media type ("image/avif", "image/webp")
     */
    public String resolve(java.util.function.Predicate<String> accepts, Set<String> allowed) {
        return resolve(accepts, allowed, null);
    }

    /**
     * As {@link #resolve(java.util.function.Predicate, Set)}, but a PNG source stays PNG when the client takes
     * neither AVIF nor WebP: JPEG would lose its transparency.
     *
     * @param sourceType the original's base media type, or null when not known
     */
    public String resolve(java.util.function.Predicate<String> accepts, Set<String> allowed, String sourceType) {
        if (!format.equals("auto")) {
            return format;
        }
        for (String candidate : List.of("avif", "webp")) {
            if (allowed.contains(candidate) && accepts.test("image/" + candidate)) {
                return candidate;
            }
        }
        return "image/png".equals(sourceType) ? "png" : "jpeg";
    }

    /**
     * The {@code arg} of the {@code image} program for these options and a resolved format: a JSON object whose keys
     * always come in the same order, so that equal options give equal arguments (and one cache entry).
     */
    public String programArg(String resolvedFormat) {
        List<String> members = new ArrayList<>();
        members.add("\"format\":\"" + resolvedFormat + "\"");
        if (width > 0) {
            members.add("\"width\":" + width);
        }
        if (height > 0) {
            members.add("\"height\":" + height);
        }
        if (width > 0 && height > 0) {
            members.add("\"fit\":\"" + fit + "\"");
            members.add("\"gravity\":\"" + gravity + "\"");
        }
        if (quality > 0) {
            members.add("\"quality\":" + quality);
        }
        if (dpr != 1) {
            members.add("\"dpr\":" + dpr);
        }
        return "{" + String.join(",", members) + "}";
    }
}
