package io.kvmfilter.filter;

import io.kvmfilter.kvm.CacheHint;
import io.kvmfilter.kvm.ConnectionOutcome;
import io.kvmfilter.kvm.Failure;
import io.kvmfilter.kvm.FailureKind;
import io.kvmfilter.kvm.HeaderField;
import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmConfigurationException;
import io.kvmfilter.kvm.KvmUnavailableException;
import io.kvmfilter.kvm.ProgramConnection;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Request;
import io.kvmfilter.kvm.ResponseStream;
import io.kvmfilter.kvm.Result;
import io.kvmfilter.kvm.Step;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * A servlet whose responses a program produces: the program is the backend, as with the Varnish TinyKVM VMOD's
 * {@code to_backend}. Requests without a body go to the program's GET handler, requests with one to its POST
 * handler; the program's status, content type, headers and body are the response, 4xx and 5xx included.
 *
 * <p>Init-params: {@code program} (required), {@code arg}, {@code library}, {@code programSettings},
 * {@code timeout}, {@code queueTimeout} (as for {@link KvmFilter}) and {@code maxRequestBodySize} (default
 * 8MiB; a body with a Content-Length is read straight into the sandbox's memory, never whole into the JVM heap, so
 * the limit may be as large as the program's memory). When the program fails the servlet answers 504 (timeout),
 * 503 (queue full or timed out, sandbox unavailable) or 502 (any other failure), with the header
 * {@code X-KVM-Program: failed=<reason>}.
 *
 * <p>Self-requests ({@code sys_request}, the VMOD's): with {@code selfRequests} true (default false) a program's
 * request by path goes through this web application (forwarded by its RequestDispatcher, not over the network),
 * as a fresh request carrying only the program's header fields and body; at most {@code selfRequestConcurrency}
 * (default 16) at once, {@code -EAGAIN} beyond; a self-request inside a self-request is one level deeper, and past
 * {@code selfRequestDepth} (default 3) the program gets {@code -ELOOP}. Filters mapped for REQUEST only (KvmFilter's
 * usual mapping) do not see them.
 *
 * <p>A streaming response (begin_streaming_response) is written to the client piece by piece as the program makes
 * it, with its announced Content-Length; a failure after the first piece has gone ends the connection short of
 * that length.
 *
 * <p>Connection takeover (the VMOD's {@code steal()}): with {@code connections} true (default false) and a program
 * that registered the socket handler ({@code register_func 12}), an HTTP/1.1 GET with {@code Connection: upgrade}
 * and an {@code Upgrade} header (any protocol but {@code h2c}) is answered {@code 101 Switching Protocols} with
 * {@code Upgrade: <the client's first protocol>}, and the connection then belongs to one instance of the program
 * until either side closes it: its connect event carries the client's address and the request's path and query.
 * The instance is taken and the session opened before the 101: a full pool gets 503, a program failing to open 502
 * (as a failed request, with {@code X-KVM-Program}). The connection is closed after {@code connectionIdleTimeout}
 * (default 60s) without a byte either way, and after {@code connectionMaxTime} (default 60m) in all; the program is
 * told why ("idle timeout", "time limit"). A session the program ends by failing is logged as a request's failure.
 * Other requests are answered as always. On Jetty 12 (ee10), whose Servlet upgrade does not pass the client's
 * bytes on, the connection is taken over through Jetty's core API instead ({@code HttpStream}'s upgrade attribute,
 * as Jetty's WebSocket does); that needs Jetty's server classes visible to kvmfilter (on the server's class path,
 * as with the kvmfilter Jetty module, not in a web application's {@code WEB-INF/lib}, from which Jetty hides them):
 * without them {@code connections} is turned off at {@link #init()} with a warning.
 */
public class ProgramServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final System.Logger LOG = System.getLogger(ProgramServlet.class.getName());
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    /** The program to run (required). */
    public static final String PARAM_PROGRAM = "program";
    /** The argument given to the program. */
    public static final String PARAM_ARG = "arg";
    /** Self-requests of the program are answered by this web application: "true" or "false" (the default). */
    public static final String PARAM_SELF_REQUESTS = "selfRequests";
    /** How deep self-requests may nest: 1 to 16, default 3. */
    public static final String PARAM_SELF_REQUEST_DEPTH = "selfRequestDepth";
    /** Self-requests running at once in this servlet: 1 to 1024, default 16. */
    public static final String PARAM_SELF_REQUEST_CONCURRENCY = "selfRequestConcurrency";
    /** Upgrade requests are handed to the program as connections: "true" or "false" (the default). */
    public static final String PARAM_CONNECTIONS = "connections";
    /** A connection without a byte either way for this long is closed: a duration, default 60s. */
    public static final String PARAM_CONNECTION_IDLE_TIMEOUT = "connectionIdleTimeout";
    /** A connection is closed after this long in all: a duration, default 60m. */
    public static final String PARAM_CONNECTION_MAX_TIME = "connectionMaxTime";
    /** Default of {@link #PARAM_CONNECTION_IDLE_TIMEOUT}. */
    public static final Duration DEFAULT_CONNECTION_IDLE_TIMEOUT = Duration.ofSeconds(60);
    /** Default of {@link #PARAM_CONNECTION_MAX_TIME}. */
    public static final Duration DEFAULT_CONNECTION_MAX_TIME = Duration.ofHours(1);
    /** The largest request body accepted; larger requests get 413. */
    public static final String PARAM_MAX_REQUEST_BODY_SIZE = "maxRequestBodySize";
    /** Default of {@link #PARAM_MAX_REQUEST_BODY_SIZE}: 8 MiB. */
    public static final long DEFAULT_MAX_REQUEST_BODY_SIZE = 8L * 1024 * 1024;
    /** The response header saying why the program produced no response. */
    public static final String FAILURE_HEADER = "X-KVM-Program";
    /** No status a program answers is an error here: 4xx and 5xx are its answer to the client. */
    private static final int NO_ERROR_STATUS = 1000;
    /** Hop-by-hop and framing headers the container sets itself. */
    private static final Set<String> CONTAINER_HEADERS = Set.of("content-length", "transfer-encoding", "connection",
            "keep-alive", "upgrade", "content-type");

    /** This servlet's own parameters; those after them are shared with the filter. */
    private static final int OWN_PARAMETERS = 9;
    private static final List<String> PARAMETERS = List.of(PARAM_PROGRAM, PARAM_ARG, PARAM_MAX_REQUEST_BODY_SIZE,
            PARAM_SELF_REQUESTS, PARAM_SELF_REQUEST_DEPTH, PARAM_SELF_REQUEST_CONCURRENCY, PARAM_CONNECTIONS,
            PARAM_CONNECTION_IDLE_TIMEOUT, PARAM_CONNECTION_MAX_TIME, KvmFilterConfig.PARAM_LIBRARY,
            KvmFilterConfig.PARAM_PROGRAM_SETTINGS, KvmFilterConfig.PARAM_TIMEOUT, KvmFilterConfig.PARAM_QUEUE_TIMEOUT);
    /** The Jetty 12 classes {@link JettyConnectionTakeover} needs, looked up by name before it is loaded. */
    private static final List<String> JETTY_CORE = List.of("org.eclipse.jetty.ee10.servlet.ServletContextRequest",
            "org.eclipse.jetty.server.HttpStream", "org.eclipse.jetty.io.AbstractConnection");
    /** A protocol name of an Upgrade header: a token, optionally with a version ("websocket", "foo/2"). */
    private static final Pattern PROTOCOL = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+(/[!#$%&'*+.^_`|~0-9A-Za-z-]+)?");

    private transient String program;
    private transient String arg;
    private transient long maxRequestBodySize;
    private transient boolean selfRequests;
    private transient int selfRequestDepth;
    private transient java.util.concurrent.Semaphore selfRequestsRunning;
    private transient boolean connections;
    /** Connections are taken over through Jetty's core API ({@link JettyConnectionTakeover}), not the Servlet upgrade. */
    private transient boolean jettyConnections;
    private transient Duration connectionIdleTimeout;
    private transient Duration connectionMaxTime;
    /** The idle timeouts and time limits of this servlet's connections; null without connections. */
    private transient volatile ScheduledExecutorService connectionTimer;
    /** A failed connection session is logged with what happens then: the connection is closed. */
    private final transient TransformStats connectionStats = new TransformStats("closing the connection");
    private transient volatile Kvm kvm;
    private transient volatile String unavailable;
    private final transient TransformStats stats = new TransformStats("answering with an error status");
    private final transient StatsRegistry.Source statsSource = new StatsRegistry.Source() {
        @Override
        public Map<String, Long> counters() {
            return ProgramServlet.this.counters();
        }

        @Override
        public Optional<String> statsJson() {
            return ProgramServlet.this.statsJson();
        }

        @Override
        public int invalidate(java.util.regex.Pattern programNames) {
            Kvm started = kvm;
            return started == null ? 0 : started.invalidate(programNames);
        }
    };

    /**
     * Reads the init-params and starts the program's sandbox.
     *
     * @throws ServletException when a parameter is missing or invalid, naming it, its value and what is allowed
     */
    @Override
    public void init() throws ServletException {
        String name = getServletName();
        try {
            for (String param : Collections.list(getInitParameterNames())) {
                if (!PARAMETERS.contains(param)) {
                    throw new IllegalArgumentException("unknown init-param '" + param + "': allowed are "
                            + String.join(", ", PARAMETERS));
                }
            }
            program = getInitParameter(PARAM_PROGRAM);
            if (program == null || !program.trim().matches("[A-Za-z0-9_.-]+")) {
                throw new InvalidParameterException(PARAM_PROGRAM, String.valueOf(program),
                        "the name of a program in the program library (required)");
            }
            program = program.trim();
            arg = getInitParameter(PARAM_ARG);
            String max = getInitParameter(PARAM_MAX_REQUEST_BODY_SIZE);
            maxRequestBodySize = max == null ? DEFAULT_MAX_REQUEST_BODY_SIZE
                    : KvmFilterSpec.parseSize(PARAM_MAX_REQUEST_BODY_SIZE, max.trim());
            String self = getInitParameter(PARAM_SELF_REQUESTS);
            if (self != null && !self.trim().equals("true") && !self.trim().equals("false")) {
                throw new InvalidParameterException(PARAM_SELF_REQUESTS, self, "true or false");
            }
            selfRequests = self != null && self.trim().equals("true");
            selfRequestDepth = intParameter(PARAM_SELF_REQUEST_DEPTH, 3, 1, 16);
            selfRequestsRunning = new java.util.concurrent.Semaphore(intParameter(PARAM_SELF_REQUEST_CONCURRENCY, 16, 1,
                    1024));
            String takeover = getInitParameter(PARAM_CONNECTIONS);
            connections = takeover != null && KvmFilterSpec.parseBoolean(PARAM_CONNECTIONS, takeover.trim());
            if (connections && getServletContext().getServerInfo().toLowerCase(Locale.ROOT).startsWith("jetty")) {
                // Jetty 12's Servlet upgrade ends the upgraded input at once (it reads the request's empty body, not
                // the client's bytes) and then parses what the client sends as HTTP again: the connection is taken
                // over through Jetty's core API instead, which a web application's own class loader cannot see.
                jettyConnections = jettyCoreVisible(ProgramServlet.class.getClassLoader());
                if (!jettyConnections) {
                    LOG.log(Level.WARNING, "kvmfilter: servlet {0}: connections are off on {1}: Jetty''s core classes"
                            + " ({2}) are not visible to kvmfilter (in a web application''s WEB-INF/lib Jetty hides"
                            + " them; the kvmfilter Jetty module has them); upgrade requests get the program''s plain"
                            + " answer", name, getServletContext().getServerInfo(), String.join(", ", JETTY_CORE));
                    connections = false;
                }
            }
            connectionIdleTimeout = durationParameter(PARAM_CONNECTION_IDLE_TIMEOUT, DEFAULT_CONNECTION_IDLE_TIMEOUT);
            connectionMaxTime = durationParameter(PARAM_CONNECTION_MAX_TIME, DEFAULT_CONNECTION_MAX_TIME);
            // The shared parameters are parsed and checked exactly as the filter's.
            KvmFilterConfig.Builder shared = KvmFilterConfig.builder();
            for (String param : PARAMETERS.subList(OWN_PARAMETERS, PARAMETERS.size())) {
                String value = getInitParameter(param);
                if (value != null) {
                    shared.parameter(param, value);
                }
            }
            KvmFilterConfig config = shared.build();
            ProgramLibrary library = ProgramLibraries.of(config.library(), config.programSettings(),
                    Set.of(program), PARAM_PROGRAM, program, config.timeout(), config.queueTimeout());
            start(library, name);
            if (connections) {
                connectionTimer = connectionTimer(name);
            }
            StatsRegistry.register(getServletContext(), "servlet:" + name, statsSource);
        } catch (IllegalArgumentException e) {
            throw new ServletException("ProgramServlet '" + name + "': " + e.getMessage(), e);
        }
    }

    /**
     * Whether Jetty's core classes can be reached from the filter: not when it sits in a web application's
     * {@code WEB-INF/lib}, from which Jetty hides its server classes. Names them only, so that no class that links
     * against Jetty is loaded unless they are there.
     */
    private static boolean jettyCoreVisible(ClassLoader loader) {
        try {
            for (String className : JETTY_CORE) {
                Class.forName(className, false, loader);
            }
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private int intParameter(String param, int defaultValue, int min, int max) {
        String value = getInitParameter(param);
        if (value == null) {
            return defaultValue;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // named below
        }
        throw new InvalidParameterException(param, value, "an integer from " + min + " to " + max);
    }

    /** A positive duration such as 500ms, 5s or 2m (as {@code timeout}); the default when not given. */
    private Duration durationParameter(String param, Duration defaultValue) {
        String value = getInitParameter(param);
        if (value == null) {
            return defaultValue;
        }
        Duration duration = KvmFilterSpec.parseDuration(param, value.trim());
        if (duration.isZero()) {
            throw new InvalidParameterException(param, value, "a duration above zero, such as 500ms, 5s or 2m");
        }
        return duration;
    }

    /** One daemon thread for all of this servlet's connections; cancelled checks leave its queue at once. */
    private static ScheduledExecutorService connectionTimer(String name) {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "kvmfilter-servlet-" + name + "-connections");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    private void start(ProgramLibrary library, String name) throws ServletException {
        try {
            kvm = Kvm.start(library, "servlet-" + SandboxNames.of(getServletContext(), name) + "-"
                    + INSTANCES.incrementAndGet());
        } catch (KvmUnavailableException e) {
            unavailable = e.getMessage();
            LOG.log(Level.WARNING, "kvmfilter: servlet {0}: the sandbox is not available, requests get 503: {1}",
                    name, e.getMessage());
        } catch (KvmConfigurationException e) {
            throw new ServletException("ProgramServlet '" + name + "': " + e.getMessage(), e);
        }
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Kvm started = kvm;
        if (started == null) {
            fail(response, 503, "unavailable", "the sandbox is not available: " + unavailable);
            return;
        }
        if (connections) {
            String protocol = upgradeProtocol(request);
            if (protocol != null && started.takesConnections(program)
                    && takeOver(started, protocol, request, response)) {
                return;
            }
        }
        long declared = request.getContentLengthLong();
        if (declared > maxRequestBodySize) {
            fail(response, 413, "request-too-large", "request body larger than " + maxRequestBodySize + " bytes");
            return;
        }
        // A body of a declared length goes straight into the sandbox's memory, never whole into the JVM heap; one
        // without (chunked) is read here, within the same limit.
        byte[] body = declared > 0 ? null : readBody(request);
        if (declared <= 0 && body == null) {
            fail(response, 413, "request-too-large", "request body larger than " + maxRequestBodySize + " bytes");
            return;
        }
        // A GET or HEAD with an empty body (Java's HttpClient sends Content-Length: 0) is still a GET: the program's
        // GET handler answers it. Any other method with a declared body, even an empty one, is a POST-style call.
        boolean bodiless = "GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod());
        boolean withBody = declared > 0 || body.length > 0 || !bodiless && (declared >= 0
                || request.getHeader("Transfer-Encoding") != null);
        String query = request.getQueryString();
        Request call = new Request(request.getMethod(), request.getRequestURI() + (query == null ? "" : "?" + query),
                arg, request.getContentType(), withBody && body != null ? body : null, headersOf(request));
        if (selfRequests) {
            call = call.withSelfRequests(new SelfRequestDispatcher(getServletContext(), request, response,
                    selfRequestDepth, selfRequestsRunning));
        }
        boolean head = "HEAD".equals(request.getMethod());
        Step step = new Step(program, arg, NO_ERROR_STATUS);
        ClientStream client = new ClientStream(response, head);
        Result result;
        if (declared > 0) {
            try (InputStream in = request.getInputStream()) {
                result = started.run(step, call, in, declared, client);
            }
        } else {
            result = started.run(step, call, client);
        }
        if (!result.ok()) {
            Failure failure = result.failure().orElseThrow();
            String reason = KvmTransform.reason(failure);
            stats.failure(Outcome.fallback(program, reason), failure.message(), RequestLine.of(request));
            if (result.streamed() && response.isCommitted()) {
                // The head and part of the body have gone: the connection must end short of its Content-Length,
                // which the container does for a servlet that throws after committing.
                throw new StreamCutShort("program " + program + " failed after " + result.streamedBytes()
                        + " bytes of its streamed response (" + reason + "): the connection ends short of its length");
            }
            if (result.streamed()) {
                response.reset(); // nothing reached the client yet: it gets the failure status
            }
            fail(response, statusFor(failure.kind()), reason, "program " + program + " failed: " + reason);
            return;
        }
        stats.count(Outcome.applied(program));
        if (result.streamed()) {
            return; // written as the program produced it
        }
        writeHead(response, result.status(), result.contentType(), result.headers(), result.cacheHint());
        response.setContentLength(result.body().length);
        if (!head) {
            response.getOutputStream().write(result.body());
        }
    }

    /**
     * The protocol a request asks to switch to: the first of its {@code Upgrade} header when it is an HTTP/1.1 GET
     * whose {@code Connection} header lists {@code upgrade}; null when it asks for none, or for {@code h2c} (a client
     * trying HTTP/2 wants HTTP/2, not a program, and takes a plain answer).
     */
    static String upgradeProtocol(HttpServletRequest request) {
        if (!"GET".equals(request.getMethod()) || !"HTTP/1.1".equals(request.getProtocol())) {
            return null;
        }
        boolean listed = false;
        for (String value : Collections.list(request.getHeaders("Connection"))) {
            for (String token : value.split(",")) {
                listed |= token.trim().equalsIgnoreCase("upgrade");
            }
        }
        String upgrade = request.getHeader("Upgrade");
        if (!listed || upgrade == null) {
            return null;
        }
        String first = upgrade.split(",", 2)[0].trim();
        if (!PROTOCOL.matcher(first).matches() || first.toLowerCase(Locale.ROOT).equals("h2c")) {
            return null;
        }
        return first;
    }

    /**
     * Hands the connection to the program: an instance is taken and the session opened first, so that a full pool
     * or a failing program gets an HTTP answer; then 101, and the connection belongs to the program.
     *
     * @return false when the connection cannot be taken (on Jetty: a request of another environment); the request
     *     is then answered as any other
     */
    private boolean takeOver(Kvm started, String protocol, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        // Looked up before the program runs, so that a connection Jetty cannot hand over costs no session.
        JettyConnectionTakeover jetty = null;
        if (jettyConnections) {
            jetty = JettyConnectionTakeover.of(request);
            if (jetty == null) {
                return false;
            }
        }
        RequestLine line = RequestLine.of(request);
        String address = request.getRemoteAddr();
        String remote = (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + request.getRemotePort();
        ScheduledExecutorService timer = connectionTimer;
        if (timer == null) {
            fail(response, 503, "unavailable", "the servlet is being stopped");
            return true;
        }
        ProgramConnectionSession session = new ProgramConnectionSession(program, line, remote, connectionStats, timer,
                connectionIdleTimeout);
        ProgramConnection connection = started.openConnection(program, remote, line.url(), session);
        ConnectionOutcome opened = connection.opened();
        if (!opened.ok()) {
            Failure failure = opened.failure().orElseThrow();
            String reason = KvmTransform.reason(failure);
            stats.failure(Outcome.fallback(program, reason), failure.message(), line);
            fail(response, statusFor(failure.kind()), reason, "program " + program + " failed: " + reason);
            return true;
        }
        session.opened(connection, connectionMaxTime);
        response.setStatus(HttpServletResponse.SC_SWITCHING_PROTOCOLS);
        response.setHeader("Upgrade", protocol);
        response.setHeader("Connection", "Upgrade");
        if (jetty != null) {
            // Jetty hands the connection over once this 101 is complete, after this method returns.
            jetty.upgradeTo(session);
            return true;
        }
        ProgramConnectionUpgrade handler;
        try {
            handler = request.upgrade(ProgramConnectionUpgrade.class);
        } catch (IOException | ServletException | RuntimeException e) {
            connection.close("upgrade failed");
            throw new IOException("program " + program + ": the container refused the upgrade: " + e, e);
        }
        // The container calls init() after this method returns: the session is there by then.
        handler.serve(session);
        return true;
    }

    /** Status, content type, the program's own headers (not the container's framing ones) and Cache-Control. */
    private static void writeHead(HttpServletResponse response, int status, String contentType, List<String> headers,
            Optional<CacheHint> cacheHint) {
        response.setStatus(status == 0 ? 200 : status);
        if (!contentType.isEmpty()) {
            response.setContentType(contentType);
        }
        for (String field : headers) {
            HeaderField header = HeaderField.parse(field);
            if (header != null && !CONTAINER_HEADERS.contains(header.key())) {
                response.addHeader(header.name(), header.value());
            }
        }
        if (!response.containsHeader("Cache-Control")) {
            cacheHint.flatMap(ProgramServlet::cacheControl).ifPresent(value -> response.setHeader("Cache-Control", value));
        }
    }

    /** Ends a committed response short; without a stack trace, since the failure was logged with its cause. */
    private static final class StreamCutShort extends IOException {
        private static final long serialVersionUID = 1L;

        StreamCutShort(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /**
     * A streaming response (begin_streaming_response) written to the client as the program produces it: the head
     * with the announced Content-Length, then each piece, flushed. For HEAD the stream stops after the head.
     */
    private static final class ClientStream implements ResponseStream {
        private final HttpServletResponse response;
        private final boolean head;

        ClientStream(HttpServletResponse response, boolean head) {
            this.response = response;
            this.head = head;
        }

        @Override
        public void begin(int status, String contentType, long contentLength, List<String> headers,
                Optional<CacheHint> cacheHint) throws IOException {
            writeHead(response, status, contentType, headers, cacheHint);
            response.setContentLengthLong(contentLength);
            response.flushBuffer();
            if (head) {
                throw new IOException("HEAD: the head is the whole answer");
            }
        }

        @Override
        public void write(byte[] data, int length) throws IOException {
            response.getOutputStream().write(data, 0, length);
            response.flushBuffer();
        }
    }

    /**
     * The Cache-Control that says what the program said with {@code sys_set_cacheable} (its answer to Varnish's
     * cache under the VMOD): not cacheable is {@code no-store}; a ttl is {@code max-age}, a grace
     * {@code stale-while-revalidate} (both in whole seconds, rounded up). Keep (Varnish's time for conditional
     * revalidation) has no counterpart. Empty when the hint says nothing a client could use.
     */
    static Optional<String> cacheControl(CacheHint hint) {
        if (!hint.cacheable()) {
            return Optional.of("no-store");
        }
        if (hint.ttl().isZero()) {
            return Optional.empty();
        }
        String value = "max-age=" + seconds(hint.ttl());
        return Optional.of(hint.grace().isZero() ? value : value + ", stale-while-revalidate=" + seconds(hint.grace()));
    }

    private static long seconds(Duration d) {
        return (d.toMillis() + 999) / 1000;
    }

    /** The request body, or null when it is larger than allowed. */
    private byte[] readBody(HttpServletRequest request) throws IOException {
        if (request.getContentLengthLong() > maxRequestBodySize) {
            return null;
        }
        try (InputStream in = request.getInputStream()) {
            byte[] body = in.readNBytes((int) Math.min(maxRequestBodySize + 1, Integer.MAX_VALUE - 8));
            return body.length > maxRequestBodySize ? null : body;
        }
    }

    private static List<String> headersOf(HttpServletRequest request) {
        List<String> headers = new ArrayList<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            for (String value : Collections.list(request.getHeaders(name))) {
                if (value.indexOf('\n') < 0 && value.indexOf('\r') < 0 && value.indexOf('\0') < 0) {
                    headers.add(name + ": " + value);
                }
            }
        }
        return headers;
    }

    private static int statusFor(FailureKind kind) {
        return switch (kind) {
            case TIMEOUT -> HttpServletResponse.SC_GATEWAY_TIMEOUT;
            case QUEUE_TIMEOUT, UNAVAILABLE -> HttpServletResponse.SC_SERVICE_UNAVAILABLE;
            default -> HttpServletResponse.SC_BAD_GATEWAY;
        };
    }

    /** A failure answer: the status, {@code X-KVM-Program: failed=REASON} and the message as text (ImageServlet too). */
    static void fail(HttpServletResponse response, int status, String reason, String message)
            throws IOException {
        response.setStatus(status);
        response.setHeader(FAILURE_HEADER, "failed=" + reason);
        response.setContentType("text/plain;charset=UTF-8");
        byte[] text = (message + "\n").getBytes(StandardCharsets.UTF_8);
        response.setContentLength(text.length);
        response.getOutputStream().write(text);
    }

    /** Counters of what the servlet did: {@code applied=<program>}, {@code fallback=<program>:<reason>}. */
    public Map<String, Long> counters() {
        Map<String, Long> all = new TreeMap<>(stats.snapshot());
        connectionStats.snapshot().forEach((name, count) -> all.merge(name, count, Long::sum));
        return all;
    }

    /** The sandbox statistics as JSON (kvm-binding's format), or empty when the sandbox is not running. */
    public Optional<String> statsJson() {
        Kvm started = kvm;
        return started == null ? Optional.empty() : Optional.of(started.statsJson(".*", 2));
    }

    /** Stops the program's sandbox; its open connections are closed (their programs are told "shutdown"). */
    @Override
    public void destroy() {
        StatsRegistry.unregister(getServletContext(), "servlet:" + getServletName(), statsSource);
        ScheduledExecutorService timer = connectionTimer;
        connectionTimer = null;
        if (timer != null) {
            timer.shutdownNow();
        }
        Kvm started = kvm;
        kvm = null;
        if (started != null) {
            started.close();
        }
    }
}
