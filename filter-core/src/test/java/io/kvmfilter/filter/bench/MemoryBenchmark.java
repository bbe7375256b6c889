package io.kvmfilter.filter.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvmfilter.filter.KvmFilter;
import io.kvmfilter.filter.KvmFilterConfig;
import io.kvmfilter.kvm.Kvm;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * Memory after a load (issue #12 item 7): does the server give back what an image load made it take? One embedded
 * Jetty 12 with KvmFilter (result store off, so every request runs a program; the bundled programs at their
 * defaults, {@code trim_idle_time} 60 s) serves the corpus images; {@code --clients=4} clients ask AVIF and WebP of
 * them for {@code --load=60} seconds, then nothing happens for {@code --after=180} seconds. Every 10 s it prints
 * the process's resident memory (VmRSS), the bytes the program instances hold ({@code instance_bytes} of the
 * statistics) and the Java heap committed, as Markdown. Run it like {@link FilterBenchmark}:
 * {@code BENCH=MemoryBenchmark filter-core/bench/run.sh > report.md}.
 */
public final class MemoryBenchmark {

    private static final Path CORPUS = Path.of("/work/shared/corpus/images");
    private static final long MIB = 1024 * 1024;

    private MemoryBenchmark() {
    }

    record Sample(int second, String phase, long rssBytes, long instanceBytes, long heapCommitted, long requests) {
    }

    public static void main(String[] args) throws Exception {
        int clients = 4;
        int load = 60;
        int after = 180;
        for (String arg : args) {
            if (arg.startsWith("--clients=")) {
                clients = Integer.parseInt(arg.substring(10));
            } else if (arg.startsWith("--load=")) {
                load = Integer.parseInt(arg.substring(7));
            } else if (arg.startsWith("--after=")) {
                after = Integer.parseInt(arg.substring(8));
            } else {
                throw new IllegalArgumentException("unknown argument " + arg
                        + " (--clients=N, --load=S, --after=S)");
            }
        }
        Kvm.checkAvailable();
        List<String> images;
        try (Stream<Path> list = Files.list(CORPUS)) {
            images = list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jpg") || n.endsWith(".png"))
                    .sorted().toList();
        }
        KvmFilterConfig config = KvmFilterConfig.builder()
                .rules("image/jpeg, image/png -> image/avif: avif, image/webp: webp").cacheSize(0).build();
        KvmFilter filter = new KvmFilter(config);
        try (BenchServer server = new BenchServer(CORPUS, filter)) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            // Both programs booted and warmed up: the baseline is a server ready to convert.
            get(http, server.url("/" + images.get(0)), "image/avif");
            get(http, server.url("/" + images.get(0)), "image/webp");
            List<Sample> samples = new ArrayList<>();
            Map<String, Long> outcomes = new ConcurrentHashMap<>();
            long[] requests = {0};
            long start = System.nanoTime();
            samples.add(sample(0, "baseline", http, server, 0));
            AtomicBoolean loading = new AtomicBoolean(true);
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            for (int c = 0; c < clients; c++) {
                int client = c;
                pool.submit(() -> {
                    for (int i = client; loading.get(); i++) {
                        String accept = i % 2 == 0 ? "image/avif" : "image/webp";
                        try {
                            HttpResponse<byte[]> r = get(http, server.url("/" + images.get(i % images.size())), accept);
                            outcomes.merge(r.headers().firstValue("X-KVM-Transform").orElse("-"), 1L, Long::sum);
                        } catch (Exception e) {
                            outcomes.merge("client error: " + e.getClass().getSimpleName(), 1L, Long::sum);
                        }
                    }
                    return null;
                });
            }
            for (int second = 10; second <= load + after; second += 10) {
                Thread.sleep(Math.max(0, start / 1_000_000 + second * 1000L - System.nanoTime() / 1_000_000));
                if (second == load) {
                    loading.set(false);
                    pool.shutdown();
                    pool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
                }
                requests[0] = outcomes.values().stream().mapToLong(Long::longValue).sum();
                samples.add(sample(second, second <= load ? "load" : "idle", http, server, requests[0]));
                progress(samples.get(samples.size() - 1).toString());
            }
            System.out.print(report(clients, load, after, samples, new TreeMap<>(outcomes)));
        }
    }

    private static HttpResponse<byte[]> get(HttpClient http, String url, String accept) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Accept", accept)
                .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static Sample sample(int second, String phase, HttpClient http, BenchServer server, long requests)
            throws Exception {
        long instanceBytes = 0;
        JsonNode stats = new ObjectMapper().readTree(get(http, server.url("/_kvm/stats"), "application/json").body());
        for (JsonNode program : stats.path("filter:bench").path("sandbox")) {
            instanceBytes += program.path("instance_bytes").asLong();
        }
        return new Sample(second, phase, rss(), instanceBytes, Runtime.getRuntime().totalMemory(), requests);
    }

    /** VmRSS of this process, from /proc/self/status. */
    private static long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring(6).replace("kB", "").trim()) * 1024;
            }
        }
        throw new IOException("no VmRSS line in /proc/self/status");
    }

    private static String report(int clients, int load, int after, List<Sample> samples, Map<String, Long> outcomes) {
        StringBuilder out = new StringBuilder();
        out.append("Measured ").append(ZonedDateTime.now(ZoneOffset.UTC).format(
                DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"))).append(" on ").append(Machine.describe())
                .append(": ").append(clients).append(" clients for ").append(load).append(" s, then ").append(after)
                .append(" s idle.\n\n");
        out.append("| s | phase | requests so far | RSS | instance_bytes | Java heap committed |\n|---|---|---|---|---|---|\n");
        for (Sample s : samples) {
            out.append(String.format(Locale.ROOT, "| %d | %s | %d | %d MiB | %d MiB | %d MiB |%n", s.second(),
                    s.phase(), s.requests(), s.rssBytes() / MIB, s.instanceBytes() / MIB, s.heapCommitted() / MIB));
        }
        out.append("\nOutcomes: ").append(outcomes).append('\n');
        return out.toString();
    }

    private static void progress(String message) {
        System.err.println("[memory] " + message);
    }
}
