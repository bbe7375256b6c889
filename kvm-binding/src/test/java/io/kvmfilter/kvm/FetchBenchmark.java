package io.kvmfilter.kvm;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Where the HTTP client of sys_fetch should live: libcurl inside the native core, or the JVM's
 * {@link HttpClient} reached through a host callback ({@code kvmf_instance_fetch_with}). Both ways run the
 * same guest (the C suite's "fetch" guest, argument {@code result:URL}) against the same origin in the same
 * run:
 * <ul>
 *   <li><b>libcurl</b>: the program has an egress policy allowing the origin and no handler, so the core
 *       fetches by libcurl (src-native/core/curl_fetch.c);</li>
 *   <li><b>HttpClient</b>: the program has no policy; before each run a Java {@link KvmNative.FetchHandler}
 *       is set, which makes the same GET with one shared HttpClient (HTTP/1.1) and hands status,
 *       Content-Type, header lines and body to the core;</li>
 *   <li><b>baseline</b>: the libcurl program fetching a URL its policy refuses, so no network is used: what a
 *       request costs the sandbox itself, to subtract from both.</li>
 * </ul>
 * The origin is the JDK's HTTP server on 127.0.0.1 in this JVM, serving /1k and /100k with keep-alive and
 * TCP_NODELAY (without it Nagle's algorithm and the client's delayed ACK add 40 ms to small answers). Each round
 * makes one request of every kind (each way at each body size, and the baseline) in an order that turns from round
 * to round, so load from other processes and the JVM's compiling, which goes on well past the warm-up, fall on all
 * kinds alike. For each kind it prints the p50 and p90 wall time of a request (acquire, run, release) and the
 * process CPU per request: CPU-time deltas summed over that kind's requests only. The origin runs in this process
 * for every way, so the CPU difference between the ways is their clients'. Two CPU clocks are read:
 * {@code clock_gettime(CLOCK_PROCESS_CPUTIME_ID)} (nanoseconds; the one in the table) and
 * {@code OperatingSystemMXBean.getProcessCpuTime()}, which on Linux JDK 17 counts in 10 ms clock ticks and so is
 * only a rough cross-check over a few thousand requests of a few hundred microseconds.
 *
 * <p>Not part of the test run (surefire only runs *Test classes). After {@code make -C src-native} (which builds
 * the guest, src-native/build/tests/guests/fetch), from kvm-binding:
 * <pre>
 * ../mvnw -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
 * java -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) \
 *     -Dkvmfilter.library.path=../src-native/build/lib/libkvmfilter.so io.kvmfilter.kvm.FetchBenchmark
 * </pre>
 * The library path is given because target/classes holds the copy of libkvmfilter.so made by the last Maven
 * build, which would otherwise be loaded instead of the freshly built one (see {@link NativeLoader}). Arguments,
 * both optional: the requests of each kind (default 2000) and the warm-up rounds (default 300).
 */
public final class FetchBenchmark {

    private static final int EPERM = 1;
    private static final int EIO = 5;
    private static final int EFBIG = 27;
    private static final int CLOCK_PROCESS_CPUTIME_ID = 2;
    private static final List<Integer> SIZES = List.of(1024, 100 * 1024);

    /** How a request is made. */
    private enum Way {
        CURL("libcurl in the core"),
        JAVA("JVM HttpClient via callback"),
        BASELINE("baseline (refused, no network)");

        final String label;

        Way(String label) {
            this.label = label;
        }
    }

    /** clock_gettime from the C library: the process's CPU time to the nanosecond. */
    private static final class Libc {
        static {
            Native.register(Platform.C_LIBRARY_NAME);
        }

        static native int clock_gettime(int clock, long[] timespec);
    }

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** Kept in a field: the core holds only the callback's native address, which JNA frees once this is collected. */
    private final KvmNative.FetchHandler handler = this::fetch;
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final long[] timespec = new long[2];
    private final long[] out = new long[1];
    private final byte[] get = NativeStrings.cString("GET");
    private final byte[] root = NativeStrings.cString("/");
    private long response;
    private LoadedProgram viaCurl;
    private LoadedProgram viaJava;
    /** The client connections the origin saw, by User-Agent (libcurl sends none): both ways must keep them open. */
    private final Map<String, Set<String>> connections = new ConcurrentHashMap<>();
    /** Wall time in the Java handler and in its HttpClient.send, summed: where the Java way's time goes. */
    private long handlerNanos;
    private long sendNanos;
    /** The last exception of the Java handler, printed when a check fails. */
    private volatile Exception handlerFailure;

    /** One kind of request: its wall times, their sum, its summed CPU and (the Java way) its time in the handler. */
    private static final class Samples {
        final long[] wallNanos;
        int count;
        long wallSum;
        long cpuNanos;
        long mxCpuNanos;
        long handlerNanos;
        long sendNanos;

        Samples(int capacity) {
            wallNanos = new long[capacity];
        }

        long percentile(int p) {
            long[] sorted = Arrays.copyOf(wallNanos, count);
            Arrays.sort(sorted);
            return sorted[Math.min(count - 1, count * p / 100)];
        }
    }

    /**
     * Runs the benchmark.
     *
     * @param args optional: requests of each kind (default 2000), warm-up rounds (default 300)
     */
    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        System.exit(new FetchBenchmark().run(requests, warmup));
    }

    private int run(int requests, int warmup) throws Exception {
        KvmTestEnvironment.requireKvm();
        Path guest = Path.of("../src-native/build/tests/guests/fetch");
        if (!Files.isRegularFile(guest)) {
            guest = Path.of("src-native/build/tests/guests/fetch");
        }
        if (!Files.isRegularFile(guest)) {
            System.err.println("The guest src-native/build/tests/guests/fetch is missing: run make -C src-native");
            return 2;
        }
        ExecutorService originThreads = Executors.newFixedThreadPool(4);
        HttpServer origin = startOrigin(originThreads);
        int port = origin.getAddress().getPort();
        try {
            String file = guest.toAbsolutePath().normalize().toString();
            String library = "{ \"curl\": { \"filename\": \"" + file + "\", \"egress\": { \"hosts\": [\"127.0.0.1\"], "
                    + "\"addresses\": [\"127.0.0.1\"], \"ports\": [" + port + "] } },"
                    + " \"java\": { \"filename\": \"" + file + "\" } }";
            ProgramLibrary programs = ProgramLibrary.parse(library, null);
            viaCurl = LoadedProgram.load(programs.program("curl"), stats -> { });
            viaJava = LoadedProgram.load(programs.program("java"), stats -> { });
            response = NativeMemory.allocate(NativeLayout.RESPONSE_SIZE);
            try {
                return measure(port, requests, warmup);
            } finally {
                viaCurl.release();
                viaJava.release();
                NativeMemory.free(response);
            }
        } finally {
            origin.stop(0);
            originThreads.shutdownNow();
        }
    }

    private HttpServer startOrigin(ExecutorService threads) throws Exception {
        // Without TCP_NODELAY the server's small writes (head, then a 1 KiB body) wait for the client's delayed ACK:
        // 40 ms per request, which would be measured as the client's. Read once, when the server classes load.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        HttpServer origin = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        for (int size : SIZES) {
            byte[] body = new byte[size];
            Arrays.fill(body, (byte) 'x');
            origin.createContext(path(size), exchange -> {
                exchange.getRequestBody().readAllBytes();
                String agent = exchange.getRequestHeaders().getFirst("User-Agent");
                connections.computeIfAbsent(agent == null ? "libcurl (no User-Agent)" : agent,
                        a -> ConcurrentHashMap.newKeySet()).add(exchange.getRemoteAddress().toString());
                exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
                exchange.sendResponseHeaders(200, body.length); // a known length: the connection stays open
                try (OutputStream o = exchange.getResponseBody()) {
                    o.write(body);
                }
            });
        }
        origin.setExecutor(threads);
        origin.start();
        return origin;
    }

    private static String path(int size) {
        return size % 1024 == 0 ? "/" + size / 1024 + "k" : "/" + size;
    }

    /** One kind of request measured: a way, the body size it fetches ("none" for the baseline), its argument. */
    private record Case(Way way, String body, byte[] arg, Samples samples) {
    }

    private int measure(int port, int requests, int warmup) {
        List<Case> cases = new ArrayList<>();
        for (int size : SIZES) {
            byte[] arg = NativeStrings.cString("result:http://127.0.0.1:" + port + path(size));
            for (Way way : List.of(Way.CURL, Way.JAVA)) {
                cases.add(new Case(way, path(size).substring(1), arg, new Samples(requests)));
            }
        }
        cases.add(new Case(Way.BASELINE, "none", NativeStrings.cString("result:http://refused.invalid/1k"),
                new Samples(requests)));
        for (Case c : cases) {
            if (!check(c.way(), c.arg(), expected(c.way()))) {
                return 1;
            }
        }
        // Every kind of request in every round, in an order that turns each round: load from other processes and
        // the JVM still compiling (which goes on well past the warm-up) fall on all of them alike.
        for (int i = 0; i < warmup + requests; i++) {
            for (int k = 0; k < cases.size(); k++) {
                Case c = cases.get((i + k) % cases.size());
                time(c.way(), c.arg(), i < warmup ? null : c.samples());
            }
        }
        System.out.printf("%d requests of each kind after %d warm-up, interleaved%n", requests, warmup);
        StringBuilder table = new StringBuilder()
                .append("| body | way | p50 wall (µs) | p90 wall (µs) | CPU per request (µs) |\n")
                .append("|---|---|---|---|---|\n");
        for (Case c : cases) {
            System.out.printf("%-5s ", c.body());
            print(c.way(), c.samples());
            table.append(String.format("| %s | %s | %.1f | %.1f | %.1f |%n", c.body(), c.way().label,
                    c.samples().percentile(50) / 1e3, c.samples().percentile(90) / 1e3,
                    c.samples().cpuNanos / 1e3 / c.samples().count));
        }
        connections.forEach((agent, seen) -> System.out.printf("connections opened by %s: %d%n", agent, seen.size()));
        System.out.println();
        System.out.print(table);
        return 0;
    }

    private static String expected(Way way) {
        return way == Way.BASELINE ? "rc=-" + EPERM : "rc=0";
    }

    /** One request before measuring: a benchmark of failing requests would measure the failures. */
    private boolean check(Way way, byte[] arg, String expected) {
        String body = time(way, arg, null);
        if (!body.equals(expected)) {
            System.err.printf("%s: \"%s\" answered \"%s\", expected \"%s\"%n", way.label,
                    new String(arg, 0, arg.length - 1, StandardCharsets.UTF_8), body, expected);
            if (handlerFailure != null) {
                handlerFailure.printStackTrace();
            }
            return false;
        }
        return true;
    }

    /** Makes one request the given way, adds its wall and CPU time to samples (unless null); its body. */
    private String time(Way way, byte[] arg, Samples samples) {
        LoadedProgram program = way == Way.JAVA ? viaJava : viaCurl;
        long handler0 = handlerNanos;
        long send0 = sendNanos;
        long cpu0 = cpuNanos();
        long mx0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        if (KvmNative.kvmf_program_acquire(program.handle, 1000, out) != 0) {
            throw new IllegalStateException(NativeStrings.lastError());
        }
        String body;
        try {
            if (way == Way.JAVA) {
                KvmNative.kvmf_instance_fetch_with(out[0], handler, 0);
            }
            int rc = KvmNative.kvmf_instance_run(out[0], get, root, arg, null, 0, 0, null, 0, 0, response);
            Pointer r = new Pointer(response);
            long status = r.getLong(NativeLayout.RESPONSE_STATUS);
            if (rc != 0 || status != 200) {
                throw new IllegalStateException(way.label + ": run failed (rc " + rc + ", status " + status + "): "
                        + NativeStrings.fromCString(r.getLong(NativeLayout.RESPONSE_ERROR_MESSAGE)));
            }
            body = NativeStrings.fromBytes(r.getLong(NativeLayout.RESPONSE_BODY),
                    r.getLong(NativeLayout.RESPONSE_BODY_LEN));
        } finally {
            KvmNative.kvmf_instance_release(out[0]);
        }
        long t1 = System.nanoTime();
        long cpu1 = cpuNanos();
        long mx1 = os.getProcessCpuTime();
        if (samples != null) {
            // Every measured request must have fetched (or, for the baseline, been refused) like the checked one.
            if (!body.equals(expected(way))) {
                throw new IllegalStateException(way.label + " answered \"" + body + "\" during the measurement",
                        handlerFailure);
            }
            samples.wallNanos[samples.count++] = t1 - t0;
            samples.wallSum += t1 - t0;
            samples.handlerNanos += handlerNanos - handler0;
            samples.sendNanos += sendNanos - send0;
            samples.cpuNanos += cpu1 - cpu0;
            samples.mxCpuNanos += mx1 - mx0;
        }
        return body;
    }

    private long cpuNanos() {
        Libc.clock_gettime(CLOCK_PROCESS_CPUTIME_ID, timespec);
        return timespec[0] * 1_000_000_000L + timespec[1];
    }

    /** The Java way: the program's GET made with the shared HttpClient and handed to the core. */
    private int fetch(long ctx, long request, long reply) {
        long start = System.nanoTime();
        try {
            Pointer r = new Pointer(request);
            if (r.getLong(NativeLayout.FETCH_REQUEST_SELF) != 0
                    || !"GET".equals(NativeStrings.fromCString(r.getLong(NativeLayout.FETCH_REQUEST_METHOD)))) {
                return EPERM; // the guest's result: argument only GETs; nothing else is modelled here
            }
            String url = NativeStrings.fromBytes(r.getLong(NativeLayout.FETCH_REQUEST_URL),
                    r.getLong(NativeLayout.FETCH_REQUEST_URL_LEN));
            HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url)).GET();
            long timeLeft = r.getLong(NativeLayout.FETCH_REQUEST_TIME_LEFT_MS);
            if (timeLeft > 0) {
                builder.timeout(Duration.ofMillis(timeLeft)); // the handler's time is the program's
            }
            String fields = NativeStrings.fromBytes(r.getLong(NativeLayout.FETCH_REQUEST_FIELDS),
                    r.getLong(NativeLayout.FETCH_REQUEST_FIELDS_LEN));
            for (String line : fields.split("\n")) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    builder.header(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
                }
            }
            long beforeSend = System.nanoTime();
            HttpResponse<byte[]> answer = client.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
            sendNanos += System.nanoTime() - beforeSend;
            byte[] body = answer.body();
            if (body.length > r.getLong(NativeLayout.FETCH_REQUEST_MAX_BODY)) {
                return EFBIG;
            }
            byte[] type = answer.headers().firstValue("Content-Type").orElse("").getBytes(StandardCharsets.UTF_8);
            KvmNative.kvmf_fetch_reply_status(reply, answer.statusCode(), type, type.length);
            // The header lines too, as the libcurl way gives them: both ways leave the program the same answer.
            for (Map.Entry<String, List<String>> header : answer.headers().map().entrySet()) {
                for (String value : header.getValue()) {
                    byte[] line = (header.getKey() + ": " + value).getBytes(StandardCharsets.UTF_8);
                    KvmNative.kvmf_fetch_reply_header(reply, line, line.length);
                }
            }
            int rc = KvmNative.kvmf_fetch_reply_body(reply, body, body.length);
            return rc == 0 ? 0 : FailureKind.fromNative(rc) == FailureKind.RESPONSE_TOO_LARGE ? EFBIG : EIO;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            handlerFailure = e;
            return EIO;
        } catch (Exception e) {
            handlerFailure = e;
            return EIO;
        } finally {
            handlerNanos += System.nanoTime() - start;
        }
    }

    private static void print(Way way, Samples s) {
        System.out.printf("%-31s p50 %7.1f us  p90 %7.1f us  mean %7.1f us  CPU/request %7.1f us (MXBean %5.0f us)%n",
                way.label, s.percentile(50) / 1e3, s.percentile(90) / 1e3, s.wallSum / 1e3 / s.count,
                s.cpuNanos / 1e3 / s.count, s.mxCpuNanos / 1e3 / s.count);
        if (s.handlerNanos > 0) {
            System.out.printf("      %-31s mean %7.1f us in the handler, %7.1f us of it in HttpClient.send%n", "",
                    s.handlerNanos / 1e3 / s.count, s.sendNanos / 1e3 / s.count);
        }
    }
}
