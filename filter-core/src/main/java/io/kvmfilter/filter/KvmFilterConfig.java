package io.kvmfilter.filter;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Immutable, validated configuration of one {@link KvmFilter} instance.
 *
 * <p>Built with {@link #builder()} for embedded use, or read from init-params, context-params and MicroProfile
 * Config by the filter's {@code init}. Every setter checks its value at once and throws
 * {@link IllegalArgumentException} with a message naming the parameter, the value and what is allowed. The
 * parameter names are the {@code PARAM_*} constants; docs/configuration.md describes each one.
 *
 * <p>Include/exclude lists: a request or response is transformed when it matches the included list (an empty
 * included list matches everything) <em>and</em> does not match the excluded list: the excluded list wins.
 */
public final class KvmFilterConfig {

    /** Rules: which programs run for which content types. See {@link #DEFAULT_RULES}. */
    public static final String PARAM_RULES = "rules";
    /** Path specs of requests to transform (empty: all). */
    public static final String PARAM_INCLUDED_PATHS = "includedPaths";
    /** Path specs of requests never to transform; wins over {@link #PARAM_INCLUDED_PATHS}. */
    public static final String PARAM_EXCLUDED_PATHS = "excludedPaths";
    /** Response media types to transform (empty: all types some rule covers). */
    public static final String PARAM_INCLUDED_MIME_TYPES = "includedMimeTypes";
    /** Response media types never to transform; wins over {@link #PARAM_INCLUDED_MIME_TYPES}. */
    public static final String PARAM_EXCLUDED_MIME_TYPES = "excludedMimeTypes";
    /** Request methods whose responses are transformed. */
    public static final String PARAM_INCLUDED_METHODS = "includedMethods";
    /** Request methods never transformed; wins over {@link #PARAM_INCLUDED_METHODS}. */
    public static final String PARAM_EXCLUDED_METHODS = "excludedMethods";
    /** Response statuses that are transformed. */
    public static final String PARAM_STATUSES = "statuses";
    /** Bodies smaller than this are served as they are. */
    public static final String PARAM_MIN_BODY_SIZE = "minBodySize";
    /** Bodies larger than this are streamed through untransformed; also the bound of the buffer. */
    public static final String PARAM_MAX_BODY_SIZE = "maxBodySize";
    /** Images whose header declares more pixels (width × height × frames) are served untransformed. */
    public static final String PARAM_MAX_PIXELS = "maxPixels";
    /** Bytes of transformed bodies kept in memory for reuse; 0 turns the cache off. */
    public static final String PARAM_CACHE_SIZE = "cacheSize";
    /** Answer HEAD by running the transform as for GET and sending only the headers. */
    public static final String PARAM_HEAD_AS_GET = "headAsGet";
    /** Let {@code image/*} and {@code *}{@code /*} in Accept select negotiated variants. */
    public static final String PARAM_VARIANTS_FOR_WILDCARDS = "variantsForWildcards";
    /** Serve the original when a transformed body is not smaller than the original. */
    public static final String PARAM_REQUIRE_SMALLER = "requireSmaller";
    /** Name of the diagnostic response header, or {@code none}. */
    public static final String PARAM_DIAGNOSTIC_HEADER = "diagnosticHeader";
    /** Location (file: or classpath: URI) of a program library JSON merged over the bundled programs. */
    public static final String PARAM_LIBRARY = "library";
    /** Per-program settings: {@code program.key=value} entries separated by ';' or new lines. */
    public static final String PARAM_PROGRAM_SETTINGS = "programSettings";
    /** Longest time one program may run for one request. */
    public static final String PARAM_TIMEOUT = "timeout";
    /** Longest time a request may wait for a free program instance. */
    public static final String PARAM_QUEUE_TIMEOUT = "queueTimeout";

    /** All parameter names, in documentation order. */
    public static final List<String> PARAMETERS = List.of(PARAM_RULES, PARAM_INCLUDED_PATHS, PARAM_EXCLUDED_PATHS,
            PARAM_INCLUDED_MIME_TYPES, PARAM_EXCLUDED_MIME_TYPES, PARAM_INCLUDED_METHODS, PARAM_EXCLUDED_METHODS,
            PARAM_STATUSES, PARAM_MIN_BODY_SIZE, PARAM_MAX_BODY_SIZE, PARAM_MAX_PIXELS, PARAM_CACHE_SIZE,
            PARAM_HEAD_AS_GET,
            PARAM_VARIANTS_FOR_WILDCARDS, PARAM_REQUIRE_SMALLER, PARAM_DIAGNOSTIC_HEADER, PARAM_LIBRARY,
            PARAM_PROGRAM_SETTINGS, PARAM_TIMEOUT, PARAM_QUEUE_TIMEOUT);

    /** Bundled programs: AVIF, then WebP for JPEG and PNG; minification for HTML, CSS and JavaScript. */
    public static final String DEFAULT_RULES = "image/jpeg, image/png -> image/avif: avif, image/webp: webp\n"
            + "text/html, text/css, text/javascript, application/javascript -> minify";
    /** Default of {@link #PARAM_INCLUDED_METHODS}. */
    public static final List<String> DEFAULT_INCLUDED_METHODS = List.of("GET", "HEAD");
    /** Default of {@link #PARAM_STATUSES}: only complete, successful responses. */
    public static final List<Integer> DEFAULT_STATUSES = List.of(200);
    /** Default of {@link #PARAM_MIN_BODY_SIZE}: smaller bodies rarely gain from a program run (as Jetty's gzip). */
    public static final long DEFAULT_MIN_BODY_SIZE = 32;
    /** Default of {@link #PARAM_MAX_BODY_SIZE}: bounds the memory one response may hold (8 MiB). */
    public static final long DEFAULT_MAX_BODY_SIZE = 8L * 1024 * 1024;
    /** Largest allowed {@link #PARAM_MAX_BODY_SIZE}: a Java array holds at most about 2 GiB (1 GiB). */
    public static final long MAX_MAX_BODY_SIZE = 1L << 30;
    /**
     * Default of {@link #PARAM_MAX_PIXELS}: 50 million pixels, about 200 MB decoded as RGBA, within the bundled
     * image programs' memory limits; an 8K frame has 33 million.
     */
    public static final long DEFAULT_MAX_PIXELS = 50_000_000L;
    /** Default of {@link #PARAM_CACHE_SIZE}: 32 MiB of transformed bodies per filter instance. */
    public static final long DEFAULT_CACHE_SIZE = 32L * 1024 * 1024;
    /** Default of {@link #PARAM_DIAGNOSTIC_HEADER}. */
    public static final String DEFAULT_DIAGNOSTIC_HEADER = "X-KVM-Transform";

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(|B|KiB|MiB|GiB|k|K|M|G)");
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m)");
    private static final Pattern METHOD = Pattern.compile("[A-Za-z!#$%&'*+.^_`|~0-9-]+");
    private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]+");
    private static final Pattern SETTING = Pattern.compile("([A-Za-z0-9_.-]+?)\\.([A-Za-z0-9_]+)\\s*=\\s*(.*)");

    private final String rulesText;
    private final List<Rule> rules;
    private final List<PathSpec> includedPaths;
    private final List<PathSpec> excludedPaths;
    private final Set<String> includedMimeTypes;
    private final Set<String> excludedMimeTypes;
    private final Set<String> includedMethods;
    private final Set<String> excludedMethods;
    private final Set<Integer> statuses;
    private final long minBodySize;
    private final long maxBodySize;
    private final long maxPixels;
    private final long cacheSize;
    private final boolean headAsGet;
    private final boolean variantsForWildcards;
    private final boolean requireSmaller;
    private final Optional<String> diagnosticHeader;
    private final Optional<URI> library;
    private final Map<String, Map<String, Object>> programSettings;
    private final Optional<Duration> timeout;
    private final Optional<Duration> queueTimeout;

    private KvmFilterConfig(Builder b) {
        rulesText = b.rulesText;
        rules = List.copyOf(b.rules);
        includedPaths = List.copyOf(b.includedPaths);
        excludedPaths = List.copyOf(b.excludedPaths);
        includedMimeTypes = Collections.unmodifiableSet(new LinkedHashSet<>(b.includedMimeTypes));
        excludedMimeTypes = Collections.unmodifiableSet(new LinkedHashSet<>(b.excludedMimeTypes));
        includedMethods = Collections.unmodifiableSet(new LinkedHashSet<>(b.includedMethods));
        excludedMethods = Collections.unmodifiableSet(new LinkedHashSet<>(b.excludedMethods));
        statuses = Collections.unmodifiableSet(new LinkedHashSet<>(b.statuses));
        minBodySize = b.minBodySize;
        maxBodySize = b.maxBodySize;
        maxPixels = b.maxPixels;
        cacheSize = b.cacheSize;
        headAsGet = b.headAsGet;
        variantsForWildcards = b.variantsForWildcards;
        requireSmaller = b.requireSmaller;
        diagnosticHeader = b.diagnosticHeader;
        library = b.library;
        Map<String, Map<String, Object>> settings = new LinkedHashMap<>();
        b.programSettings.forEach((program, values) -> settings.put(program, Map.copyOf(values)));
        programSettings = Collections.unmodifiableMap(settings);
        timeout = b.timeout;
        queueTimeout = b.queueTimeout;
    }

    /** A builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The configuration with every default. */
    public static KvmFilterConfig defaults() {
        return builder().build();
    }

    /** The rules text this configuration was built from. */
    public String rules() {
        return rulesText;
    }

    /** Smallest body that is transformed, in bytes. */
    public long minBodySize() {
        return minBodySize;
    }

    /** Largest body that is buffered and transformed, in bytes. */
    public long maxBodySize() {
        return maxBodySize;
    }

    /** Largest number of pixels (width × height × frames) of an image that is transformed. */
    public long maxPixels() {
        return maxPixels;
    }

    /** Bytes of transformed bodies kept for reuse (0: no cache). */
    public long cacheSize() {
        return cacheSize;
    }

    /** Whether HEAD requests are answered with the headers of the transformed GET response. */
    public boolean headAsGet() {
        return headAsGet;
    }

    /** Whether wildcards in Accept select negotiated variants. */
    public boolean variantsForWildcards() {
        return variantsForWildcards;
    }

    /** Whether a transformed body must be smaller than the original to be served. */
    public boolean requireSmaller() {
        return requireSmaller;
    }

    /** Name of the diagnostic header, empty when turned off. */
    public Optional<String> diagnosticHeader() {
        return diagnosticHeader;
    }

    /** Location of the program library merged over the bundled programs, if any. */
    public Optional<URI> library() {
        return library;
    }

    /** Per-program settings: program name to (setting name to value). */
    public Map<String, Map<String, Object>> programSettings() {
        return programSettings;
    }

    /** Longest run time of one program for one request, when set. */
    public Optional<Duration> timeout() {
        return timeout;
    }

    /** Longest wait for a free program instance, when set. */
    public Optional<Duration> queueTimeout() {
        return queueTimeout;
    }

    /** Request methods whose responses are transformed. */
    public Set<String> includedMethods() {
        return includedMethods;
    }

    /** Response statuses that are transformed. */
    public Set<Integer> statuses() {
        return statuses;
    }

    List<Rule> ruleList() {
        return rules;
    }

    /** Program names the rules refer to. */
    Set<String> programsUsed() {
        Set<String> names = new LinkedHashSet<>();
        for (Rule rule : rules) {
            for (Variant variant : rule.variants()) {
                variant.steps().forEach(step -> names.add(step.program()));
            }
        }
        return names;
    }

    /** Is this method transformed? (excluded list wins) */
    boolean methodIncluded(String method) {
        String upper = method.toUpperCase(Locale.ROOT);
        return (includedMethods.isEmpty() || includedMethods.contains(upper)) && !excludedMethods.contains(upper);
    }

    // The checks below run several times per request: plain loops, no stream pipeline per call.

    /** Is this path (inside the web application) transformed? (excluded list wins) */
    boolean pathIncluded(String path) {
        return selected(includedPaths, excludedPaths, spec -> spec.matches(path));
    }

    /** Is this lower-case base media type transformed? (excluded list wins) */
    boolean mimeTypeIncluded(String mediaType) {
        return selected(includedMimeTypes, excludedMimeTypes, pattern -> MediaTypes.matches(pattern, mediaType));
    }

    /** Included (an empty list includes everything) and not excluded: the excluded list wins. */
    private static <T> boolean selected(Collection<T> included, Collection<T> excluded, Predicate<T> matches) {
        return (included.isEmpty() || anyMatches(included, matches)) && !anyMatches(excluded, matches);
    }

    private static <T> boolean anyMatches(Collection<T> patterns, Predicate<T> matches) {
        for (T pattern : patterns) {
            if (matches.test(pattern)) {
                return true;
            }
        }
        return false;
    }

    /** The first rule covering this lower-case base media type. */
    Optional<Rule> ruleFor(String mediaType) {
        for (Rule rule : rules) {
            if (rule.covers(mediaType)) {
                return Optional.of(rule);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "KvmFilterConfig{rules=" + rules + ", includedPaths=" + includedPaths + ", excludedPaths="
                + excludedPaths + ", includedMimeTypes=" + includedMimeTypes + ", excludedMimeTypes="
                + excludedMimeTypes + ", includedMethods=" + includedMethods + ", excludedMethods="
                + excludedMethods + ", statuses=" + statuses + ", minBodySize=" + minBodySize + ", maxBodySize="
                + maxBodySize + ", maxPixels=" + maxPixels + ", cacheSize=" + cacheSize + ", headAsGet=" + headAsGet
                + ", variantsForWildcards=" + variantsForWildcards
                + ", requireSmaller=" + requireSmaller + ", diagnosticHeader=" + diagnosticHeader.orElse("none")
                + ", library=" + library.map(URI::toString).orElse("bundled") + ", programSettings="
                + programSettings + ", timeout=" + timeout.map(Duration::toString).orElse("library default")
                + ", queueTimeout=" + queueTimeout.map(Duration::toString).orElse("library default") + "}";
    }

    /**
     * Collects settings and checks each one as it is given. Not thread-safe; {@link #build()} returns an immutable
     * snapshot.
     */
    public static final class Builder {
        private String rulesText = DEFAULT_RULES;
        private List<Rule> rules = RuleParser.parse(DEFAULT_RULES);
        private List<PathSpec> includedPaths = List.of();
        private List<PathSpec> excludedPaths = List.of();
        private List<String> includedMimeTypes = List.of();
        private List<String> excludedMimeTypes = List.of();
        private List<String> includedMethods = DEFAULT_INCLUDED_METHODS;
        private List<String> excludedMethods = List.of();
        private List<Integer> statuses = DEFAULT_STATUSES;
        private long minBodySize = DEFAULT_MIN_BODY_SIZE;
        private long maxBodySize = DEFAULT_MAX_BODY_SIZE;
        private long maxPixels = DEFAULT_MAX_PIXELS;
        private long cacheSize = DEFAULT_CACHE_SIZE;
        private boolean headAsGet = true;
        private boolean variantsForWildcards;
        private boolean requireSmaller = true;
        private Optional<String> diagnosticHeader = Optional.of(DEFAULT_DIAGNOSTIC_HEADER);
        private Optional<URI> library = Optional.empty();
        private final Map<String, Map<String, Object>> programSettings = new LinkedHashMap<>();
        private Optional<Duration> timeout = Optional.empty();
        private Optional<Duration> queueTimeout = Optional.empty();

        private Builder() {
        }

        /**
         * Sets a parameter from its text form, as in web.xml.
         *
         * @param name  one of {@link #PARAMETERS}
         * @param value the text value
         * @throws IllegalArgumentException naming the parameter, the value and what is allowed
         */
        public Builder parameter(String name, String value) {
            String v = value.trim();
            switch (name) {
                case PARAM_RULES -> rules(v);
                case PARAM_INCLUDED_PATHS -> includedPaths(list(v).toArray(String[]::new));
                case PARAM_EXCLUDED_PATHS -> excludedPaths(list(v).toArray(String[]::new));
                case PARAM_INCLUDED_MIME_TYPES -> includedMimeTypes(list(v).toArray(String[]::new));
                case PARAM_EXCLUDED_MIME_TYPES -> excludedMimeTypes(list(v).toArray(String[]::new));
                case PARAM_INCLUDED_METHODS -> includedMethods(list(v).toArray(String[]::new));
                case PARAM_EXCLUDED_METHODS -> excludedMethods(list(v).toArray(String[]::new));
                case PARAM_STATUSES -> statuses(parseStatuses(v));
                case PARAM_MIN_BODY_SIZE -> minBodySize(parseSize(name, v));
                case PARAM_MAX_BODY_SIZE -> maxBodySize(parseSize(name, v));
                case PARAM_MAX_PIXELS -> maxPixels(parseCount(name, v));
                case PARAM_CACHE_SIZE -> cacheSize(parseSize(name, v));
                case PARAM_HEAD_AS_GET -> headAsGet(parseBoolean(name, v));
                case PARAM_VARIANTS_FOR_WILDCARDS -> variantsForWildcards(parseBoolean(name, v));
                case PARAM_REQUIRE_SMALLER -> requireSmaller(parseBoolean(name, v));
                case PARAM_DIAGNOSTIC_HEADER -> diagnosticHeader(v);
                case PARAM_LIBRARY -> library(parseUri(v));
                case PARAM_PROGRAM_SETTINGS -> programSettings(v);
                case PARAM_TIMEOUT -> timeout(parseDuration(name, v));
                case PARAM_QUEUE_TIMEOUT -> queueTimeout(parseDuration(name, v));
                default -> throw new IllegalArgumentException("unknown kvmfilter parameter '" + name
                        + "': allowed are " + String.join(", ", PARAMETERS));
            }
            return this;
        }

        /**
         * Sets the rules (see docs/configuration.md), e.g.
         * {@code image/jpeg, image/png -> image/avif: avif, image/webp: webp}.
         *
         * @throws IllegalArgumentException naming the rule and what is wrong
         */
        public Builder rules(String text) {
            List<Rule> parsed;
            try {
                parsed = RuleParser.parse(text);
            } catch (IllegalArgumentException e) {
                throw invalid(PARAM_RULES, text, e.getMessage());
            }
            if (parsed.isEmpty()) {
                throw invalid(PARAM_RULES, text, "at least one rule 'types -> variant, ...' is required");
            }
            rulesText = text.trim();
            rules = parsed;
            return this;
        }

        /** Path specs to transform: {@code /prefix/*}, {@code *.suffix}, {@code /exact}, {@code ^regex}. */
        public Builder includedPaths(String... specs) {
            includedPaths = paths(PARAM_INCLUDED_PATHS, specs);
            return this;
        }

        /** Path specs never to transform; wins over included paths. */
        public Builder excludedPaths(String... specs) {
            excludedPaths = paths(PARAM_EXCLUDED_PATHS, specs);
            return this;
        }

        /** Media types to transform ({@code type/subtype} or {@code type/*}); empty means all covered by rules. */
        public Builder includedMimeTypes(String... types) {
            includedMimeTypes = mimeTypes(PARAM_INCLUDED_MIME_TYPES, types);
            return this;
        }

        /** Media types never to transform; wins over included types. */
        public Builder excludedMimeTypes(String... types) {
            excludedMimeTypes = mimeTypes(PARAM_EXCLUDED_MIME_TYPES, types);
            return this;
        }

        /** Request methods whose responses are transformed (default GET, HEAD). */
        public Builder includedMethods(String... methods) {
            includedMethods = methods(PARAM_INCLUDED_METHODS, methods);
            return this;
        }

        /** Request methods never transformed; wins over included methods. */
        public Builder excludedMethods(String... methods) {
            excludedMethods = methods(PARAM_EXCLUDED_METHODS, methods);
            return this;
        }

        /** Response statuses that are transformed (default 200); each 200..299 except 204, 205 and 206. */
        public Builder statuses(List<Integer> codes) {
            if (codes.isEmpty()) {
                throw invalid(PARAM_STATUSES, "", "at least one status code is required");
            }
            for (int code : codes) {
                if (code < 200 || code > 299 || code == 204 || code == 205 || code == 206) {
                    throw invalid(PARAM_STATUSES, String.valueOf(code),
                            "statuses with a complete body: 200 to 299 except 204, 205 and 206");
                }
            }
            statuses = List.copyOf(codes);
            return this;
        }

        /** Smallest body, in bytes, that is transformed (default 32). */
        public Builder minBodySize(long bytes) {
            if (bytes < 0) {
                throw invalid(PARAM_MIN_BODY_SIZE, String.valueOf(bytes), "0 or more bytes");
            }
            minBodySize = bytes;
            return this;
        }

        /** Largest body, in bytes, that is buffered and transformed (default 8 MiB, at most 1 GiB). */
        public Builder maxBodySize(long bytes) {
            if (bytes < 1 || bytes > MAX_MAX_BODY_SIZE) {
                throw invalid(PARAM_MAX_BODY_SIZE, String.valueOf(bytes), "1 byte to 1GiB");
            }
            maxBodySize = bytes;
            return this;
        }

        /**
         * Largest image, in pixels (width × height × frames, read from the header), that is transformed (default
         * 50 million); larger ones are served as they are: decompression bombs never reach a program.
         */
        public Builder maxPixels(long pixels) {
            if (pixels < 1) {
                throw invalid(PARAM_MAX_PIXELS, String.valueOf(pixels), "a pixel count of 1 or more");
            }
            maxPixels = pixels;
            return this;
        }

        /**
         * Bytes of transformed bodies kept in memory, keyed by variant and the original body's SHA-256 (default
         * 32 MiB, at most 1 GiB); 0 turns the cache off.
         */
        public Builder cacheSize(long bytes) {
            if (bytes < 0 || bytes > MAX_MAX_BODY_SIZE) {
                throw invalid(PARAM_CACHE_SIZE, String.valueOf(bytes), "0 (off) to 1GiB");
            }
            cacheSize = bytes;
            return this;
        }

        /** Whether HEAD is answered as a transformed GET without body (default true). */
        public Builder headAsGet(boolean enabled) {
            headAsGet = enabled;
            return this;
        }

        /** Whether wildcards in Accept select negotiated variants (default false: they must be named). */
        public Builder variantsForWildcards(boolean enabled) {
            variantsForWildcards = enabled;
            return this;
        }

        /** Whether a transformed body must be smaller than the original (default true). */
        public Builder requireSmaller(boolean enabled) {
            requireSmaller = enabled;
            return this;
        }

        /** Name of the diagnostic header (default X-KVM-Transform); {@code none} or empty turns it off. */
        public Builder diagnosticHeader(String name) {
            String trimmed = name == null ? "" : name.trim();
            if (trimmed.isEmpty() || trimmed.equalsIgnoreCase("none")) {
                diagnosticHeader = Optional.empty();
            } else if (HEADER_NAME.matcher(trimmed).matches()) {
                diagnosticHeader = Optional.of(trimmed);
            } else {
                throw invalid(PARAM_DIAGNOSTIC_HEADER, name, "an HTTP header name (letters, digits, '-'), or none");
            }
            return this;
        }

        /** Program library JSON (file: or classpath: URI) merged over the bundled programs. */
        public Builder library(URI location) {
            String scheme = location.getScheme();
            if (scheme == null || !(scheme.equals("file") || scheme.equals("classpath"))) {
                throw invalid(PARAM_LIBRARY, location.toString(), "a file: or classpath: URI");
            }
            library = Optional.of(location);
            return this;
        }

        /** Overrides one setting of one program, as the VMOD's configure(). */
        public Builder programSetting(String program, String key, Object value) {
            if (!program.matches("[A-Za-z0-9_.-]+") || !key.matches("[A-Za-z0-9_]+")) {
                throw invalid(PARAM_PROGRAM_SETTINGS, program + "." + key,
                        "program.key with a program name and a setting name of letters, digits and '_'");
            }
            programSettings.computeIfAbsent(program, p -> new LinkedHashMap<>()).put(key, value);
            return this;
        }

        /** Longest run time of one program for one request; overrides the program library's value. */
        public Builder timeout(Duration duration) {
            timeout = Optional.of(positive(PARAM_TIMEOUT, duration));
            return this;
        }

        /** Longest wait for a free program instance; overrides the program library's value. */
        public Builder queueTimeout(Duration duration) {
            queueTimeout = Optional.of(positive(PARAM_QUEUE_TIMEOUT, duration));
            return this;
        }

        /**
         * Checks combinations and returns the immutable configuration.
         *
         * @throws IllegalArgumentException when minBodySize exceeds maxBodySize
         */
        public KvmFilterConfig build() {
            if (minBodySize > maxBodySize) {
                throw invalid(PARAM_MIN_BODY_SIZE, String.valueOf(minBodySize),
                        "at most maxBodySize (" + maxBodySize + ")");
            }
            return new KvmFilterConfig(this);
        }

        private void programSettings(String text) {
            for (String entry : text.split("[;\\n]")) {
                String trimmed = entry.trim();
                if (trimmed.isEmpty()) {
                    continue;
                }
                Matcher m = SETTING.matcher(trimmed);
                if (!m.matches()) {
                    throw invalid(PARAM_PROGRAM_SETTINGS, trimmed,
                            "entries 'program.key=value' separated by ';' or new lines");
                }
                programSetting(m.group(1), m.group(2), settingValue(m.group(3).trim()));
            }
        }

        private static Object settingValue(String text) {
            if (text.equals("true") || text.equals("false")) {
                return Boolean.valueOf(text);
            }
            if (text.matches("-?\\d{1,18}")) {
                return Long.valueOf(text);
            }
            if (text.matches("-?\\d+\\.\\d+")) {
                return Double.valueOf(text);
            }
            return text;
        }

        private static List<PathSpec> paths(String param, String[] specs) {
            List<PathSpec> parsed = new ArrayList<>();
            for (String spec : specs) {
                try {
                    parsed.add(PathSpec.parse(spec.trim()));
                } catch (IllegalArgumentException e) {
                    throw invalid(param, spec, e.getMessage());
                }
            }
            return parsed;
        }

        private static List<String> mimeTypes(String param, String[] types) {
            List<String> parsed = new ArrayList<>();
            for (String type : types) {
                String lower = type.trim().toLowerCase(Locale.ROOT);
                if (!MediaTypes.isValid(lower, true)) {
                    throw invalid(param, type, "media types type/subtype or type/*");
                }
                parsed.add(lower);
            }
            return parsed;
        }

        private static List<String> methods(String param, String[] methods) {
            List<String> parsed = new ArrayList<>();
            for (String method : methods) {
                String trimmed = method.trim();
                if (!METHOD.matcher(trimmed).matches()) {
                    throw invalid(param, method, "HTTP method names such as GET or HEAD");
                }
                parsed.add(trimmed.toUpperCase(Locale.ROOT));
            }
            return parsed;
        }

        private static Duration positive(String param, Duration duration) {
            if (duration.isNegative() || duration.isZero()) {
                throw invalid(param, duration.toString(), "a positive duration");
            }
            return duration;
        }

        private static List<String> list(String text) {
            List<String> items = new ArrayList<>();
            for (String item : text.split("[,\\s]+")) {
                if (!item.isEmpty()) {
                    items.add(item);
                }
            }
            return items;
        }

        private static List<Integer> parseStatuses(String text) {
            List<Integer> codes = new ArrayList<>();
            for (String item : list(text)) {
                try {
                    codes.add(Integer.parseInt(item));
                } catch (NumberFormatException e) {
                    throw invalid(PARAM_STATUSES, item, "status codes such as 200, separated by commas");
                }
            }
            return codes;
        }

        static long parseSize(String param, String text) {
            Matcher m = SIZE.matcher(text);
            if (!m.matches()) {
                throw invalid(param, text, "a byte count with an optional unit: 65536, 512KiB, 8MiB, 1GiB");
            }
            long unit = switch (m.group(2)) {
                case "KiB", "k", "K" -> 1024L;
                case "MiB", "M" -> 1024L * 1024;
                case "GiB", "G" -> 1024L * 1024 * 1024;
                default -> 1L;
            };
            try {
                return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
            } catch (ArithmeticException | NumberFormatException e) {
                throw invalid(param, text, "a byte count of at most 1GiB");
            }
        }

        static long parseCount(String param, String text) {
            try {
                return Long.parseLong(text.replace("_", ""));
            } catch (NumberFormatException e) {
                throw invalid(param, text, "a whole number such as 50000000");
            }
        }

        static Duration parseDuration(String param, String text) {
            Matcher m = DURATION.matcher(text);
            if (!m.matches()) {
                throw invalid(param, text, "a duration such as 500ms, 5s or 2m");
            }
            long amount;
            try {
                amount = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                throw invalid(param, text, "a duration such as 500ms, 5s or 2m");
            }
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                default -> Duration.ofMinutes(amount);
            };
        }

        static boolean parseBoolean(String param, String text) {
            if (text.equalsIgnoreCase("true")) {
                return true;
            }
            if (text.equalsIgnoreCase("false")) {
                return false;
            }
            throw invalid(param, text, "true or false");
        }

        private static URI parseUri(String text) {
            try {
                return new URI(text);
            } catch (URISyntaxException e) {
                throw invalid(PARAM_LIBRARY, text, "a file: or classpath: URI (" + e.getReason() + ")");
            }
        }

        static IllegalArgumentException invalid(String param, String value, String allowed) {
            return new IllegalArgumentException("kvmfilter parameter " + param + " = \"" + value
                    + "\" is not valid: " + allowed);
        }
    }
}
