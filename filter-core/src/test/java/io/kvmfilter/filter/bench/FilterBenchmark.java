package io.kvmfilter.filter.bench;

import io.kvmfilter.filter.KvmFilter;
import io.kvmfilter.filter.KvmFilterConfig;
import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Request;
import io.kvmfilter.kvm.Result;
import io.kvmfilter.kvm.Step;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The servlet filter under load (issue #5): requests/s and p50/p99 latency measured by {@code wrk} at several
 * connection counts, for embedded Jetty 12 with KvmFilter against the same Jetty without it, in one JVM run.
 *
 * <p>Cases: (a) a 1 KB JSON file through {@code minify}; (b) a 1080p JPEG through {@code webp}; (c) the fallback
 * path: a truncated JPEG that {@code webp} rejects, served as the original. The filter runs with the result cache
 * off ({@code cacheSize=0}) so every request really runs the program; cases (a) and (b) are repeated with the
 * cache on. Prints a Markdown report (machine, command, date, tables, cost breakdown) on standard output.
 *
 * <p>A program, not a test: run it with {@code filter-core/bench/run.sh}. Options: {@code --duration=SECONDS}
 * (per measurement, default 10), {@code --warmup=SECONDS} (default 3), {@code --connections=1,16,64},
 * {@code --concurrency=2} (instances per program),
 * {@code --cases=json,jpeg,fallback,json-cached,jpeg-cached} and {@code --corpus=FOLDER} (default
 * /work/shared/corpus).
 */
public final class FilterBenchmark {

    /** Two instances per program by default: one per core of the 2-core benchmark machine (the bundled default too). */
    static final int DEFAULT_CONCURRENCY = 2;
    /** Long enough that at 64 connections the webp queue drains instead of turning into fallbacks. */
    static final Duration QUEUE_TIMEOUT = Duration.ofSeconds(30);
    /** wrk's per-request timeout: a queued webp request may legitimately wait several seconds. */
    static final int WRK_TIMEOUT_SECONDS = 30;
    static final String JPEG_RULE = "image/jpeg -> image/webp: webp";
    static final String JSON_RULE = "application/json -> minify";

    /** One benchmark case: a file, the Accept header and the outcome the filter must report for it. */
    record Case(String name, String title, String path, String accept, boolean cached, String expectedOutcome) {
        String program() {
            return accept.equals("image/webp") ? "webp" : "minify";
        }
    }

    /** The paired measurement of one case at one connection count. */
    record Row(Case c, int connections, Wrk.Result plain, Wrk.Result filtered, double plainCpuMicros,
            double filteredCpuMicros, double plainIdle, double filteredIdle, Map<String, Long> outcomes) {
    }

    private final int duration;
    private final int warmup;
    private final List<Integer> connections;
    private final List<String> caseNames;
    private final Path corpus;
    /** Instances per program (--concurrency). */
    private final int concurrency;
    /** The filter's rules: only those the chosen cases need, so a run without minify still works. */
    private String rules;

    private FilterBenchmark(Map<String, String> options) {
        duration = Integer.parseInt(options.getOrDefault("duration", "10"));
        warmup = Integer.parseInt(options.getOrDefault("warmup", "3"));
        connections = Arrays.stream(options.getOrDefault("connections", "1,16,64").split(","))
                .map(String::trim).map(Integer::valueOf).toList();
        caseNames = List.of(options.getOrDefault("cases", "json,jpeg,fallback,json-cached,jpeg-cached").split(","));
        corpus = Path.of(options.getOrDefault("corpus", "/work/shared/corpus"));
        concurrency = Integer.parseInt(options.getOrDefault("concurrency", Integer.toString(DEFAULT_CONCURRENCY)));
        if (concurrency < 1 || concurrency > 64) {
            throw new IllegalArgumentException("--concurrency must be 1..64 instances per program");
        }
        if (duration < 1 || duration > 60 || warmup < 0 || warmup > 30) {
            throw new IllegalArgumentException("--duration must be 1..60 and --warmup 0..30 seconds");
        }
        for (int c : connections) {
            if (c < 1 || c > 256) {
                throw new IllegalArgumentException("--connections: " + c + " is outside 1..256");
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new IllegalArgumentException("unknown argument \"" + arg + "\": expected --name=value "
                        + "(duration, warmup, connections, cases, corpus, concurrency)");
            }
            options.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        Kvm.checkAvailable();
        new FilterBenchmark(options).run();
    }

    private void run() throws Exception {
        Path files = Files.createTempDirectory("kvmfilter-bench");
        try {
            byte[] json = writeFiles(files);
            List<Case> cases = cases().stream().filter(c -> caseNames.contains(c.name())).toList();
            if (cases.isEmpty()) {
                throw new IllegalArgumentException("--cases names none of json, jpeg, fallback, json-cached, jpeg-cached,"
                        + " jpeg-cached-strong, json-cached-strong");
            }
            List<String> programs = cases.stream().map(Case::program).distinct().toList();
            rules = programs.stream().map(p -> p.equals("webp") ? JPEG_RULE : JSON_RULE).collect(Collectors.joining("\n"));
            String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
            List<Row> rows = new ArrayList<>();
            try (BenchServer plain = new BenchServer(files, null);
                    BenchServer uncached = new BenchServer(files, new KvmFilter(filterConfig(0, programs)));
                    BenchServer cached = new BenchServer(files, new KvmFilter(filterConfig(KvmFilterConfig.DEFAULT_CACHE_SIZE, programs)))) {
                for (Case c : cases) {
                    BenchServer filtered = c.cached() ? cached : uncached;
                    check(plain, c, false);
                    check(filtered, c, true);
                    progress("warm-up " + c.name());
                    if (warmup > 0) {
                        Wrk.run(plain.url(c.path()), c.accept(), 16, warmup, WRK_TIMEOUT_SECONDS);
                        Wrk.run(filtered.url(c.path()), c.accept(), 16, warmup, WRK_TIMEOUT_SECONDS);
                        awaitIdle();
                    }
                    for (int conns : connections) {
                        progress(c.name() + " at " + conns + " connections");
                        rows.add(measure(c, conns, plain, filtered));
                    }
                }
            }
            List<SandboxCost> sandbox = caseNames.contains("json") ? measureSandbox(json) : List.of();
            System.out.print(report(date, cases, rows, json.length, sandbox));
        } finally {
            try (Stream<Path> list = Files.list(files)) {
                for (Path p : list.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(files);
        }
    }

    private static List<Case> cases() {
        return List.of(
                new Case("json", "(a) 1 KB JSON through minify, cache off", "/data.json", "application/json", false,
                        "applied=minify"),
                new Case("jpeg", "(b) 1080p JPEG through webp, cache off", "/photo.jpg", "image/webp", false,
                        "applied=webp"),
                new Case("fallback", "(c) truncated 1080p JPEG: webp fails, original served, cache off", "/truncated.jpg",
                        "image/webp", false, "fallback=webp:"),
                new Case("json-cached", "(a') 1 KB JSON through minify, cache on (32 MiB)", "/data.json",
                        "application/json", true, "applied=minify"),
                new Case("jpeg-cached", "(b') 1080p JPEG through webp, cache on (32 MiB), weak ETag (Jetty's DefaultServlet)",
                        "/photo.jpg", "image/webp", true, "applied=webp"),
                new Case("jpeg-cached-strong", "(b'') 1080p JPEG through webp, cache on (32 MiB), strong ETag",
                        "/strong/photo.jpg", "image/webp", true, "applied=webp"),
                new Case("json-cached-strong", "(a'') 1 KB JSON through minify, cache on (32 MiB), strong ETag",
                        "/strong/data.json", "application/json", true, "applied=minify"));
    }

    private KvmFilterConfig filterConfig(long cacheSize, List<String> programs) {
        KvmFilterConfig.Builder builder = KvmFilterConfig.builder()
                .rules(rules)
                .cacheSize(cacheSize)
                .queueTimeout(QUEUE_TIMEOUT)
                // The waiting line as long as the old queue: at 64 connections the webp queue drains instead of
                // turning into fallbacks (busy, queue-timeout), as in the earlier runs.
                .maxWaiters(256)
                .maxWait(QUEUE_TIMEOUT);
        for (String program : programs) {
            builder.programSetting(program, "concurrency", concurrency);
        }
        return builder.build();
    }

    /** Writes the served files; returns the JSON body. */
    private byte[] writeFiles(Path folder) throws IOException {
        byte[] json = oneKilobyteJson();
        Files.write(folder.resolve("data.json"), json);
        byte[] jpeg = Files.readAllBytes(corpus.resolve("images/hubble1080.jpg"));
        Files.write(folder.resolve("photo.jpg"), jpeg);
        // The header and the first half of the scan: the decoder runs out of data and webp answers 422.
        Files.write(folder.resolve("truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
        return json;
    }

    /** An API-style JSON document, pretty-printed as servers often send it, of about 1 KB. */
    static byte[] oneKilobyteJson() {
        StringBuilder items = new StringBuilder();
        String[] names = {"Ada Lovelace", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth",
            "Frances Allen", "Ken Thompson", "Margaret Hamilton", "John Backus"};
        for (int i = 0; i < names.length; i++) {
            items.append(i == 0 ? "" : ",\n").append(String.format(Locale.ROOT,
                    "    {\n      \"id\": %d,\n      \"name\": \"%s\",\n      \"active\": %s,\n      \"score\": %d.%d\n    }",
                    1000 + i, names[i], i % 3 != 0, 50 + i * 7, i));
        }
        String text = "{\n  \"page\": 1,\n  \"per_page\": 9,\n  \"users\": [\n" + items + "\n  ]\n}\n";
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** One request before measuring: the response must be what the case claims to measure. */
    private static void check(BenchServer server, Case c, boolean filtered) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(URI.create(server.url(c.path())))
                .header("Accept", c.accept()).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
        String outcome = response.headers().firstValue("X-KVM-Transform").orElse("(none)");
        boolean ok = response.statusCode() == 200 && (filtered ? outcome.startsWith(c.expectedOutcome()) : outcome.equals("(none)"));
        if (!ok) {
            throw new IllegalStateException(c.name() + " on the " + (filtered ? "filtered" : "plain") + " server: status "
                    + response.statusCode() + ", X-KVM-Transform " + outcome + "; expected 200 and "
                    + (filtered ? c.expectedOutcome() : "no header"));
        }
        progress(c.name() + (filtered ? " filtered: " : " plain: ") + response.statusCode() + " "
                + response.headers().firstValue("Content-Type").orElse("?") + ", " + response.body().length
                + " bytes, X-KVM-Transform " + outcome);
    }

    private Row measure(Case c, int conns, BenchServer plain, BenchServer filtered) throws Exception {
        long cpu0 = processCpuNanos();
        long[] ticks0 = Machine.cpuTicks();
        Wrk.Result p = Wrk.run(plain.url(c.path()), c.accept(), conns, duration, WRK_TIMEOUT_SECONDS);
        long[] ticks1 = Machine.cpuTicks();
        awaitIdle();
        long cpu1 = processCpuNanos();
        Map<String, Long> before = filtered.filter().counters();
        long[] ticks2 = Machine.cpuTicks();
        Wrk.Result f = Wrk.run(filtered.url(c.path()), c.accept(), conns, duration, WRK_TIMEOUT_SECONDS);
        long[] ticks3 = Machine.cpuTicks();
        // Requests wrk gave up on at the end are still queued for webp: they are part of this run's cost.
        awaitIdle();
        long cpu2 = processCpuNanos();
        Map<String, Long> outcomes = new TreeMap<>();
        filtered.filter().counters().forEach((k, v) -> {
            long delta = v - before.getOrDefault(k, 0L);
            if (delta != 0) {
                outcomes.put(k, delta);
            }
        });
        // Hits are counted as applied too; requests finished after wrk stopped are counted by the filter only.
        long handled = outcomes.entrySet().stream().filter(e -> !e.getKey().startsWith("cache-hit"))
                .mapToLong(Map.Entry::getValue).sum();
        return new Row(c, conns, p, f, (cpu1 - cpu0) / 1e3 / Math.max(1, p.requests()),
                (cpu2 - cpu1) / 1e3 / Math.max(1, Math.max(f.requests(), handled)), Machine.idleShare(ticks0, ticks1),
                Machine.idleShare(ticks2, ticks3), outcomes);
    }

    /** What sandbox calls cost without HTTP: the minify request the filter makes, from some threads at once. */
    record SandboxCost(int threads, int calls, double callsPerSecond, double p50Micros, double p99Micros,
            double cpuMicrosPerCall) {
    }

    /** Calls minify directly through kvm-binding, with the filter's pool size, from 1, 2 and 16 threads. */
    private List<SandboxCost> measureSandbox(byte[] json) throws Exception {
        progress("sandbox round trips of minify without HTTP");
        ProgramLibrary library = ProgramLibrary.bundled()
                .configure("minify", Map.<String, Object>of("concurrency", concurrency, "queue_timeout", 30));
        List<SandboxCost> costs = new ArrayList<>();
        try (Kvm kvm = Kvm.start(library, "filter-bench-direct")) {
            List<Step> steps = List.of(Step.of("minify"));
            Request request = Request.post("/data.json", "application/json", json);
            for (int i = 0; i < 1000; i++) {
                expectOk(kvm.chain(steps, request));
            }
            for (int threads : List.of(1, 2, 16)) {
                int perThread = 8000 / threads;
                long[][] nanos = new long[threads][perThread];
                List<Thread> workers = new ArrayList<>();
                List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long[] mine = nanos[t];
                    workers.add(new Thread(() -> {
                        try {
                            for (int i = 0; i < perThread; i++) {
                                long t0 = System.nanoTime();
                                Result result = kvm.chain(steps, request);
                                mine[i] = System.nanoTime() - t0;
                                expectOk(result);
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }));
                }
                long cpu0 = processCpuNanos();
                long wall0 = System.nanoTime();
                workers.forEach(Thread::start);
                for (Thread worker : workers) {
                    worker.join();
                }
                long wall = System.nanoTime() - wall0;
                long cpu = processCpuNanos() - cpu0;
                if (!failures.isEmpty()) {
                    throw new IllegalStateException("direct sandbox measurement failed", failures.get(0));
                }
                long[] all = Arrays.stream(nanos).flatMapToLong(Arrays::stream).sorted().toArray();
                costs.add(new SandboxCost(threads, all.length, all.length / (wall / 1e9), all[all.length / 2] / 1e3,
                        all[all.length * 99 / 100] / 1e3, cpu / 1e3 / all.length));
            }
        }
        return costs;
    }

    private static void expectOk(Result result) {
        if (!result.ok() || result.status() != 200) {
            throw new IllegalStateException("minify failed in the direct measurement: " + result);
        }
    }

    /**
     * Waits (at most 60 s) until this JVM uses less than 5% of a core: when wrk stops, requests it sent may still
     * be queued for a program, and their work must not run into the next measurement.
     */
    private static void awaitIdle() throws InterruptedException {
        for (int i = 0; i < 120; i++) {
            long cpu0 = processCpuNanos();
            Thread.sleep(500);
            if (processCpuNanos() - cpu0 < 25_000_000L) {
                return;
            }
        }
        progress("the server was still busy 60 s after wrk stopped; measuring anyway");
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static void progress(String message) {
        System.err.println("[bench] " + message);
    }

    private String report(String date, List<Case> cases, List<Row> rows, int jsonSize, List<SandboxCost> sandbox) {
        StringBuilder out = new StringBuilder();
        out.append("Measured ").append(date).append(" on ").append(Machine.describe()).append(".\n");
        out.append("Java ").append(System.getProperty("java.version")).append(", Jetty ").append(BenchServer.jettyVersion())
                .append(", wrk: `").append(String.join(" ", rows.isEmpty() ? List.of() : rows.get(0).filtered().command())
                        .replaceAll("http://\\S+", "URL")).append("` (threads = min(connections, 2)).\n\n");
        out.append("Filter: rules `").append(rules.replace("\n", "; ")).append("`, `cacheSize=0` (cache off) unless noted, ")
                .append("`").append(concurrency).append("` instances per program, `queueTimeout=")
                .append(QUEUE_TIMEOUT.toSeconds()).append("s`. JSON body ").append(jsonSize).append(" bytes.\n\n");
        for (Case c : cases) {
            out.append("**").append(c.title()).append("**\n\n");
            out.append("| connections | no filter req/s | filter req/s | filter / no filter | no filter p50 / p99 | "
                    + "filter p50 / p99 | JVM CPU per request, no filter / filter | machine idle, no filter / filter | filter outcomes |\n");
            out.append("|---|---|---|---|---|---|---|---|---|\n");
            for (Row r : rows) {
                if (r.c() != c) {
                    continue;
                }
                out.append(String.format(Locale.ROOT, "| %d | %.0f | %.0f | %.2f | %s / %s | %s / %s | %.0f µs / %.0f µs | %.0f%% / %.0f%% | %s |%n",
                        r.connections(), r.plain().requestsPerSecond(), r.filtered().requestsPerSecond(),
                        r.filtered().requestsPerSecond() / r.plain().requestsPerSecond(),
                        Wrk.formatLatency(r.plain().p50Micros()), Wrk.formatLatency(r.plain().p99Micros()),
                        Wrk.formatLatency(r.filtered().p50Micros()), Wrk.formatLatency(r.filtered().p99Micros()),
                        r.plainCpuMicros(), r.filteredCpuMicros(), 100 * r.plainIdle(), 100 * r.filteredIdle(), outcomes(r)));
            }
            out.append('\n');
        }
        if (!sandbox.isEmpty()) {
            out.append(String.format(Locale.ROOT, "**Sandbox calls alone** (kvm-binding `Kvm.chain`, minify of the same "
                    + "%d-byte JSON, no HTTP, %d instances, same JVM after the servers stopped)%n%n", jsonSize,
                    concurrency));
            out.append("| threads | calls | calls/s | p50 | p99 | JVM CPU per call |\n|---|---|---|---|---|---|\n");
            for (SandboxCost s : sandbox) {
                out.append(String.format(Locale.ROOT, "| %d | %d | %.0f | %s | %s | %.0f µs |%n", s.threads(), s.calls(),
                        s.callsPerSecond(), Wrk.formatLatency(s.p50Micros()), Wrk.formatLatency(s.p99Micros()),
                        s.cpuMicrosPerCall()));
            }
            out.append('\n');
        }
        return out.toString();
    }

    private static String outcomes(Row r) {
        List<String> parts = r.outcomes().entrySet().stream()
                .sorted(Comparator.comparing(Map.Entry<String, Long>::getValue).reversed())
                .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.toList());
        long errors = r.plain().socketErrors() + r.filtered().socketErrors() + r.plain().non2xx() + r.filtered().non2xx();
        if (errors > 0) {
            parts.add("wrk errors/non-2xx: no filter " + (r.plain().socketErrors() + r.plain().non2xx()) + ", filter "
                    + (r.filtered().socketErrors() + r.filtered().non2xx()));
        }
        return String.join(", ", parts);
    }
}
