package io.kvmfilter.example.jetty;

import io.kvmfilter.filter.ImageOptionSettings;
import io.kvmfilter.filter.ImageServlet;
import io.kvmfilter.filter.JsonLogFormatter;
import io.kvmfilter.filter.KvmFilter;
import io.kvmfilter.filter.KvmFilterConfig;
import io.kvmfilter.filter.KvmStatsServlet;
import io.kvmfilter.filter.ProgramServlet;
import io.kvmfilter.filter.UrlSigner;
import io.kvmfilter.store.ResultStore;
import jakarta.servlet.DispatcherType;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogManager;

import org.eclipse.jetty.ee10.proxy.ProxyServlet;
import org.eclipse.jetty.ee10.servlet.DefaultServlet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ResourceServlet;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.ee10.servlet.ServletMapping;
import org.eclipse.jetty.server.AllowedResourceAliasChecker;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.resource.Resource;
import org.eclipse.jetty.util.resource.ResourceFactory;

/**
 * The demo server: embedded Jetty 12 serving the files of one directory on the loopback interface through
 * {@link KvmFilter}: JPEG, PNG and GIF images are converted to AVIF or WebP when the client's {@code Accept}
 * asks for them, HTML, CSS, JavaScript and JSON are minified.
 *
 * <ul>
 * <li>{@code /} the demo page: each image as original, WebP and AVIF side by side, with sizes and times;</li>
 * <li>{@code /<file>} a file of the directory, through the filter;</li>
 * <li>{@code /_kvm/stats} the statistics of the filters, as JSON, with {@code --stats} only;</li>
 * <li>{@code /_kvm/original/<file>}, {@code /_kvm/webp/<file>}, {@code /_kvm/avif/<file>} the views the demo page
 * shows: the file as it is, and converted to one format whatever the client accepts (each conversion kept in
 * the views' result cache, so that nobody can make the server convert one file over and over).</li>
 * </ul>
 *
 * <p>Safe to expose by default: it serves nothing outside {@code --dir} (a symbolic link pointing out of it is
 * not found; one pointing inside is served), lists no directories unless {@code --list-dirs} is given, and shows
 * statistics only with {@code --stats} and accepts program invalidation only with {@code --allow-invalidate}.
 *
 * <pre>java -jar jetty-example.jar [--port N] [--dir DIR] [--rules RULES] [--library FILE] [--list-dirs]
 *     [--stats] [--allow-invalidate] [--cache-dir DIR] [--cluster-name NAME --cluster-port N
 *     --cluster-members HOST:PORT,...] [--prometheus PATH] [--log-json] [--program /PATH=NAME]...
 *     [--images /PATH [--signing-keys FILE] [--image-settings FILE]] [--origin URL]</pre>
 *
 * <p>{@code --rules} and {@code --library} are the filter's parameters of the same names: they let a program of
 * your own run on the served files (docs/getting-started.md). {@code --cache-dir} keeps the converted files in a
 * directory across restarts; {@code --cluster-name} starts an embedded Hazelcast member that shares them with the
 * other servers of the cluster (docs/operations.md, "Result storage"). {@code --prometheus /metrics}
 * serves the metrics of the sandboxes and the JVM as Prometheus text at that path (docs/prometheus.md); off
 * unless given. {@code --log-json} writes the filter's log lines as JSON objects, one per line
 * ({@link JsonLogFormatter}); Jetty's own lines stay text. {@code --program /api=NAME} mounts program NAME (bundled
 * or from {@code --library}) as the backend of {@code /api} and everything below it, as the TinyKVM VMOD's
 * {@code program()} backend does: ProgramServlet answers GET and POST with what the program makes (its status,
 * content type and headers); the main filter leaves those paths alone. {@code --images /img} serves the images of
 * {@code --dir} on demand through {@link ImageServlet} ({@code /img/cat.jpg?w=320&fmt=auto}); with
 * {@code --signing-keys FILE} only signed option URLs, and {@code --image-settings FILE} (a properties file of
 * ImageServlet's init-params) sets its bounds, presets and client hints. {@code --origin URL} serves another site
 * instead of a directory (Jetty's transparent proxy), its responses through the filter; there {@code --images /PATH}
 * makes the origin's images under {@code /PATH} take option URLs through the filter (its result store keeps them).
 *
 * <p>Once listening it prints exactly one line to standard output, {@code Listening on http://127.0.0.1:PORT/};
 * Jetty's own log goes to standard error. SIGTERM (or Ctrl-C) stops the server cleanly. Bad arguments print
 * the usage to standard error and exit with status 1.
 */
public final class Main {

    /** The address the server binds to: the demo is for this machine only. */
    static final String HOST = "127.0.0.1";
    /** The port used when no {@code --port} is given. */
    static final int DEFAULT_PORT = 8080;
    /** Where the files served without {@code --dir} live inside the jar. */
    static final String SAMPLES = "samples/";

    /** Image types converted: JPEG, PNG and GIF (an animated GIF becomes an animated WebP; AVIF stays still). */
    static final String IMAGE_TYPES = "image/jpeg, image/png, image/gif";
    /** The main filter's rules: images negotiated by Accept (AVIF preferred), text minified for everyone. */
    static final String MAIN_RULES = IMAGE_TYPES + " -> image/avif: avif, image/webp: webp\n"
            + "text/html, text/css, text/javascript, application/javascript, application/json -> minify";
    /** Everything the demo adds under this prefix; the main filter leaves it alone. */
    static final String KVM_PREFIX = "/_kvm/";
    /** The statistics of every filter, as JSON (KvmStatsServlet), with {@code --stats}. */
    static final String STATS_PATH = KVM_PREFIX + "stats";
    /** Context attribute set when the statistics are served, so the demo page links to them only then. */
    static final String STATS_ENABLED = Main.class.getName() + ".statsEnabled";
    /** A file exactly as it is on disk, whatever the client accepts. */
    static final String ORIGINAL_VIEW = KVM_PREFIX + "original/";
    /** Formats the demo shows beside each original, each under {@code /_kvm/<format>/<file>}. */
    static final List<String> FORCED_FORMATS = List.of("webp", "avif");
    /** The demo page is the root only (a regular expression path spec: "/" alone would mean everything). */
    static final String DEMO_PAGE_PATH = "^/$";
    /** How long --origin's answer to one request may take, whole. */
    static final java.time.Duration ORIGIN_TIMEOUT = java.time.Duration.ofSeconds(30);

    static final String USAGE = String.join(System.lineSeparator(),
            "usage: java -jar jetty-example.jar [--port N] [--dir DIR] [--rules RULES] [--library FILE] [--list-dirs]",
            "                                   [--stats] [--allow-invalidate] [--cache-dir DIR]",
            "                                   [--cluster-name NAME --cluster-port N --cluster-members LIST]",
            "                                   [--prometheus PATH] [--log-json] [--program /PATH=NAME]...",
            "                                   [--images /PATH [--signing-keys FILE] [--image-settings FILE]]",
            "                                   [--origin URL]",
            "  --port N          TCP port on " + HOST + ", 0 picks a free one (default " + DEFAULT_PORT + ")",
            "  --dir DIR         directory to serve (default: the sample files bundled in the jar)",
            "  --origin URL      serve another site instead (http: or https:), its responses through the filter;",
            "                    with --images /PATH its images under /PATH take option URLs (no demo page);",
            "                    --program mounts may fetch from it (GET /PATH?url=...), unless their library",
            "                    entry gives an egress policy of its own",
            "  --rules RULES     the filter's rules, as its rules parameter (docs/configuration.md); default:",
            "                    " + MAIN_RULES.replace("\n", "; "),
            "  --library FILE    a program library JSON with programs of your own, merged over the bundled ones",
            "  --list-dirs       list the files of a directory asked for by its URL (default: 404)",
            "  --stats           statistics of the filters as JSON at " + STATS_PATH + " (default: off)",
            "  --allow-invalidate  also let POST /_kvm/stats?invalidate=<regex> reload programs (implies --stats)",
            "  --cache-dir DIR   keep converted files in DIR, across restarts (the filter's cacheDirectory)",
            "  --cache-dir-size SIZE  the most bytes kept there, e.g. 2GiB (default 1GiB)",
            "  --cluster-name NAME    share converted files with the servers of this Hazelcast cluster",
            "  --cluster-port N       the cluster member's port on " + HOST + " (default 5701, 0 picks one)",
            "  --cluster-members LIST the other members, host:port separated by commas",
            "  --prometheus PATH serve Prometheus metrics at PATH, e.g. /metrics (default: not served)",
            "  --log-json        the filter's log lines as JSON, one object per line (default: text)",
            "  --program /PATH=NAME  program NAME answers /PATH and below, as a backend (repeatable)",
            "  --images /PATH    images of --dir on demand at /PATH/<file>?w=320&fmt=auto... (docs/configuration.md)",
            "  --signing-keys FILE  serve only signed option URLs; FILE holds the keys, one per line, signing key first",
            "  --image-settings FILE  bounds, presets, client hints of --images: a properties file of the image",
            "                    endpoint's init-params (maxWidth=2000, presets=thumb: w=200&h=200, clientHints=true...)",
            "  --help            print this help");

    private Main() {
    }

    /**
     * Starts the server and blocks until the JVM is asked to stop.
     *
     * @param args command line arguments, see the class description
     * @throws Exception if Jetty fails after it started
     */
    public static void main(String[] args) throws Exception {
        Options options;
        KvmFilterConfig mainConfig;
        try {
            options = Options.parse(args);
            mainConfig = mainConfig(options, null);
        } catch (IllegalArgumentException e) {
            System.err.println("jetty-example: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(1);
            return;
        }
        if (options.help()) {
            System.out.println(USAGE);
            return;
        }
        if (options.logJson()) {
            logAsJson();
        }

        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(HOST);
        connector.setPort(options.port());
        server.addConnector(connector);

        if (options.clusterName() != null) {
            mainConfig = mainConfig(options, ClusterCache.start(options.clusterName(), HOST, options.clusterPort(),
                    options.clusterMembers()));
        }
        ServletContextHandler context = new ServletContextHandler("/");
        Resource base = baseResource(context, options.dir());
        context.setBaseResource(base);
        // Jetty's default alias check follows symbolic links wherever they point; this one serves a link only when
        // its target is inside the base directory too, so nothing outside --dir can be read.
        context.clearAliasChecks();
        context.addAliasCheck(new AllowedResourceAliasChecker(context));
        configure(context, base, mainConfig, options);
        if (options.prometheus() != null) {
            PrometheusServlet.install(context, options.prometheus());
        }
        server.setHandler(context);
        // Stops Jetty from a shutdown hook, so SIGTERM closes connections and the port before the JVM exits.
        server.setStopAtShutdown(true);

        try {
            server.start();
        } catch (Exception e) {
            System.err.println("jetty-example: cannot start the server on " + HOST + ":" + options.port() + ": " + e);
            server.stop();
            System.exit(1);
            return;
        }
        System.out.println("Listening on http://" + HOST + ":" + connector.getLocalPort() + "/");
        System.out.flush();
        server.join();
    }

    /**
     * Installs the servlets and filters: the files of the base resource through the main filter, the demo page,
     * the statistics and the demo's fixed-format views of each file.
     */
    static void configure(ServletContextHandler context, Resource base, KvmFilterConfig mainConfig,
            Options options) {
        URI library = options.library();
        addFilter(context, "main", mainConfig, "/*");
        if (options.origin() != null) {
            // Another site's responses, as a browser or curl gets them through the filter.
            ServletHolder proxy = new ServletHolder("origin", ProxyServlet.Transparent.class);
            proxy.setInitParameter("proxyTo", options.origin().toString());
            proxy.setInitParameter("timeout", String.valueOf(ORIGIN_TIMEOUT.toMillis()));
            proxy.setAsyncSupported(true);
            context.getServletHandler().addServletWithMapping(proxy, "/");
            configureCommon(context, options);
            return;
        }
        // Every file, as a browser or curl gets it: negotiated images, minified text.
        ServletHolder files = context.addServlet(DefaultServlet.class, "/");
        files.setInitParameter("dirAllowed", String.valueOf(options.listDirs()));
        files.setInitParameter("etags", "true");

        // The demo's views of one file: as it is, and forced to WebP or AVIF whatever the client accepts.
        ServletHolder views = new ServletHolder("views", ResourceServlet.class);
        views.setInitParameter("dirAllowed", "false");
        views.setInitParameter("etags", "true");
        context.getServletHandler().addServletWithMapping(views, ORIGINAL_VIEW + "*");
        for (String format : FORCED_FORMATS) {
            String pathSpec = KVM_PREFIX + format + "/*";
            context.getServletHandler().addServletMapping(mapping("views", pathSpec));
            // Every client of the view asks for the format, so the negotiated variant is always chosen: the
            // filter, not the program, says what the client gets.
            FilterHolder accept = new FilterHolder(new ForcedAccept("image/" + format));
            accept.setName("accept-" + format);
            accept.setAsyncSupported(true);
            context.addFilter(accept, pathSpec, EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
            KvmFilterConfig.Builder forced = KvmFilterConfig.builder();
            if (library != null) {
                forced.library(library);
            }
            addFilter(context, format, forced
                    .rules(IMAGE_TYPES + " -> image/" + format + ": " + format)
                    // Show what the program made even when it is larger (the main filter would then serve the
                    // original). Results are cached (the default cacheSize): a client asking for the same view
                    // again gets the stored conversion, it cannot keep the CPU busy.
                    .requireSmaller(false)
                    // Booted at start, so the demo page's first request of a view measures a conversion only.
                    .programSetting(format, "start", true)
                    // The page asks for every view at once: let them queue rather than show originals.
                    .maxWaiters(64)
                    .maxWait(java.time.Duration.ofSeconds(60))
                    .build(), pathSpec);
        }

        // Images on demand: the files of --dir with per-request options.
        if (options.images() != null) {
            ServletHolder holder = new ServletHolder("images", ImageServlet.class);
            holder.setInitParameter("directory", options.dir().toString());
            if (!options.signingKeys().isEmpty()) {
                holder.setInitParameter("signingKeys", String.join(",", options.signingKeys()));
            }
            options.imageSettings().forEach(holder::setInitParameter);
            context.getServletHandler().addServletWithMapping(holder, options.images() + "/*");
        }
        configureCommon(context, options);
        context.addServlet(new ServletHolder("demo", new DemoPageServlet(base, demoOptionUrls(options))), "");
    }

    /** What both sources (--dir, --origin) have: programs as backends and the statistics. */
    private static void configureCommon(ServletContextHandler context, Options options) {
        // Programs as backends (the VMOD's program()): /PATH and everything below it.
        for (Map.Entry<String, String> program : options.programs().entrySet()) {
            ServletHolder holder = new ServletHolder("program" + program.getKey(), ProgramServlet.class);
            holder.setInitParameter(ProgramServlet.PARAM_PROGRAM, program.getValue());
            if (options.library() != null) {
                holder.setInitParameter(KvmFilterConfig.PARAM_LIBRARY, options.library().toString());
            }
            String originPolicy = originEgress(options, program.getValue());
            if (originPolicy != null) {
                holder.setInitParameter(KvmFilterConfig.PARAM_PROGRAM_SETTINGS, program.getValue() + ".egress="
                        + originPolicy);
            }
            context.getServletHandler().addServletWithMapping(holder, program.getKey());
            context.getServletHandler().addServletMapping(mapping(holder.getName(), program.getKey() + "/*"));
        }
        if (options.stats()) {
            ServletHolder stats = context.addServlet(KvmStatsServlet.class, STATS_PATH);
            stats.setInitParameter(KvmStatsServlet.PARAM_ALLOW_INVALIDATE, String.valueOf(options.allowInvalidate()));
            context.setAttribute(STATS_ENABLED, Boolean.TRUE);
        }
    }

    /**
     * With --origin, a mounted program that has no egress policy of its own may fetch from the origin, and from
     * nowhere else: its host, scheme and port, and the addresses it has now (an origin on a private network is
     * the operator's choice, so its addresses are allowed; every other private address stays refused). Null when
     * there is no origin or the program's library gives it a policy.
     */
    private static String originEgress(Options options, String program) {
        URI origin = options.origin();
        if (origin == null) {
            return null;
        }
        io.kvmfilter.kvm.ProgramLibrary library = io.kvmfilter.kvm.ProgramLibrary.bundled();
        if (options.library() != null) {
            library = library.merge(io.kvmfilter.kvm.ProgramLibrary.load(options.library()));
        }
        if (library.programNames().contains(program) && library.program(program).egress().isPresent()) {
            return null;
        }
        int port = origin.getPort() > 0 ? origin.getPort() : "https".equals(origin.getScheme()) ? 443 : 80;
        String host = origin.getHost().startsWith("[") ? origin.getHost().substring(1, origin.getHost().length() - 1)
                : origin.getHost();
        List<String> addresses = new java.util.ArrayList<>();
        try {
            for (java.net.InetAddress address : java.net.InetAddress.getAllByName(host)) {
                addresses.add("\"" + address.getHostAddress().replaceAll("%.*", "") + "\"");
            }
        } catch (java.net.UnknownHostException e) {
            // Not resolvable now: its public addresses are allowed when it is; a private one would not be.
        }
        return "{\"hosts\": [\"" + origin.getHost() + "\"], \"schemes\": [\"" + origin.getScheme() + "\"], \"ports\": ["
                + port + "], \"addresses\": [" + String.join(", ", addresses) + "]}";
    }

    /** The option URLs the demo page shows: the presets when there are any, else one example of each option. */
    private static DemoPageServlet.OptionUrls demoOptionUrls(Options options) {
        if (options.images() == null) {
            return null;
        }
        ImageOptionSettings settings = ImageOptionSettings.of(options.imageSettings()::get, name -> name);
        List<String> queries = settings.limits().presets().isEmpty() ? DemoPageServlet.OptionUrls.EXAMPLES
                : new java.util.TreeSet<>(settings.limits().presets().keySet()).stream().map(p -> "p=" + p).toList();
        java.util.Optional<UrlSigner> signer = options.signingKeys().isEmpty()
                ? java.util.Optional.empty() : java.util.Optional.of(new UrlSigner(
                        options.signingKeys().stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList()));
        return new DemoPageServlet.OptionUrls(options.images(), queries, signer);
    }

    /**
     * The main filter's configuration: the given rules and library, or the defaults.
     *
     * @throws IllegalArgumentException naming the bad option, its value and what is allowed
     */
    static KvmFilterConfig mainConfig(Options options, ResultStore.SharedCacheOpener cluster) {
        KvmFilterConfig.Builder builder = KvmFilterConfig.builder()
                // The demo's own pages and views are not sample content, nor are the programs' answers.
                .excludedPaths(excludedPaths(options));
        try {
            builder.rules(options.rules() != null ? options.rules() : MAIN_RULES);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--rules: " + e.getMessage(), e);
        }
        if (options.library() != null) {
            builder.library(options.library());
        }
        if (options.cacheDir() != null) {
            builder.cacheDirectory(options.cacheDir());
        }
        if (options.cacheDirSize() != null) {
            try {
                builder.parameter(KvmFilterConfig.PARAM_CACHE_DIRECTORY_SIZE, options.cacheDirSize());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--cache-dir-size: " + e.getMessage(), e);
            }
        }
        if (cluster != null) {
            builder.sharedCache(cluster);
        }
        if (options.origin() != null && options.images() != null) {
            // The origin's images under --images take option URLs, through this filter and its result store.
            builder.imageOptions(options.images() + "/*");
            options.imageSettings().forEach((name, value) -> builder.parameter("image"
                    + Character.toUpperCase(name.charAt(0)) + name.substring(1), value));
            if (!options.signingKeys().isEmpty()) {
                builder.parameter("imageSigningKeys", String.join(",", options.signingKeys()));
            }
        }
        return builder.build();
    }

    /** What the main filter leaves alone: the demo's pages and views, and the paths programs answer. */
    private static String[] excludedPaths(Options options) {
        List<String> paths = new java.util.ArrayList<>(List.of(KVM_PREFIX + "*"));
        if (options.origin() == null) {
            paths.add(DEMO_PAGE_PATH); // with an origin, / is the origin's
        }
        for (String path : options.programs().keySet()) {
            paths.add(path);
            paths.add(path + "/*");
        }
        if (options.images() != null && options.origin() == null) {
            paths.add(options.images() + "/*"); // the image endpoint answers itself
        }
        return paths.toArray(String[]::new);
    }

    private static void addFilter(ServletContextHandler context, String name, KvmFilterConfig config,
            String pathSpec) {
        FilterHolder holder = new FilterHolder(new KvmFilter(config));
        holder.setName(name);
        holder.setAsyncSupported(true);
        context.addFilter(holder, pathSpec, EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    }

    private static ServletMapping mapping(String servletName, String pathSpec) {
        ServletMapping mapping = new ServletMapping();
        mapping.setServletName(servletName);
        mapping.setPathSpecs(new String[] {pathSpec});
        return mapping;
    }

    /** The directory given on the command line, or the samples inside the jar. */
    private static Resource baseResource(ServletContextHandler context, Path dir) {
        ResourceFactory resources = ResourceFactory.of(context);
        if (dir != null) {
            return resources.newResource(dir);
        }
        URL samples = Main.class.getResource("/" + SAMPLES);
        if (samples == null) {
            throw new IllegalStateException("the bundled sample files (" + SAMPLES + ") are missing from the class path");
        }
        try {
            return resources.newResource(samples.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("unusable location of the bundled sample files: " + samples, e);
        }
    }

    /** The filter's log (System.Logger on java.util.logging) as JSON lines on standard error. */
    private static void logAsJson() {
        for (Handler handler : LogManager.getLogManager().getLogger("").getHandlers()) {
            handler.setFormatter(new JsonLogFormatter());
        }
    }

    /**
     * The parsed command line. {@code dir} is null when the bundled samples are served, {@code rules} when the
     * default rules apply, {@code library} when only the bundled programs are used, {@code prometheus} when no
     * metrics are served.
     */
    record Options(int port, Path dir, String rules, URI library, boolean listDirs, boolean stats,
            boolean allowInvalidate, Path cacheDir, String cacheDirSize, String clusterName, int clusterPort,
            List<String> clusterMembers, String prometheus, boolean logJson, Map<String, String> programs,
            String images, List<String> signingKeys, Map<String, String> imageSettings, URI origin, boolean help) {

        /** The Hazelcast member's port by default: Hazelcast's own. */
        static final int DEFAULT_CLUSTER_PORT = 5701;

        /**
         * Parses the command line.
         *
         * @throws IllegalArgumentException naming the bad argument and what is allowed
         */
        static Options parse(String[] args) {
            int port = DEFAULT_PORT;
            Path dir = null;
            String rules = null;
            URI library = null;
            boolean listDirs = false;
            boolean stats = false;
            boolean allowInvalidate = false;
            Path cacheDir = null;
            String cacheDirSize = null;
            String clusterName = null;
            int clusterPort = DEFAULT_CLUSTER_PORT;
            List<String> clusterMembers = List.of();
            String prometheus = null;
            boolean logJson = false;
            Map<String, String> programs = new java.util.LinkedHashMap<>();
            String images = null;
            List<String> signingKeys = List.of();
            Map<String, String> imageSettings = Map.of();
            URI origin = null;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--help", "-h" -> {
                        return new Options(port, dir, rules, library, listDirs, stats, allowInvalidate, cacheDir,
                                cacheDirSize, clusterName, clusterPort, clusterMembers, prometheus, logJson, programs,
                                images, signingKeys, imageSettings, origin, true);
                    }
                    case "--list-dirs" -> listDirs = true;
                    case "--log-json" -> logJson = true;
                    case "--stats" -> stats = true;
                    case "--allow-invalidate" -> {
                        stats = true;
                        allowInvalidate = true;
                    }
                    case "--cache-dir" -> cacheDir = Path.of(valueOf(args, ++i, "--cache-dir")).toAbsolutePath()
                            .normalize();
                    case "--cache-dir-size" -> cacheDirSize = valueOf(args, ++i, "--cache-dir-size");
                    case "--cluster-name" -> clusterName = parseClusterName(valueOf(args, ++i, "--cluster-name"));
                    case "--cluster-port" -> clusterPort = parsePort(valueOf(args, ++i, "--cluster-port"));
                    case "--cluster-members" -> clusterMembers = parseMembers(valueOf(args, ++i,
                            "--cluster-members"));
                    case "--port" -> port = parsePort(valueOf(args, ++i, "--port"));
                    case "--dir" -> dir = parseDir(valueOf(args, ++i, "--dir"));
                    case "--rules" -> rules = valueOf(args, ++i, "--rules");
                    case "--library" -> library = parseLibrary(valueOf(args, ++i, "--library"));
                    case "--prometheus" -> prometheus = PrometheusServlet.checkPath(valueOf(args, ++i, "--prometheus"));
                    case "--program" -> parseProgram(valueOf(args, ++i, "--program"), programs);
                    case "--images" -> images = parseImagesPath(valueOf(args, ++i, "--images"));
                    case "--signing-keys" -> signingKeys = parseSigningKeys(valueOf(args, ++i, "--signing-keys"));
                    case "--image-settings" -> imageSettings = parseImageSettings(valueOf(args, ++i,
                            "--image-settings"));
                    case "--origin" -> origin = parseOrigin(valueOf(args, ++i, "--origin"));
                    default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
                }
            }
            if (clusterName == null && (!clusterMembers.isEmpty() || clusterPort != DEFAULT_CLUSTER_PORT)) {
                throw new IllegalArgumentException("--cluster-port and --cluster-members need --cluster-name");
            }
            if (origin != null && (dir != null || listDirs)) {
                throw new IllegalArgumentException("--origin serves another site: --dir and --list-dirs are for a"
                        + " directory of files");
            }
            if (images != null && dir == null && origin == null) {
                throw new IllegalArgumentException("--images needs --dir or --origin: the images are that directory's"
                        + " files, or the origin's");
            }
            if (origin != null && imageSettings.containsKey("cacheSize")) {
                throw new IllegalArgumentException("--image-settings: cacheSize is the image endpoint's (--dir); with"
                        + " --origin, option URLs go through the filter, which keeps results in its result store");
            }
            if (!signingKeys.isEmpty() && images == null) {
                throw new IllegalArgumentException("--signing-keys needs --images");
            }
            if (!imageSettings.isEmpty() && images == null) {
                throw new IllegalArgumentException("--image-settings needs --images");
            }
            if (images != null && programs.containsKey(images)) {
                throw new IllegalArgumentException("--images " + images + " is also a --program path");
            }
            return new Options(port, dir, rules, library, listDirs, stats, allowInvalidate, cacheDir, cacheDirSize,
                    clusterName, clusterPort, clusterMembers, prometheus, logJson,
                    Collections.unmodifiableMap(programs), images, signingKeys, imageSettings, origin, false);
        }

        /** A path a servlet may be mounted on: letters, digits and ._~- segments, not / alone, no trailing /. */
        private static boolean mountable(String path) {
            return path.matches("(/[A-Za-z0-9._~-]+)+");
        }

        /** {@code /PATH}: where the image endpoint answers (not the demo's). */
        private static String parseImagesPath(String value) {
            if (!mountable(value) || (value + "/").startsWith(KVM_PREFIX)) {
                throw new IllegalArgumentException("--images '" + value + "': expected /PATH, a path of letters, "
                        + "digits and ._~- segments (not / alone, no trailing /, not under " + KVM_PREFIX + ")");
            }
            return value;
        }

        /** The keys in FILE, one per line (blank lines skipped): secrets stay off the command line. */
        private static List<String> parseSigningKeys(String file) {
            List<String> keys = new java.util.ArrayList<>();
            try {
                for (String line : java.nio.file.Files.readAllLines(Path.of(file))) {
                    if (!line.isBlank()) {
                        keys.add(line.strip());
                    }
                }
            } catch (java.io.IOException | java.nio.file.InvalidPathException e) {
                throw new IllegalArgumentException("--signing-keys " + file + ": cannot be read: " + e.getMessage(), e);
            }
            for (String key : keys) {
                if (key.length() < 16 || key.contains(",")) {
                    throw new IllegalArgumentException("--signing-keys " + file + ": each key must be 16 or more "
                            + "characters without commas");
                }
            }
            if (keys.isEmpty()) {
                throw new IllegalArgumentException("--signing-keys " + file + ": the file holds no key");
            }
            return List.copyOf(keys);
        }

        /** {@code http(s)://host[:port][/path]}: the site --origin serves. */
        private static URI parseOrigin(String value) {
            URI uri;
            try {
                uri = new URI(value);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("--origin '" + value + "': not a URL: " + e.getMessage(), e);
            }
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                    || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
                throw new IllegalArgumentException("--origin '" + value + "': expected http://HOST[:PORT][/PATH] or"
                        + " https://..., without user, query or fragment");
            }
            String text = uri.toString();
            return URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
        }

        /** The image endpoint's settings in a properties file (its init-params but the folder and the keys). */
        private static Map<String, String> parseImageSettings(String file) {
            java.util.Properties properties = new java.util.Properties();
            try (java.io.Reader in = java.nio.file.Files.newBufferedReader(Path.of(file))) {
                properties.load(in);
            } catch (java.io.IOException | IllegalArgumentException e) { // also a bad path, a malformed escape
                throw new IllegalArgumentException("--image-settings " + file + ": cannot be read: " + e.getMessage(), e);
            }
            List<String> allowed = new java.util.ArrayList<>(ImageOptionSettings.NAMES);
            allowed.remove("signingKeys");
            allowed.add("cacheSize");
            Map<String, String> settings = new java.util.TreeMap<>();
            for (String key : properties.stringPropertyNames()) {
                if (!allowed.contains(key)) {
                    throw new IllegalArgumentException("--image-settings " + file + ": unknown setting '" + key
                            + "'; allowed: " + String.join(", ", allowed) + (key.equals("signingKeys")
                                    ? " (the keys go in --signing-keys FILE)" : ""));
                }
                settings.put(key, properties.getProperty(key).strip());
            }
            ImageOptionSettings.of(settings::get, key -> "--image-settings " + file + ": " + key); // fails early
            return Collections.unmodifiableMap(settings);
        }

        /** {@code /PATH=NAME}: a path of its own (not the demo page, not under /_kvm/) and a program name. */
        private static void parseProgram(String value, Map<String, String> programs) {
            int equals = value.indexOf('=');
            String path = equals < 0 ? value : value.substring(0, equals);
            String name = equals < 0 ? "" : value.substring(equals + 1);
            if (!mountable(path) || !name.matches("[A-Za-z0-9_.-]{1,200}")) {
                throw new IllegalArgumentException("--program '" + value + "': expected /PATH=NAME, a path of "
                        + "letters, digits and ._~- segments (not / alone, no trailing /) and a program name");
            }
            if ((path + "/").startsWith(KVM_PREFIX)) {
                throw new IllegalArgumentException("--program '" + value + "': " + KVM_PREFIX
                        + " belongs to the demo; choose another path");
            }
            if (programs.putIfAbsent(path, name) != null) {
                throw new IllegalArgumentException("--program '" + value + "': " + path + " is given twice");
            }
        }

        private static String parseClusterName(String value) {
            if (!value.matches("[A-Za-z0-9_.-]{1,64}")) {
                throw new IllegalArgumentException("--cluster-name '" + value
                        + "' is not allowed; allowed: 1 to 64 letters, digits, '_', '.', '-'");
            }
            return value;
        }

        private static List<String> parseMembers(String value) {
            List<String> members = new java.util.ArrayList<>();
            for (String member : value.split(",")) {
                String trimmed = member.trim();
                if (!trimmed.matches("[A-Za-z0-9.-]+:\\d{1,5}")) {
                    throw new IllegalArgumentException("--cluster-members: '" + trimmed
                            + "' is not host:port; give the other members as host:port separated by commas");
                }
                members.add(trimmed);
            }
            return List.copyOf(members);
        }

        private static String valueOf(String[] args, int index, String option) {
            if (index >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[index];
        }

        private static int parsePort(String value) {
            int port;
            try {
                port = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--port '" + value + "' is not a number; allowed: 0 to 65535");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--port " + port + " is out of range; allowed: 0 to 65535");
            }
            return port;
        }

        private static URI parseLibrary(String value) {
            Path file = Path.of(value).toAbsolutePath().normalize();
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--library " + file + " is not a file; give a program library JSON");
            }
            return file.toUri();
        }

        private static Path parseDir(String value) {
            Path dir = Path.of(value).toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("--dir " + dir + " is not a directory");
            }
            if (!Files.isReadable(dir)) {
                throw new IllegalArgumentException("--dir " + dir + " is not readable");
            }
            return dir;
        }
    }
}
