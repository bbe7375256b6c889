package io.kvmfilter.filter.bench;

import io.kvmfilter.filter.KvmFilter;
import io.kvmfilter.filter.KvmFilterConfig;
import io.kvmfilter.kvm.Kvm;
import java.awt.image.BufferedImage;
import java.io.IOException;
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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * The overload scenario of issue #12 (item 6): a flood of clients asking AVIF of one 49-megapixel PNG while one
 * other client fetches an already converted (stored) image and a plain JavaScript file, one request after the
 * other. Prints, as Markdown, p50/p99 of those two without and with the flood, and what the flooded URL got.
 *
 * <p>One embedded Jetty 12 with KvmFilter (default limits: maxWaiters 16, maxWait 1 s, the result store on), files
 * served by Jetty's DefaultServlet. Options: {@code --flood=250} connections, {@code --duration=30} seconds,
 * {@code --no-filter} for the baseline (the same flood of the same files without the filter), {@code --flat} for a
 * PNG of the same pixels that is a few hundred KB instead of 3.6 MB, so that moving its bytes does not dominate,
 * {@code --run-wait=MS} to bound the request that starts the conversion too (the filter's {@code runWait}).
 * Run it like {@link FilterBenchmark} (filter-core/bench/run.sh names the class to run as its first argument).
 */
public final class FloodBenchmark {

    private static final int SIDE = 7000; // 49 million pixels, under the default maxPixels of 50 million

    private FloodBenchmark() {
    }

    record Latencies(String what, List<Long> micros, Map<Integer, Integer> statuses) {
        long percentile(int p) {
            List<Long> sorted = new ArrayList<>(micros);
            Collections.sort(sorted);
            return sorted.isEmpty() ? -1 : sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100));
        }
    }

    public static void main(String[] args) throws Exception {
        int flood = 250;
        int duration = 30;
        boolean withFilter = true;
        boolean flat = false;
        Duration runWait = null;
        for (String arg : args) {
            if (arg.startsWith("--flood=")) {
                flood = Integer.parseInt(arg.substring(8));
            } else if (arg.equals("--no-filter")) {
                withFilter = false; // the baseline: the same flood of the same files, served as they are
            } else if (arg.equals("--flat")) {
                flat = true; // a 49-megapixel PNG of a few hundred KB: the flood is not bound by transfer
            } else if (arg.startsWith("--run-wait=")) {
                runWait = Duration.ofMillis(Long.parseLong(arg.substring(11)));
            } else if (arg.startsWith("--duration=")) {
                duration = Integer.parseInt(arg.substring(11));
            } else {
                throw new IllegalArgumentException("unknown argument " + arg
                        + " (--flood=N, --duration=S, --no-filter, --flat, --run-wait=MS)");
            }
        }
        Kvm.checkAvailable();
        Path files = Files.createTempDirectory("kvmfilter-flood");
        try {
            writeFiles(files, Path.of("/work/shared/corpus/images/hubble1080.jpg"), flat);
            KvmFilterConfig.Builder builder = KvmFilterConfig.builder()
                    .rules("image/png -> image/avif: avif\nimage/jpeg -> image/webp: webp");
            if (runWait != null) {
                builder.runWait(runWait);
            }
            KvmFilterConfig config = builder.build();
            try (BenchServer server = new BenchServer(files, withFilter ? new KvmFilter(config) : null,
                    "/huge.png")) {
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                // The stored image: converted once before anything is measured.
                String stored = server.url("/photo.jpg");
                HttpResponse<byte[]> first = get(http, stored, "image/webp");
                progress("photo.jpg: " + first.statusCode() + " " + first.headers().firstValue("X-KVM-Transform")
                        .orElse("-"));
                List<Latencies> quiet = measureOthers(http, server, 10);
                String date = ZonedDateTime.now(ZoneOffset.UTC).format(
                        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
                Map<String, Long> before = withFilter ? server.filter().counters() : Map.of();
                server.times().clear();
                int floodConnections = flood;
                int floodSeconds = duration;
                CompletableFuture<Wrk.Result> floodRun = CompletableFuture.supplyAsync(() -> {
                    try {
                        return Wrk.run(server.url("/huge.png"), "image/avif", floodConnections, floodSeconds, 30);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                Thread.sleep(2000); // the flood is on
                List<Latencies> flooded = measureOthers(http, server, duration - 4);
                Wrk.Result floodResult = floodRun.get();
                Map<String, Long> after = withFilter ? server.filter().counters() : Map.of();
                System.out.print(report(date, flood, duration, quiet, flooded, floodResult, before, after,
                        server.times(), Duration.ofSeconds(1))); // maxWait's default
            }
        } finally {
            try (Stream<Path> list = Files.list(files)) {
                for (Path p : list.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(files);
        }
    }

    private static void writeFiles(Path folder, Path jpeg, boolean flat) throws IOException {
        Files.copy(jpeg, folder.resolve("photo.jpg"));
        StringBuilder js = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            js.append("function f").append(i).append("(a, b) { return a + b * ").append(i).append("; }\n");
        }
        Files.writeString(folder.resolve("app.js"), js, StandardCharsets.UTF_8);
        // A smooth gradient: a small file (within maxBodySize) that decodes to 49 million pixels. Flat: bands of
        // 100 rows in one colour each, which deflate squeezes about a thousand times.
        BufferedImage image = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                image.setRGB(x, y, flat ? (y / 100 * 3) << 8 | 0x40
                        : ((x * 255 / SIDE) << 16) | ((y * 255 / SIDE) << 8) | 0x40);
            }
        }
        ImageIO.write(image, "png", folder.resolve("huge.png").toFile());
        progress("huge.png: " + Files.size(folder.resolve("huge.png")) + " bytes, " + SIDE + "x" + SIDE);
    }

    private static HttpResponse<byte[]> get(HttpClient http, String url, String accept) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Accept", accept)
                .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** One client, one request after the other, alternating the stored image and the script. */
    private static List<Latencies> measureOthers(HttpClient http, BenchServer server, int seconds) throws Exception {
        Latencies image = new Latencies("stored image (photo.jpg as WebP)", new ArrayList<>(), new TreeMap<>());
        Latencies script = new Latencies("plain JavaScript (app.js, no rule)", new ArrayList<>(), new TreeMap<>());
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            for (Latencies target : List.of(image, script)) {
                String url = server.url(target == image ? "/photo.jpg" : "/app.js");
                long start = System.nanoTime();
                HttpResponse<byte[]> response = get(http, url, target == image ? "image/webp" : "*/*");
                target.micros().add((System.nanoTime() - start) / 1000);
                target.statuses().merge(response.statusCode(), 1, Integer::sum);
            }
        }
        return List.of(image, script);
    }

    private static String report(String date, int flood, int duration, List<Latencies> quiet, List<Latencies> flooded,
            Wrk.Result floodResult, Map<String, Long> before, Map<String, Long> after, ServerTimes times,
            Duration maxWait) {
        StringBuilder out = new StringBuilder();
        out.append("Measured ").append(date).append(" on ").append(Machine.describe()).append(".\n\n");
        out.append("| URL | requests | p50 | p99 | max | statuses |\n|---|---|---|---|---|---|\n");
        for (int i = 0; i < quiet.size(); i++) {
            for (Latencies l : List.of(quiet.get(i), flooded.get(i))) {
                out.append("| ").append(l.what()).append(l == quiet.get(i) ? ", no flood" : ", during the flood")
                        .append(" | ").append(l.micros().size()).append(" | ")
                        .append(Wrk.formatLatency(l.percentile(50))).append(" | ")
                        .append(Wrk.formatLatency(l.percentile(99))).append(" | ")
                        .append(Wrk.formatLatency(l.percentile(100))).append(" | ").append(l.statuses())
                        .append(" |\n");
            }
        }
        out.append("\nThe flood: `").append(String.join(" ", floodResult.command())).append("`: ")
                .append(floodResult.requests()).append(" requests, p50 ")
                .append(Wrk.formatLatency(floodResult.p50Micros())).append(", p99 ")
                .append(Wrk.formatLatency(floodResult.p99Micros())).append(", socket errors ")
                .append(floodResult.socketErrors()).append(", non-2xx ").append(floodResult.non2xx()).append(".\n\n");
        out.append("Filter outcomes during the flood (all URLs):\n\n");
        after.forEach((name, count) -> {
            long delta = count - before.getOrDefault(name, 0L);
            if (delta > 0) {
                out.append("- `").append(name).append("`: ").append(delta).append('\n');
            }
        });
        // Inside the server: which flood responses took longer than the wait limit plus 100 ms, and when.
        long limit = maxWait.plusMillis(100).toNanos();
        long[] over = times.over(limit);
        out.append("\nInside the server (first byte of the request to last byte of the response): ").append(over[0])
                .append(" of ").append(over[1]).append(" flood responses took longer than maxWait + 100 ms (")
                .append(limit / 1_000_000).append(" ms). The slowest, with when they began (s after the flood's"
                        + " start):\n\n| began | took | X-KVM-Transform |\n|---|---|---|\n");
        for (ServerTimes.Time t : times.slowest(10)) {
            out.append(String.format(java.util.Locale.ROOT, "| %.2f s | %s | %s |%n", t.beganNanos() / 1e9,
                    Wrk.formatLatency(t.tookNanos() / 1000), t.outcome()));
        }
        out.append("\nwrk's latency lines:\n\n```\n").append(floodResult.output().lines()
                .filter(l -> l.contains("Latency") || l.contains("%") || l.contains("requests in"))
                .reduce("", (a, b) -> a + b + "\n")).append("```\n");
        return out.toString();
    }

    private static void progress(String message) {
        System.err.println("[flood] " + message);
    }
}
