package io.kvmfilter.filter;

import io.kvmfilter.store.ResultStore;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Immutable, validated configuration of one {@link KvmFilter} instance.
 *
 * <p>Built with {@link #builder()} for embedded use, or read from init-params, context-params and MicroProfile
 * Config by the filter's {@code init}. Every setter checks its value at once and throws
 * {@link InvalidParameterException} with a message naming the parameter, the value and what is allowed. The
 * parameter names are the {@code PARAM_*} constants; docs/configuration.md describes each one. The text form of
 * the values ({@code 8MiB}, {@code 500ms}) is {@link Builder#parameter(String, String)}'s.
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
    /** Bytes of transformed bodies kept in memory for reuse; 0 turns result storage off. */
    public static final String PARAM_CACHE_SIZE = "cacheSize";
    /** How long a stored result is served after it was made; {@code none} (default) for as long as it fits. */
    public static final String PARAM_CACHE_TIME_TO_LIVE = "cacheTimeToLive";
    /** How long a failure is answered with the original without running the program again; 0s turns it off. */
    public static final String PARAM_REMEMBER_FAILURES = "rememberFailures";
    /** Directory of the persistent result tier (survives restarts); none by default. */
    public static final String PARAM_CACHE_DIRECTORY = "cacheDirectory";
    /** The most bytes the persistent tier keeps in its directory. */
    public static final String PARAM_CACHE_DIRECTORY_SIZE = "cacheDirectorySize";
    /** JCache CachingProvider class of the shared tier, or {@code default} for the only one on the class path. */
    public static final String PARAM_SHARED_CACHE = "sharedCache";
    /** URI of the JCache provider's configuration file (Hazelcast, Infinispan, Redisson XML/YAML). */
    public static final String PARAM_SHARED_CACHE_CONFIG = "sharedCacheConfig";
    /** Name of the shared cache. */
    public static final String PARAM_SHARED_CACHE_NAME = "sharedCacheName";
    /** Largest result put into the shared cache; larger ones stay on the node. */
    public static final String PARAM_SHARED_CACHE_MAX_ENTRY_SIZE = "sharedCacheMaxEntrySize";
    /** How long a lookup waits for the shared cache before it counts as a miss. */
    public static final String PARAM_SHARED_CACHE_TIMEOUT = "sharedCacheTimeout";
    /** How long a node's claim on a cluster-wide conversion holds before another node may run it instead. */
    public static final String PARAM_SHARED_CACHE_CLAIM_TIME = "sharedCacheClaimTime";
    /** Requests that may wait for one variant's program beyond those running; more get the original at once. */
    public static final String PARAM_MAX_WAITERS = "maxWaiters";
    /** How long a request waits for a free instance or another request's run; then it gets the original. */
    public static final String PARAM_MAX_WAIT = "maxWait";
    /**
     * How long the request that starts a conversion waits for it; then it gets the original while the conversion
     * finishes in the background for the next requests (with a result store). Default: the programs' time limits.
     */
    public static final String PARAM_RUN_WAIT = "runWait";
    /** Consecutive failures or timeouts after which a variant is paused; 0 turns pausing off. */
    public static final String PARAM_PAUSE_AFTER_FAILURES = "pauseAfterFailures";
    /** How long a paused variant serves originals without running its programs. */
    public static final String PARAM_PAUSE_TIME = "pauseTime";
    /** Answer HEAD by running the transform as for GET and sending only the headers. */
    public static final String PARAM_HEAD_AS_GET = "headAsGet";
    /** Let {@code image/*} and {@code *}{@code /*} in Accept select negotiated variants. */
    public static final String PARAM_VARIANTS_FOR_WILDCARDS = "variantsForWildcards";
    /** Serve the original when a transformed body is not smaller than the original. */
    public static final String PARAM_REQUIRE_SMALLER = "requireSmaller";
    /** Answer the programs' self-requests (sys_request) from this web application. */
    public static final String PARAM_SELF_REQUESTS = "selfRequests";
    /** Name of the diagnostic response header, or {@code none}. */
    public static final String PARAM_DIAGNOSTIC_HEADER = "diagnosticHeader";
    /** Response headers a chain's last program may set on a transformed response (names, comma-separated). */
    public static final String PARAM_PROGRAM_HEADERS = "programHeaders";
    /** Location (file: or classpath: URI) of a program library JSON merged over the bundled programs. */
    public static final String PARAM_LIBRARY = "library";
    /** Per-program settings: {@code program.key=value} entries separated by ';' or new lines. */
    public static final String PARAM_PROGRAM_SETTINGS = "programSettings";
    /** Longest time one program may run for one request. */
    public static final String PARAM_TIMEOUT = "timeout";
    /** Longest time a request may wait for a free program instance. */
    public static final String PARAM_QUEUE_TIMEOUT = "queueTimeout";
    /** Path specs where image options in the URL's query ({@code ?w=320&fmt=auto}) choose what the image program makes. */
    public static final String PARAM_IMAGE_OPTIONS = "imageOptions";
    /**
     * The settings of option URLs through the filter: {@code imageMaxWidth}, {@code imageMaxHeight},
     * {@code imageMaxDpr}, {@code imageMaxPixels}, {@code imageFormats}, {@code imagePresets},
     * {@code imagePresetsOnly}, {@code imageSigningKeys}, {@code imageClientHints}, {@code imageSaveDataQuality}
     * (the image endpoint's init-params with a prefix).
     */
    public static final List<String> IMAGE_OPTION_SETTINGS = ImageOptionSettings.NAMES.stream()
            .map(name -> "image" + Character.toUpperCase(name.charAt(0)) + name.substring(1)).toList();

    /** Headers a program never sets on a transformed response: the container's and the filter's own. */
    static final Set<String> FILTER_OWNED_HEADERS = Set.of("content-length", "transfer-encoding", "connection",
            "keep-alive", "upgrade", "te", "trailer", "content-type", "content-encoding", "content-range",
            "content-location", "accept-ranges", "etag", "last-modified", "vary", "cache-control", "expires", "age",
            "date", "server", "set-cookie", "x-content-type-options", "location", "www-authenticate", "host");

    /** All parameter names, in documentation order. */
    public static final List<String> PARAMETERS = java.util.stream.Stream.concat(java.util.stream.Stream.of(PARAM_RULES, PARAM_INCLUDED_PATHS, PARAM_EXCLUDED_PATHS,
            PARAM_INCLUDED_MIME_TYPES, PARAM_EXCLUDED_MIME_TYPES, PARAM_INCLUDED_METHODS, PARAM_EXCLUDED_METHODS,
            PARAM_STATUSES, PARAM_MIN_BODY_SIZE, PARAM_MAX_BODY_SIZE, PARAM_MAX_PIXELS, PARAM_CACHE_SIZE,
            PARAM_CACHE_TIME_TO_LIVE, PARAM_REMEMBER_FAILURES, PARAM_CACHE_DIRECTORY, PARAM_CACHE_DIRECTORY_SIZE,
            PARAM_SHARED_CACHE, PARAM_SHARED_CACHE_CONFIG, PARAM_SHARED_CACHE_NAME, PARAM_SHARED_CACHE_MAX_ENTRY_SIZE,
            PARAM_SHARED_CACHE_TIMEOUT, PARAM_SHARED_CACHE_CLAIM_TIME, PARAM_HEAD_AS_GET,
            PARAM_VARIANTS_FOR_WILDCARDS, PARAM_REQUIRE_SMALLER, PARAM_SELF_REQUESTS, PARAM_DIAGNOSTIC_HEADER, PARAM_PROGRAM_HEADERS, PARAM_LIBRARY,
            PARAM_PROGRAM_SETTINGS, PARAM_TIMEOUT, PARAM_QUEUE_TIMEOUT, PARAM_MAX_WAITERS, PARAM_MAX_WAIT, PARAM_RUN_WAIT,
            PARAM_PAUSE_AFTER_FAILURES, PARAM_PAUSE_TIME, PARAM_IMAGE_OPTIONS), IMAGE_OPTION_SETTINGS.stream()).toList();

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
    /** Default of {@link #PARAM_CACHE_SIZE}: 32 MiB of transformed bodies, shared by the filters of a web app. */
    public static final long DEFAULT_CACHE_SIZE = 32L * 1024 * 1024;
    /** Default of {@link #PARAM_DIAGNOSTIC_HEADER}. */
    public static final String DEFAULT_DIAGNOSTIC_HEADER = "X-KVM-Transform";

    private static final Pattern METHOD = Pattern.compile("[A-Za-z!#$%&'*+.^_`|~0-9-]+");
    private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]+");

    private final String rulesText;
    private final List<Rule> rules;
    private final IncludeExclude<PathSpec> paths;
    private final IncludeExclude<String> mimeTypes;
    private final IncludeExclude<String> methods;
    private final Set<String> includedMethods;
    private final Set<Integer> statuses;
    private final long minBodySize;
    private final long maxBodySize;
    private final long maxPixels;
    private final ResultStorage storage;
    private final OverloadLimits overload;
    private final boolean headAsGet;
    private final boolean variantsForWildcards;
    private final boolean requireSmaller;
    private final boolean selfRequests;
    private final Optional<String> diagnosticHeader;
    private final Set<String> programHeaders;
    private final Optional<URI> library;
    private final Map<String, Map<String, Object>> programSettings;
    private final Optional<Duration> timeout;
    private final Optional<Duration> queueTimeout;
    private final Optional<FilterImageOptions> imageOptions;

    private KvmFilterConfig(Builder b) {
        rulesText = b.rulesText;
        rules = List.copyOf(b.rules);
        paths = new IncludeExclude<>(b.includedPaths, b.excludedPaths, PathSpec::matches);
        mimeTypes = new IncludeExclude<>(distinct(b.includedMimeTypes), distinct(b.excludedMimeTypes),
                MediaTypes::matches);
        methods = new IncludeExclude<>(distinct(b.includedMethods), distinct(b.excludedMethods), String::equals);
        includedMethods = Collections.unmodifiableSet(new LinkedHashSet<>(b.includedMethods));
        statuses = Collections.unmodifiableSet(new LinkedHashSet<>(b.statuses));
        minBodySize = b.minBodySize;
        maxBodySize = b.maxBodySize;
        maxPixels = b.maxPixels;
        storage = new ResultStorage(b.cacheSize, b.cacheTimeToLive, b.rememberFailures, b.cacheDirectory,
                b.cacheDirectorySize, b.sharedCache, b.sharedCacheConfig, b.sharedCacheName,
                b.sharedCacheMaxEntrySize, b.sharedCacheTimeout, b.sharedCacheClaimTime, b.sharedOpener);
        overload = new OverloadLimits(b.maxWaiters, b.maxWait, b.pauseAfterFailures, b.pauseTime, b.runWait);
        headAsGet = b.headAsGet;
        variantsForWildcards = b.variantsForWildcards;
        requireSmaller = b.requireSmaller;
        selfRequests = b.selfRequests;
        diagnosticHeader = b.diagnosticHeader;
        programHeaders = Set.copyOf(b.programHeaders);
        library = b.library;
        Map<String, Map<String, Object>> settings = new LinkedHashMap<>();
        b.programSettings.forEach((program, values) -> settings.put(program, Map.copyOf(values)));
        programSettings = Collections.unmodifiableMap(settings);
        timeout = b.timeout;
        queueTimeout = b.queueTimeout;
        imageOptions = b.imageOptions;
    }

    private static <T> List<T> distinct(List<T> items) {
        return new ArrayList<>(new LinkedHashSet<>(items));
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

    /** Bytes of transformed bodies kept in memory for reuse (0: no result storage). */
    public long cacheSize() {
        return storage.memoryBytes();
    }

    /** The result store's settings. */
    ResultStorage storage() {
        return storage;
    }

    /** The waiting lines' and pauses' limits. */
    OverloadLimits overload() {
        return overload;
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

    /** Whether the programs' self-requests are answered by the web application (false: refused). */
    public boolean selfRequests() {
        return selfRequests;
    }

    /** Name of the diagnostic header, empty when turned off. */
    public Optional<String> diagnosticHeader() {
        return diagnosticHeader;
    }

    /**
     * @return the response headers (lower-case names) a chain's last program may set on a transformed response;
     *     empty by default: programs' headers reach clients only through ProgramServlet
     */
    public Set<String> programHeaders() {
        return programHeaders;
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

    /** Option URLs through the filter, when {@code imageOptions} names paths. */
    Optional<FilterImageOptions> imageOptions() {
        return imageOptions;
    }

    /** Program names the rules refer to, and the image program for option URLs. */
    Set<String> programsUsed() {
        Set<String> names = new LinkedHashSet<>();
        for (Rule rule : rules) {
            for (Variant variant : rule.variants()) {
                variant.steps().forEach(step -> names.add(step.program()));
            }
        }
        imageOptions.ifPresent(options -> names.add(FilterImageOptions.PROGRAM));
        return names;
    }

    /** Is this method transformed? (excluded list wins) */
    boolean methodIncluded(String method) {
        return methods.test(method.toUpperCase(Locale.ROOT));
    }

    /** Is this path (inside the web application) transformed? (excluded list wins) */
    boolean pathIncluded(String path) {
        return paths.test(path);
    }

    /** Is this lower-case base media type transformed? (excluded list wins) */
    boolean mimeTypeIncluded(String mediaType) {
        return mimeTypes.test(mediaType);
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
        return "KvmFilterConfig{rules=" + rules + ", includedPaths=" + paths.included() + ", excludedPaths="
                + paths.excluded() + ", includedMimeTypes=" + mimeTypes.included() + ", excludedMimeTypes="
                + mimeTypes.excluded() + ", includedMethods=" + methods.included() + ", excludedMethods="
                + methods.excluded() + ", statuses=" + statuses + ", minBodySize=" + minBodySize + ", maxBodySize="
                + maxBodySize + ", maxPixels=" + maxPixels + ", storage=" + storage + ", " + overload
                + ", headAsGet=" + headAsGet
                + ", variantsForWildcards=" + variantsForWildcards
                + ", requireSmaller=" + requireSmaller + ", selfRequests=" + selfRequests + ", diagnosticHeader=" + diagnosticHeader.orElse("none")
                + ", programHeaders=" + new java.util.TreeSet<>(programHeaders)
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
        private Optional<Duration> cacheTimeToLive = Optional.empty();
        private Duration rememberFailures = ResultStorage.DEFAULT_FAILURE_TIME;
        private Optional<Path> cacheDirectory = Optional.empty();
        private long cacheDirectorySize = ResultStorage.DEFAULT_DIRECTORY_BYTES;
        private Optional<String> sharedCache = Optional.empty();
        private Optional<URI> sharedCacheConfig = Optional.empty();
        private String sharedCacheName = ResultStorage.DEFAULT_SHARED_NAME;
        private long sharedCacheMaxEntrySize = ResultStorage.DEFAULT_SHARED_MAX_ENTRY;
        private Duration sharedCacheTimeout = ResultStorage.DEFAULT_SHARED_TIMEOUT;
        private Duration sharedCacheClaimTime = ResultStore.Builder.DEFAULT_CLAIM_TIME;
        private Optional<ResultStore.SharedCacheOpener> sharedOpener = Optional.empty();
        private int maxWaiters = OverloadLimits.DEFAULT_MAX_WAITERS;
        private Duration maxWait = OverloadLimits.DEFAULT_MAX_WAIT;
        private int pauseAfterFailures = OverloadLimits.DEFAULT_PAUSE_AFTER_FAILURES;
        private Duration pauseTime = OverloadLimits.DEFAULT_PAUSE_TIME;
        private Duration runWait;
        private boolean headAsGet = true;
        private boolean variantsForWildcards;
        private boolean requireSmaller = true;
        private boolean selfRequests;
        private Optional<String> diagnosticHeader = Optional.of(DEFAULT_DIAGNOSTIC_HEADER);
        private final Set<String> programHeaders = new java.util.HashSet<>();
        private Optional<URI> library = Optional.empty();
        private final Map<String, Map<String, Object>> programSettings = new LinkedHashMap<>();
        private Optional<Duration> timeout = Optional.empty();
        private Optional<Duration> queueTimeout = Optional.empty();
        private List<PathSpec> imageOptionPaths = List.of();
        private final Map<String, String> imageOptionSettings = new LinkedHashMap<>();
        private Optional<FilterImageOptions> imageOptions = Optional.empty();

        private Builder() {
        }

        /**
         * Sets a parameter from its text form, as in web.xml: sizes with units ({@code 512KiB}, {@code 8MiB}),
         * durations ({@code 500ms}, {@code 5s}, {@code 2m}), lists separated by commas or spaces,
         * {@code program.key=value} entries for {@code programSettings} (see docs/configuration.md).
         *
         * @param name  one of {@link #PARAMETERS}
         * @param value the text value
         * @throws IllegalArgumentException for an unknown name; {@link InvalidParameterException} naming the
         *                                  parameter, the value and what is allowed
         */
        public Builder parameter(String name, String value) {
            KvmFilterSpec.apply(this, name, value);
            return this;
        }

        /**
         * Sets the rules (see docs/configuration.md), e.g.
         * {@code image/jpeg, image/png -> image/avif: avif, image/webp: webp}.
         *
         * @throws InvalidParameterException naming the rule and what is wrong
         */
        public Builder rules(String text) {
            List<Rule> parsed;
            try {
                parsed = RuleParser.parse(text);
            } catch (IllegalArgumentException e) {
                throw new InvalidParameterException(PARAM_RULES, text, e.getMessage());
            }
            if (parsed.isEmpty()) {
                throw new InvalidParameterException(PARAM_RULES, text, "at least one rule 'types -> variant, ...' is required");
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

        /**
         * Path specs where image options in the query choose what the bundled image program makes (see
         * docs/configuration.md, "Option URLs through the filter"); none by default.
         */
        public Builder imageOptions(String... specs) {
            imageOptionPaths = paths(PARAM_IMAGE_OPTIONS, specs);
            return this;
        }

        /**
         * One setting of option URLs through the filter.
         *
         * @param name one of {@link #IMAGE_OPTION_SETTINGS}, e.g. {@code imagePresets}
         */
        public Builder imageOptionSetting(String name, String value) {
            if (!IMAGE_OPTION_SETTINGS.contains(name)) {
                throw new IllegalArgumentException("unknown image option setting '" + name + "': allowed are "
                        + String.join(", ", IMAGE_OPTION_SETTINGS));
            }
            imageOptionSettings.put(Character.toLowerCase(name.charAt(5)) + name.substring(6), value);
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
                throw new InvalidParameterException(PARAM_STATUSES, "", "at least one status code is required");
            }
            for (int code : codes) {
                if (code < 200 || code > 299 || code == 204 || code == 205 || code == 206) {
                    throw new InvalidParameterException(PARAM_STATUSES, String.valueOf(code),
                            "statuses with a complete body: 200 to 299 except 204, 205 and 206");
                }
            }
            statuses = List.copyOf(codes);
            return this;
        }

        /** Smallest body, in bytes, that is transformed (default 32). */
        public Builder minBodySize(long bytes) {
            if (bytes < 0) {
                throw new InvalidParameterException(PARAM_MIN_BODY_SIZE, String.valueOf(bytes), "0 or more bytes");
            }
            minBodySize = bytes;
            return this;
        }

        /** Largest body, in bytes, that is buffered and transformed (default 8 MiB, at most 1 GiB). */
        public Builder maxBodySize(long bytes) {
            if (bytes < 1 || bytes > MAX_MAX_BODY_SIZE) {
                throw new InvalidParameterException(PARAM_MAX_BODY_SIZE, String.valueOf(bytes), "1 byte to 1GiB");
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
                throw new InvalidParameterException(PARAM_MAX_PIXELS, String.valueOf(pixels), "a pixel count of 1 or more");
            }
            maxPixels = pixels;
            return this;
        }

        /**
         * Bytes of transformed bodies kept in memory (default 32 MiB, at most 1 GiB); 0 turns result storage off
         * (no memory, disk or shared tier, no remembered failures). Results are keyed by everything the programs
         * receive (docs/configuration.md, "Result storage").
         */
        public Builder cacheSize(long bytes) {
            if (bytes < 0 || bytes > MAX_MAX_BODY_SIZE) {
                throw new InvalidParameterException(PARAM_CACHE_SIZE, String.valueOf(bytes), "0 (off) to 1GiB");
            }
            cacheSize = bytes;
            return this;
        }

        /** How long a stored result is served after it was made (default: as long as it fits); null for that. */
        public Builder cacheTimeToLive(Duration ttl) {
            cacheTimeToLive = ttl == null ? Optional.empty() : Optional.of(positive(PARAM_CACHE_TIME_TO_LIVE, ttl));
            return this;
        }

        /** How long a failure is answered with the original without running again (default 60 s); zero: never. */
        public Builder rememberFailures(Duration time) {
            if (time.isNegative()) {
                throw new InvalidParameterException(PARAM_REMEMBER_FAILURES, time.toString(), "0s or more");
            }
            rememberFailures = time;
            return this;
        }

        /**
         * The persistent tier: results kept in files of this directory (created if absent), surviving restarts,
         * at most {@code bytes} of them (default 1 GiB). One store per directory.
         */
        public Builder cacheDirectory(Path dir) {
            cacheDirectory = Optional.of(dir.toAbsolutePath().normalize());
            return this;
        }

        /** The most bytes of files in the cache directory (default 1 GiB, at most 1 TiB). */
        public Builder cacheDirectorySize(long bytes) {
            if (bytes < 1 || bytes > (1L << 40)) {
                throw new InvalidParameterException(PARAM_CACHE_DIRECTORY_SIZE, String.valueOf(bytes), "1 byte to 1024GiB");
            }
            cacheDirectorySize = bytes;
            return this;
        }

        /**
         * The shared tier through JCache: a CachingProvider class name ({@code default}: the only provider on the
         * class path; {@code none}: no shared tier), its configuration file (null: its default) and the cache's name.
         */
        public Builder sharedCache(String provider, URI config, String cacheName) {
            String p = provider == null ? "" : provider.trim();
            if (p.isEmpty() || p.equalsIgnoreCase("none")) {
                sharedCache = Optional.empty();
            } else if (p.equalsIgnoreCase("default") || p.matches("[A-Za-z_$][A-Za-z0-9_$.]*")) {
                sharedCache = Optional.of(p);
            } else {
                throw new InvalidParameterException(PARAM_SHARED_CACHE, provider,
                        "a JCache CachingProvider class name, default or none");
            }
            sharedCacheConfig = Optional.ofNullable(config);
            if (cacheName != null) {
                if (!cacheName.matches("[A-Za-z0-9_.:-]+")) {
                    throw new InvalidParameterException(PARAM_SHARED_CACHE_NAME, cacheName,
                            "a cache name of letters, digits, '_', '.', ':' and '-'");
                }
                sharedCacheName = cacheName;
            }
            return this;
        }

        /** A shared cache opened by the application itself (an embedded Hazelcast member, say). */
        public Builder sharedCache(ResultStore.SharedCacheOpener opener) {
            sharedOpener = Optional.of(opener);
            return this;
        }

        /** Limits of the shared tier: the largest entry (default 8 MiB) and the wait for it (default 250 ms). */
        public Builder sharedCacheLimits(long maxEntryBytes, Duration timeout) {
            if (maxEntryBytes < 1 || maxEntryBytes > MAX_MAX_BODY_SIZE) {
                throw new InvalidParameterException(PARAM_SHARED_CACHE_MAX_ENTRY_SIZE, String.valueOf(maxEntryBytes),
                        "1 byte to 1GiB");
            }
            sharedCacheMaxEntrySize = maxEntryBytes;
            sharedCacheTimeout = positive(PARAM_SHARED_CACHE_TIMEOUT, timeout);
            return this;
        }

        /**
         * How long a node's claim on a conversion holds for the cluster (default 30 s): the other nodes wait for
         * its result instead of running the program, and run it themselves once the claim has lapsed (a node
         * that died or hangs). Longer than the slowest conversion, so that no two nodes run the same one.
         */
        public Builder sharedCacheClaimTime(Duration time) {
            sharedCacheClaimTime = positive(PARAM_SHARED_CACHE_CLAIM_TIME, time);
            return this;
        }

        /** Requests that may wait for one variant beyond those running (default 16); 0: none wait. */
        public Builder maxWaiters(int waiters) {
            if (waiters < 0 || waiters > 100_000) {
                throw new InvalidParameterException(PARAM_MAX_WAITERS, String.valueOf(waiters), "0 to 100000");
            }
            maxWaiters = waiters;
            return this;
        }

        /** How long a request waits for a free instance or another request's run (default 1 s). */
        public Builder maxWait(Duration wait) {
            maxWait = positive(PARAM_MAX_WAIT, wait);
            return this;
        }

        /**
         * How long the request that starts a conversion waits for it before it gets the original, the conversion
         * going on in the background and its result stored for the next requests (default: the programs' own time
         * limits, so the first client gets the conversion). Needs the result store.
         */
        public Builder runWait(Duration wait) {
            runWait = positive(PARAM_RUN_WAIT, wait);
            return this;
        }

        /** Consecutive failures or timeouts that pause a variant (default 5; 0 never pauses) and for how long. */
        public Builder pauseAfterFailures(int failures, Duration time) {
            if (failures < 0 || failures > 1_000_000) {
                throw new InvalidParameterException(PARAM_PAUSE_AFTER_FAILURES, String.valueOf(failures),
                        "0 (never pause) to 1000000");
            }
            pauseAfterFailures = failures;
            pauseTime = positive(PARAM_PAUSE_TIME, time);
            return this;
        }

        // The current values of settings given in pairs, for the text form that sets one of a pair at a time.

        String sharedCacheValue() {
            return sharedCache.orElse(null);
        }

        URI sharedCacheConfigValue() {
            return sharedCacheConfig.orElse(null);
        }

        String sharedCacheNameValue() {
            return sharedCacheName;
        }

        long sharedCacheMaxEntrySizeValue() {
            return sharedCacheMaxEntrySize;
        }

        Duration sharedCacheTimeoutValue() {
            return sharedCacheTimeout;
        }

        int pauseAfterFailuresValue() {
            return pauseAfterFailures;
        }

        Duration pauseTimeValue() {
            return pauseTime;
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

        /**
         * Whether the programs' self-requests (sys_request) are answered by the web application, forwarded through
         * its RequestDispatcher on the request's thread (default false: refused with -EPERM). Results made with
         * self-requests are not kept in the result store.
         */
        public Builder selfRequests(boolean enabled) {
            selfRequests = enabled;
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
                throw new InvalidParameterException(PARAM_DIAGNOSTIC_HEADER, name, "an HTTP header name (letters, digits, '-'), or none");
            }
            return this;
        }

        /**
         * Response headers a chain's last program may set on a transformed response, e.g. {@code Link}; never the
         * framing, hop-by-hop, caching and validator headers the container and the filter set, nor Set-Cookie
         * (a stored result is served to everyone).
         *
         * @throws InvalidParameterException naming a header that is not allowed and why
         */
        public Builder programHeaders(String... names) {
            for (String name : names) {
                String trimmed = name.trim();
                String lower = trimmed.toLowerCase(java.util.Locale.ROOT);
                if (!HEADER_NAME.matcher(trimmed).matches()) {
                    throw new InvalidParameterException(PARAM_PROGRAM_HEADERS, name, "HTTP header names (letters, "
                            + "digits, '-') separated by commas");
                }
                if (FILTER_OWNED_HEADERS.contains(lower) || lower.startsWith("proxy-")
                        || diagnosticHeader.map(d -> d.equalsIgnoreCase(trimmed)).orElse(false)) {
                    throw new InvalidParameterException(PARAM_PROGRAM_HEADERS, name, "header names a program may set: "
                            + trimmed + " is set by the container or the filter (framing, hop-by-hop, content type, "
                            + "caching, validators, Set-Cookie, the diagnostic header)");
                }
                programHeaders.add(lower);
            }
            return this;
        }

        /** Program library JSON (file: or classpath: URI) merged over the bundled programs. */
        public Builder library(URI location) {
            String scheme = location.getScheme();
            if (scheme == null || !(scheme.equals("file") || scheme.equals("classpath"))) {
                throw new InvalidParameterException(PARAM_LIBRARY, location.toString(), "a file: or classpath: URI");
            }
            library = Optional.of(location);
            return this;
        }

        /** Overrides one setting of one program, as the VMOD's configure(). */
        public Builder programSetting(String program, String key, Object value) {
            if (!program.matches("[A-Za-z0-9_.-]+") || !key.matches("[A-Za-z0-9_]+")) {
                throw new InvalidParameterException(PARAM_PROGRAM_SETTINGS, program + "." + key,
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
                throw new InvalidParameterException(PARAM_MIN_BODY_SIZE, String.valueOf(minBodySize),
                        "at most maxBodySize (" + maxBodySize + ")");
            }
            imageOptions = Optional.empty();
            if (!imageOptionPaths.isEmpty()) {
                try {
                    imageOptions = Optional.of(new FilterImageOptions(imageOptionPaths, ImageOptionSettings.of(
                            imageOptionSettings::get, name -> "image" + Character.toUpperCase(name.charAt(0))
                                    + name.substring(1))));
                } catch (IllegalArgumentException e) {
                    throw new InvalidParameterException(PARAM_IMAGE_OPTIONS, imageOptionPaths.toString(),
                            e.getMessage());
                }
            } else if (!imageOptionSettings.isEmpty()) {
                String first = imageOptionSettings.keySet().iterator().next();
                throw new InvalidParameterException("image" + Character.toUpperCase(first.charAt(0))
                        + first.substring(1), imageOptionSettings.get(first), "it needs imageOptions, the paths"
                        + " where option URLs are taken");
            }
            return new KvmFilterConfig(this);
        }

        private static List<PathSpec> paths(String param, String[] specs) {
            List<PathSpec> parsed = new ArrayList<>();
            for (String spec : specs) {
                try {
                    parsed.add(PathSpec.parse(spec.trim()));
                } catch (IllegalArgumentException e) {
                    throw new InvalidParameterException(param, spec, e.getMessage());
                }
            }
            return parsed;
        }

        private static List<String> mimeTypes(String param, String[] types) {
            List<String> parsed = new ArrayList<>();
            for (String type : types) {
                String lower = type.trim().toLowerCase(Locale.ROOT);
                if (!MediaTypes.isValid(lower, true)) {
                    throw new InvalidParameterException(param, type, "media types type/subtype or type/*");
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
                    throw new InvalidParameterException(param, method, "HTTP method names such as GET or HEAD");
                }
                parsed.add(trimmed.toUpperCase(Locale.ROOT));
            }
            return parsed;
        }

        private static Duration positive(String param, Duration duration) {
            if (duration.isNegative() || duration.isZero()) {
                throw new InvalidParameterException(param, duration.toString(), "a positive duration");
            }
            return duration;
        }
    }
}
