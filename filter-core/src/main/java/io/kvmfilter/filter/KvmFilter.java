package io.kvmfilter.filter;

import io.kvmfilter.kvm.KvmConfigurationException;
import io.kvmfilter.kvm.KvmUnavailableException;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.store.BodyDigests;
import io.kvmfilter.store.ResultStore;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import java.util.regex.Pattern;

/**
 * A Jakarta Servlet filter that pipes response bodies through chains of sandboxed programs: WebP/AVIF conversion
 * negotiated through {@code Accept}, minification, or any program of the program library.
 *
 * <p>The response is buffered (up to {@code maxBodySize}; beyond, it streams through untransformed), the
 * variant is chosen, the program chain runs, and the result is written with a fresh Content-Length, a
 * per-variant ETag, {@code Vary: Accept} and {@code Accept-Ranges: none}. Any failure of a program serves the
 * original body and headers; the diagnostic header ({@code X-KVM-Transform} by default) says what happened:
 * {@code applied=webp}, {@code fallback=webp:timeout}, {@code skipped=too-large}.
 *
 * <p>Map it for the {@code REQUEST} and {@code ASYNC} dispatcher types with {@code asyncSupported=true}; do not
 * map it for {@code ERROR}. Configuration: init-params, context-params ({@code kvmfilter.} prefix) and
 * MicroProfile Config, or {@link #KvmFilter(KvmFilterConfig)} for embedded use; see docs/configuration.md.
 * An invalid configuration fails {@link #init(FilterConfig)} with a message naming the parameter.
 */
public class KvmFilter implements Filter {

    private static final System.Logger LOG = System.getLogger(KvmFilter.class.getName());
    /** Numbers filter instances: their request attributes and sandbox (JMX) names must differ. */
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final KvmFilterConfig givenConfig;
    private final BodyTransform givenTransform;
    private final int number = INSTANCES.incrementAndGet();
    private final String attributeName = FilterCall.ATTRIBUTE_PREFIX + number;
    private final TransformStats stats = new TransformStats();

    // Set by init(), read by request threads.
    private volatile KvmFilterConfig config;
    private volatile FilterServices services;
    private volatile KvmTransform sandbox;
    private volatile ServletContext servletContext;
    private volatile String registryKey;
    private volatile ResultStore storeInUse;

    /** Runs of one variant at once for a transform given in code, which has no program library to say. */
    static final int DEFAULT_PERMITS = 4;

    /** What KvmStatsServlet reports for this filter. */
    private final StatsRegistry.Source statsSource = new StatsRegistry.Source() {
        @Override
        public Map<String, Long> counters() {
            return KvmFilter.this.counters();
        }

        @Override
        public Optional<String> statsJson() {
            KvmTransform started = sandbox;
            return started == null ? Optional.empty() : Optional.of(started.statsJson(".*", 2));
        }

        @Override
        public Optional<String> storeJson() {
            FilterServices started = services;
            return started == null ? Optional.empty() : Optional.of(StoreStatistics.json(started.runner()));
        }

        @Override
        public int invalidate(Pattern programNames) {
            KvmTransform started = sandbox;
            return started == null ? 0 : started.invalidate(programNames);
        }
    };

    /** A filter configured by init-params, context-params and MicroProfile Config (for web.xml). */
    public KvmFilter() {
        this(null, null);
    }

    /**
     * A filter with programmatic configuration (embedded servers); parameters in web.xml are then ignored.
     *
     * @param config the configuration, built with {@link KvmFilterConfig#builder()}
     */
    public KvmFilter(KvmFilterConfig config) {
        this(Objects.requireNonNull(config, "config"), null);
    }

    /** A filter with its own transform: lets the servlet mechanics be tested without the sandbox. */
    KvmFilter(KvmFilterConfig config, BodyTransform transform) {
        this.givenConfig = config;
        this.givenTransform = transform;
        this.config = config;
    }

    /**
     * Reads and freezes the configuration and starts the program library.
     *
     * @throws ServletException when a parameter is invalid (naming it, its value and what is allowed) or the
     *                          program library cannot be loaded
     */
    @Override
    public void init(FilterConfig filterConfig) throws ServletException {
        KvmFilterConfig effective = givenConfig;
        if (effective == null) {
            try {
                effective = new ParameterSource(filterConfig).read();
            } catch (IllegalArgumentException e) {
                throw new ServletException("KvmFilter '" + filterConfig.getFilterName() + "': " + e.getMessage(), e);
            }
        }
        config = effective;
        String filterName = filterConfig.getFilterName();
        ServletContext context = filterConfig.getServletContext();
        ProgramLibrary library = null;
        if (givenTransform == null) {
            try {
                library = ProgramLibraries.of(effective);
            } catch (IllegalArgumentException e) {
                throw new ServletException("KvmFilter '" + filterName + "': " + e.getMessage(), e);
            }
        }
        BodyTransform transform = givenTransform != null ? givenTransform
                : startSandbox(library, filterName, context);
        services = new FilterServices(effective, startRunner(effective, library, transform, filterName, context),
                stats, new java.util.concurrent.Semaphore(FilterServices.SELF_REQUEST_CONCURRENCY));
        servletContext = context;
        registryKey = "filter:" + filterConfig.getFilterName();
        StatsRegistry.register(servletContext, registryKey, statsSource);
        stats.publishAs(SandboxNames.of(context, filterName));
        LOG.log(Level.INFO, "kvmfilter: filter {0} started with {1}", filterConfig.getFilterName(), effective);
    }

    /**
     * Loads the program library and starts the sandbox. When KVM is not usable here the filter still runs and
     * serves every original (with {@code fallback=<variant>:unavailable}), so an application keeps working.
     */
    private BodyTransform startSandbox(ProgramLibrary library, String filterName, ServletContext context)
            throws ServletException {
        // The name is JVM-wide (JMX), while `number` counts per web application (each has its own class
        // loader): the context path keeps two applications' filters of the same name apart.
        String name = "filter-" + SandboxNames.of(context, filterName) + "-" + number;
        try {
            KvmTransform started = KvmTransform.start(library, name, config.programHeaders());
            sandbox = started;
            return started;
        } catch (KvmUnavailableException e) {
            LOG.log(Level.WARNING, "kvmfilter: filter {0}: the sandbox is not available, every response is served"
                    + " untransformed: {1}", filterName, e.getMessage());
            return new UnavailableTransform(e.getMessage());
        } catch (KvmConfigurationException e) {
            throw new ServletException("KvmFilter '" + filterName + "': " + e.getMessage(), e);
        }
    }

    /**
     * The result store (shared with the application's other filters of the same settings) and the waiting lines.
     * A transform given in code has no library: its results are keyed by program name and URL.
     */
    private TransformRunner startRunner(KvmFilterConfig effective, ProgramLibrary library, BodyTransform transform,
            String filterName, ServletContext context) throws ServletException {
        ResultStorage storage = effective.storage();
        ResultStore store = null;
        if (storage.enabled()) {
            try {
                store = SharedResultStores.acquire(context, storage, SandboxNames.of(context, filterName));
            } catch (IllegalArgumentException e) {
                throw new ServletException("KvmFilter '" + filterName + "': " + KvmFilterConfig.PARAM_CACHE_DIRECTORY
                        + ": " + e.getMessage(), e);
            }
        }
        BodyDigests digests = new BodyDigests(BodyDigests.DEFAULT_MAX_ENTRIES);
        ResultKeys keys = library == null ? new ResultKeys(Map.of(), Set.of(), digests)
                : ResultKeys.of(library, effective.programsUsed(), digests, effective.imageOptions()
                        .flatMap(FilterImageOptions::watermark)
                        .map(mark -> Map.of(Watermark.PROGRAM, "watermark=sha256:" + mark.sha256())).orElse(Map.of()));
        ProgramLibrary programs = library;
        ToIntFunction<Variant> permits = programs == null ? variant -> DEFAULT_PERMITS
                : variant -> variant.steps().stream().mapToInt(step -> programs.program(step.program()).concurrency())
                        .min().orElse(1);
        storeInUse = store;
        return new TransformRunner(transform, store, keys, effective.overload(), permits,
                SandboxNames.of(context, filterName), storage.failureTime());
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
            throws IOException, ServletException {
        // Is this HTTP at all?
        if (!(req instanceof HttpServletRequest) || !(res instanceof HttpServletResponse)) {
            chain.doFilter(req, res);
            return;
        }
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        // Is this an error page dispatch? The container writes those; they are not ours to transform.
        if (request.getDispatcherType() == DispatcherType.ERROR) {
            chain.doFilter(req, res);
            return;
        }
        // Is this a request we already wrap, dispatched again (async dispatch, forward, include)?
        Object existing = request.getAttribute(attributeName);
        if (existing instanceof FilterCall call) {
            redispatch(call, request, response, chain);
            return;
        }
        FilterServices started = services;
        if (started == null) {
            throw new ServletException("KvmFilter used before init()");
        }
        KvmFilterConfig cfg = started.config();
        // Is the method one we transform? HEAD only when it is answered as GET.
        String method = request.getMethod();
        if (!cfg.methodIncluded(method) || ("HEAD".equals(method) && !cfg.headAsGet())) {
            debug(request, () -> "method " + method + " is not transformed");
            chain.doFilter(req, res);
            return;
        }
        // Is the path included and not excluded?
        String path = pathOf(request);
        if (!cfg.pathIncluded(path)) {
            debug(request, () -> "path " + path + " is not included or is excluded");
            chain.doFilter(req, res);
            return;
        }
        // Has something before us already committed the response?
        if (response.isCommitted()) {
            debug(request, () -> "response already committed");
            chain.doFilter(req, res);
            return;
        }
        run(new FilterCall(started, request, response, path, attributeName), chain);
    }

    private void run(FilterCall call, FilterChain chain) throws IOException, ServletException {
        try {
            chain.doFilter(call.request(), call.response());
        } catch (IOException | ServletException | RuntimeException | Error e) {
            call.abandon();
            throw e;
        }
        // Asynchronous: the response is finished by AsyncContext.complete() or after the ASYNC dispatch.
        if (!call.request().isAsyncStarted()) {
            call.finishAtChainEnd();
        }
    }

    private void redispatch(FilterCall call, HttpServletRequest request, HttpServletResponse response,
            FilterChain chain) throws IOException, ServletException {
        if (request.getDispatcherType() == DispatcherType.ASYNC) {
            // Containers may hand us the unwrapped objects again: keep writing into our buffer.
            run(call, chain);
        } else {
            chain.doFilter(request, response);
        }
    }

    private static String pathOf(HttpServletRequest request) {
        String servletPath = request.getServletPath();
        String pathInfo = request.getPathInfo();
        String path = (servletPath == null ? "" : servletPath) + (pathInfo == null ? "" : pathInfo);
        return path.isEmpty() ? "/" : path;
    }

    /** The message is built only when DEBUG is on: every request not transformed passes here. */
    private static void debug(HttpServletRequest request, Supplier<String> reason) {
        if (LOG.isLoggable(Level.DEBUG)) {
            LOG.log(Level.DEBUG, "kvmfilter: " + LogText.escape(request.getMethod() + " " + request.getRequestURI()
                    + ": " + reason.get()));
        }
    }

    /** Stops the sandbox and its program instances. */
    @Override
    public void destroy() {
        StatsRegistry.unregister(servletContext, registryKey, statsSource);
        FilterServices running = services;
        if (running != null) {
            running.runner().close();
            ResultStore store = storeInUse;
            storeInUse = null;
            if (store != null) {
                SharedResultStores.release(servletContext, running.config().storage(), store);
            }
        }
        KvmTransform started = sandbox;
        sandbox = null;
        if (started != null) {
            started.close();
        }
    }

    /** True when programs run in the sandbox; false when KVM is unavailable and originals are served. */
    public boolean sandboxRunning() {
        return sandbox != null;
    }

    /** The frozen configuration (null before init when constructed for web.xml). */
    public KvmFilterConfig config() {
        return config;
    }

    /**
     * Counters of what the filter did, by outcome: {@code applied=webp}, {@code fallback=webp:timeout},
     * {@code skipped=too-large}.
     */
    public Map<String, Long> counters() {
        return stats.snapshot();
    }
}
