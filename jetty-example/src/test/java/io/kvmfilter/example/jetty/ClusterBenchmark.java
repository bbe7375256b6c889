package io.kvmfilter.example.jetty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * The cold two-node cluster of issue #13: two packaged servers (two JVMs) in one Hazelcast cluster, each with its own
 * cache directory, serving 100 images made from the corpus (different sizes, JPEG and PNG). 32 clients, spread over
 * both servers, ask each image as WebP four times at about the same moment (twice on each server); a response that
 * got the original (the waiting line full, the wait limit reached) is asked again later, as a next visit would,
 * until every image has been served converted. Then both servers are restarted with their directories and every
 * request is made once more. Reports the program runs of each pass (the webp program's invocations in both
 * servers' sandboxes): the target is one run per image in the first pass, none in the second.
 *
 * <pre>jetty-example/bench/run.sh [--images=100] [--clients=32] [--corpus=/work/shared/corpus] &gt; report.md</pre>
 */
public final class ClusterBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Outcomes of overload, not of the image: the request is made again later. */
    private static final Set<String> RETRIED = Set.of("fallback=webp:busy",
            "fallback=webp:wait-timeout", "fallback=webp:queue-timeout");

    private ClusterBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int images = 100;
        int clients = 32;
        Path corpus = Path.of("/work/shared/corpus");
        for (String arg : args) {
            if (arg.startsWith("--images=")) {
                images = Integer.parseInt(arg.substring(9));
            } else if (arg.startsWith("--clients=")) {
                clients = Integer.parseInt(arg.substring(10));
            } else if (arg.startsWith("--corpus=")) {
                corpus = Path.of(arg.substring(9));
            } else {
                throw new IllegalArgumentException("unknown argument " + arg
                        + "; allowed: --images=N --clients=N --corpus=DIR");
            }
        }
        Path work = Files.createTempDirectory("kvmfilter-cluster-bench");
        Path site = Files.createDirectories(work.resolve("site"));
        List<String> names = makeImages(corpus.resolve("images"), site, images);
        long bytes = 0;
        for (String name : names) {
            bytes += Files.size(site.resolve(name));
        }
        System.err.println("cluster-bench: " + names.size() + " images, " + bytes / 1024 + " KiB, in " + site);

        String cluster = "kvmfilter-bench-" + UUID.randomUUID().toString().substring(0, 8);
        int portA = freePort();
        int portB = freePort();
        Pass cold;
        Pass warm;
        try (JarServer a = node(work, site, "a", cluster, portA, portB);
                JarServer b = node(work, site, "b", cluster, portB, portA)) {
            awaitClusterOfTwo(a);
            awaitClusterOfTwo(b);
            cold = run("cold cluster", names, clients, a, b);
            a.stop();
            b.stop();
        }
        try (JarServer a = node(work, site, "a", cluster, portA, portB);
                JarServer b = node(work, site, "b", cluster, portB, portA)) {
            awaitClusterOfTwo(a);
            awaitClusterOfTwo(b);
            warm = run("both restarted with their directories", names, clients, a, b);
        }

        System.out.println("| pass | requests | program runs | converted images | outcomes (all requests) | time |");
        System.out.println("|---|---|---|---|---|---|");
        for (Pass pass : List.of(cold, warm)) {
            System.out.println("| " + pass.name + " | " + pass.requests + " | " + pass.runs + " | " + pass.converted
                    + " of " + names.size() + " | " + pass.outcomes + " | " + pass.millis / 1000.0 + " s |");
        }
    }

    private record Pass(String name, long requests, long runs, long converted, Map<String, Long> outcomes,
            long millis) {
    }

    /** One pass: every image asked four times at once (twice per server), again later until served converted. */
    private static Pass run(String name, List<String> images, int clients, JarServer a, JarServer b)
            throws Exception {
        long runsBefore = programRuns(a) + programRuns(b);
        LinkedBlockingQueue<String[]> queue = new LinkedBlockingQueue<>();
        for (String image : images) {
            for (int i = 0; i < 4; i++) {
                queue.add(new String[] {image, i % 2 == 0 ? "a" : "b"});
            }
        }
        Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
        Map<String, Boolean> converted = new ConcurrentHashMap<>();
        LongAdder requests = new LongAdder();
        LongAdder outstanding = new LongAdder();
        outstanding.add(queue.size());
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            done.add(pool.submit(() -> {
                while (outstanding.sum() > 0) {
                    String[] request = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (request == null) {
                        continue;
                    }
                    JarServer server = request[1].equals("a") ? a : b;
                    HttpResponse<byte[]> response = server.get(request[0], "Accept", "image/webp");
                    requests.increment();
                    String outcome = response.headers().firstValue("X-KVM-Transform").orElse("none");
                    outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
                    if (outcome.equals("applied=webp")) {
                        converted.put(request[0], true);
                        outstanding.decrement();
                    } else if (response.statusCode() == 200 && RETRIED.contains(outcome)) {
                        queue.add(request); // the original for now (overload): a later visit asks again
                    } else if (response.statusCode() == 200 && outcome.startsWith("fallback=webp:")) {
                        outstanding.decrement(); // a lasting answer for this image (say, WebP would be larger)
                    } else {
                        throw new IllegalStateException(request[0] + " on " + request[1] + ": status "
                                + response.statusCode() + ", " + outcome);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();
        long millis = (System.nanoTime() - start) / 1_000_000;
        Thread.sleep(1000); // the last shared writes are queued after their responses
        long runs = programRuns(a) + programRuns(b) - runsBefore;
        Map<String, Long> sorted = new TreeMap<>();
        outcomes.forEach((k, v) -> sorted.put(k, v.sum()));
        System.err.println("cluster-bench: " + name + ": " + runs + " program runs, " + sorted);
        return new Pass(name, requests.sum(), runs, converted.size(), sorted, millis);
    }

    private static JarServer node(Path work, Path site, String name, String cluster, int port, int peer)
            throws Exception {
        return JarServer.start(work, "--port", "0", "--stats", "--dir", site.toString(),
                "--cache-dir", work.resolve("cache-" + name).toString(), "--cluster-name", cluster,
                "--cluster-port", String.valueOf(port), "--cluster-members", "127.0.0.1:" + peer);
    }

    /** Runs of the webp program in the server's sandbox so far (its statistics' invocations). */
    private static long programRuns(JarServer server) throws Exception {
        return JSON.readTree(server.get("/_kvm/stats").body()).path("filter:main").path("sandbox").path("webp")
                .path("invocations").asLong();
    }

    private static void awaitClusterOfTwo(JarServer server) throws Exception {
        for (int i = 0; i < 120 && !server.log().contains("Members {size:2"); i++) {
            Thread.sleep(500);
        }
        if (!server.log().contains("Members {size:2")) {
            throw new IllegalStateException("the cluster did not form:\n" + server.log());
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** {@code count} images from the corpus's stills: each at several widths, as JPEG and PNG in turn. */
    private static List<String> makeImages(Path corpus, Path site, int count) throws Exception {
        List<BufferedImage> sources = new ArrayList<>();
        try (Stream<Path> files = Files.list(corpus)) {
            for (Path file : files.sorted().toList()) {
                String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
                if (lower.endsWith(".jpg") || lower.endsWith(".png")) {
                    BufferedImage image = ImageIO.read(file.toFile());
                    if (image != null && image.getWidth() >= 64) {
                        sources.add(image);
                    }
                }
            }
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; names.size() < count; i++) {
            BufferedImage source = sources.get(i % sources.size());
            int step = i / sources.size();
            int width = Math.max(32, (int) (source.getWidth() * (0.25 + 0.07 * step)));
            int height = Math.max(1, source.getHeight() * width / source.getWidth());
            boolean jpeg = i % 2 == 0;
            BufferedImage scaled = new BufferedImage(width, height,
                    jpeg ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_INT_ARGB);
            Graphics2D g = scaled.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(source, 0, 0, width, height, null);
            g.dispose();
            String name = "image-" + i + (jpeg ? ".jpg" : ".png");
            ImageIO.write(scaled, jpeg ? "jpg" : "png", site.resolve(name).toFile());
            names.add(name);
        }
        return names;
    }
}
