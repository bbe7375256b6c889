package io.kvmfilter.filter;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.testing.CSuiteGuests;
import io.kvmfilter.kvm.testing.KvmRequirement;
import io.kvmfilter.kvm.testing.LocalOrigin;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The filter with the real sandbox and the bundled programs, on real files served by the container's
 * DefaultServlet. Skipped (with the reason) where KVM or the programs are missing; failing then under REQUIRE_KVM=1.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SandboxFilterContract {

    private ServletContainer container;
    private Path staticDir;
    private KvmFilter filter;
    private KvmFilter sharedStore;
    private KvmFilter animated;
    private KvmFilter options;
    private Path mark;
    private byte[] gif;
    private byte[] jpeg;
    private byte[] html;
    private com.sun.net.httpserver.HttpServer origin;
    private ProgramServlet socketIdle;

    abstract ServletContainer newContainer();

    @BeforeAll
    void start() throws Exception {
        KvmRequirement.require("webp", "avif", "minify");
        staticDir = Files.createTempDirectory("kvmfilter-sandbox");
        jpeg = resource("corpus/grace_hopper.jpg");
        html = resource("corpus/im-architecture.html");
        Files.write(staticDir.resolve("photo.jpg"), jpeg);
        Files.write(staticDir.resolve("page.html"), html);
        Files.write(staticDir.resolve("broken.jpg"), Arrays.copyOf(jpeg, 3000)); // a JPEG cut short
        Files.write(staticDir.resolve("logo.png"), resource("corpus/palette_color.png"));
        Files.createDirectories(staticDir.resolve("slow"));
        Files.write(staticDir.resolve("slow/photo.jpg"), jpeg);
        Files.createDirectories(staticDir.resolve("low"));
        Files.write(staticDir.resolve("low/photo.jpg"), jpeg);
        Files.createDirectories(staticDir.resolve("logged"));
        Files.write(staticDir.resolve("logged/broken.jpg"), Arrays.copyOf(jpeg, 3000));
        Files.createDirectories(staticDir.resolve("traced"));
        Files.write(staticDir.resolve("traced/broken.jpg"), Arrays.copyOf(jpeg, 2500));
        Files.createDirectories(staticDir.resolve("queued"));
        Files.write(staticDir.resolve("queued/photo.jpg"), jpeg);
        Files.createDirectories(staticDir.resolve("shared"));
        Files.write(staticDir.resolve("shared/one.jpg"), jpeg);
        Files.write(staticDir.resolve("shared/two.jpg"), jpeg);
        Files.write(staticDir.resolve("shared/broken.jpg"), Arrays.copyOf(jpeg, 2000));
        Files.write(staticDir.resolve("tiny.jpg"), Arrays.copyOf(jpeg, 20)); // below minBodySize
        Files.createDirectories(staticDir.resolve("excluded"));
        Files.write(staticDir.resolve("excluded/photo.jpg"), jpeg);
        Files.createDirectories(staticDir.resolve("big"));
        Files.write(staticDir.resolve("big/photo.jpg"), jpeg);
        Files.createDirectories(staticDir.resolve("wrongtype"));
        Files.write(staticDir.resolve("wrongtype/photo.jpg"), jpeg);
        Files.createDirectories(staticDir.resolve("options"));
        Files.write(staticDir.resolve("options/photo.jpg"), jpeg);
        Files.write(staticDir.resolve("options/logo.png"), resource("corpus/palette_color.png"));
        Files.write(staticDir.resolve("options/page.html"), html);
        // A red mark, opaque: where it lands the picture is red.
        java.awt.image.BufferedImage red = new java.awt.image.BufferedImage(40, 20,
                java.awt.image.BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 20; y++) {
            for (int x = 0; x < 40; x++) {
                red.setRGB(x, y, 0xffff0000);
            }
        }
        mark = Files.createTempFile("kvmfilter-mark", ".png");
        javax.imageio.ImageIO.write(red, "png", mark.toFile());
        Files.createDirectories(staticDir.resolve("signedopts"));
        Files.write(staticDir.resolve("signedopts/photo.jpg"), jpeg);
        Files.createDirectories(staticDir.resolve("animated"));
        gif = resource("corpus/no_time_for_that_tiny.gif");
        Files.write(staticDir.resolve("animated/anim.gif"), gif);
        Files.createDirectories(staticDir.resolve("accept"));
        Files.write(staticDir.resolve("accept/photo.jpg"), jpeg);
        Files.createDirectories(staticDir.resolve("headers"));
        Files.writeString(staticDir.resolve("headers/note.txt"), "a note long enough to be worth transforming\n");
        filter = new KvmFilter(KvmFilterConfig.builder()
                .rules(KvmFilterConfig.DEFAULT_RULES)
                .excludedPaths("/slow/*", "/queued/*", "/low/*", "/logged/*", "/traced/*", "/accept/*", "/wrongtype/*",
                        "/excluded/*", "/big/*", "/shared/*", "/animated/*", "/headers/*", "/img/*", "/signed/*",
                        "/hinted/*", "/marked/*", "/options/*", "/signedopts/*", "/assembled", "/selfie/*")
                .cacheSize(0) // every request runs the program
                .timeout(java.time.Duration.ofSeconds(30))
                .build());
        // A second instance on the same requests, whose AVIF encoder gets 1 ms: every run times out.
        KvmFilter slow = new KvmFilter(KvmFilterConfig.builder()
                .rules("image/jpeg -> image/avif: avif")
                .programSetting("avif", "max_request_time", 0.001)
                // Its own store would answer with the other filters' AVIF of the same photo.
                .cacheSize(0)
                .build());
        Deployment deployment = new Deployment().staticFiles(staticDir);
        deployment.filter("kvm", filter, "/*", Map.of());
        deployment.filter("slow", slow, "/slow/*", Map.of());
        // A third with one AVIF instance and (almost) no waiting for it: concurrent requests overflow the pool.
        // No result store, or the identical requests would share one run.
        KvmFilter queued = new KvmFilter(KvmFilterConfig.builder()
                .rules("image/jpeg -> image/avif: avif")
                .programSetting("avif", "concurrency", 1)
                .maxWait(java.time.Duration.ofMillis(10))
                .cacheSize(0)
                .build());
        deployment.filter("queued", queued, "/queued/*", Map.of());
        // A fourth whose rule gives the WebP encoder an argument.
        KvmFilter low = new KvmFilter(KvmFilterConfig.builder()
                .rules("image/jpeg -> image/webp: webp {\"quality\": 5}")
                .build());
        deployment.filter("low", low, "/low/*", Map.of());
        // A fifth whose failure log no other test has used yet (failures are logged once a minute per reason).
        KvmFilter logged = new KvmFilter(KvmFilterConfig.builder().rules("image/jpeg -> image/webp: webp").build());
        deployment.filter("logged", logged, "/logged/*", Map.of());
        KvmFilter traced = new KvmFilter(KvmFilterConfig.builder().rules("image/jpeg -> image/webp: webp").build());
        deployment.filter("traced", traced, "/traced/*", Map.of());
        // A sixth with the default rules and result store: the Accept fuzz test converts each variant only once.
        KvmFilter accept = new KvmFilter(KvmFilterConfig.defaults());
        deployment.filter("accept", accept, "/accept/*", Map.of());
        // An eighth that holds at most 1 KiB: every photo is too large for it and streams through.
        KvmFilter big = new KvmFilter(KvmFilterConfig.builder().maxBodySize(1024).build());
        deployment.filter("big", big, "/big/*", Map.of());
        // A seventh whose WebP variant runs the AVIF encoder: the program answers another type than the variant's.
        KvmFilter wrongType = new KvmFilter(KvmFilterConfig.builder().rules("image/jpeg -> image/webp: avif").build());
        deployment.filter("wrongtype", wrongType, "/wrongtype/*", Map.of());
        // A ninth with the result store (the default), whose programs declare that they do not read the URL.
        sharedStore = new KvmFilter(KvmFilterConfig.builder().rules("image/jpeg -> image/webp: webp").build());
        deployment.filter("shared", sharedStore, "/shared/*", Map.of());
        // A tenth for animated GIFs, with the result store: AVIF cannot carry the animation, WebP can. Results
        // larger than the original are kept, so that the tiny GIF's animated WebP is served and can be checked.
        animated = new KvmFilter(KvmFilterConfig.builder().rules("image/gif -> image/avif: avif, image/webp: webp")
                .requireSmaller(false).build());
        deployment.filter("animated", animated, "/animated/*", Map.of());
        // An eleventh whose step is the C suite's api guest, which sets X-One and X-Two: only X-One is allowed
        // through to clients.
        Path headersLibrary = CSuiteGuests.library(Files.createDirectories(staticDir.resolve("libraries")), "api");
        KvmFilter headers = new KvmFilter(KvmFilterConfig.builder().rules("text/plain -> api")
                .library(headersLibrary.toUri()).programHeaders("X-One").requireSmaller(false).build());
        deployment.filter("headers", headers, "/headers/*", Map.of());
        // Option URLs through the filter (default rules), open and signed; a store of its own size is its own
        // (the others' results could crowd its few out).
        options = new KvmFilter(KvmFilterConfig.builder().imageOptions("/options/*")
                .imageOptionSetting("imagePresets", "thumb: w=40&h=40").imageOptionSetting("imageClientHints", "true")
                .cacheSize(16L << 20).build());
        deployment.filter("options", options, "/options/*", Map.of());
        KvmFilter signedOptions = new KvmFilter(KvmFilterConfig.builder().imageOptions("/signedopts/*")
                .parameter("imageSigningKeys", "the-filter-key-of-22-b").parameter("imageWatermark", mark.toString())
                .parameter("imageWatermarkGravity", "northwest").parameter("imageWatermarkOpacity", "1")
                .parameter("imageWatermarkSize", "0.5").build());
        deployment.filter("signedopts", signedOptions, "/signedopts/*", Map.of());
        deployment.servlet("/convert", new ProgramServlet(), Map.of("program", "webp", "arg", "{\"quality\": 50}"));
        deployment.servlet("/convert-slow", new ProgramServlet(),
                Map.of("program", "webp", "programSettings", "webp.max_request_time=0.001"));
        // The C suite's regex guest, through ProgramServlet: the host's regular expressions and the headers they set.
        Path regexLibrary = CSuiteGuests.library(Files.createDirectories(staticDir.resolve("libraries")), "regex");
        deployment.servlet("/regex-basic", new ProgramServlet(), Map.of("program", "regex", "arg", "basic",
                "library", regexLibrary.toUri().toString()));
        // The C suite's api guest: it sets response headers and calls sys_set_cacheable(1, 5000, 1000, 2000).
        Path apiLibrary = CSuiteGuests.library(staticDir.resolve("libraries"), "api");
        deployment.servlet("/api-guest", new ProgramServlet(), Map.of("program", "api",
                "library", apiLibrary.toUri().toString()));
        // The C suite's shared guest with a 2 MiB shared memory area: a counter there, incremented by two instances.
        Path sharedLibrary = CSuiteGuests.library(staticDir.resolve("libraries"), "shared",
                "\"shared_memory\": 2, \"concurrency\": 2, \"queue_timeout\": 30");
        deployment.servlet("/shared-count", new ProgramServlet(), Map.of("program", "shared", "arg", "count",
                "library", sharedLibrary.toUri().toString()));
        // The C suite's storage guest with storage: every request adds 3 to a total kept in the storage instance.
        Path storageLibrary = CSuiteGuests.library(staticDir.resolve("libraries"), "storage",
                "\"storage\": true, \"concurrency\": 2, \"queue_timeout\": 30");
        deployment.servlet("/storage-add", new ProgramServlet(), Map.of("program", "storage", "arg", "add:3",
                "library", storageLibrary.toUri().toString()));
        // The C suite's stream guest: 3000 bytes from begin_streaming_response's callback, X-Streamed set before.
        Path streamLibrary = CSuiteGuests.library(staticDir.resolve("libraries"), "stream");
        deployment.servlet("/streamed", new ProgramServlet(), Map.of("program", "stream", "arg", "ok:3000",
                "library", streamLibrary.toUri().toString()));
        // Five pieces of 1000 bytes, each after the first 300 ms in the making; a callback that crashes at once,
        // and one that crashes after 5 of its 10 bytes.
        deployment.servlet("/streamed-slow", new ProgramServlet(), Map.of("program", "stream", "arg", "slow:5",
                "library", streamLibrary.toUri().toString()));
        deployment.servlet("/streamed-crash", new ProgramServlet(), Map.of("program", "stream", "arg", "crash",
                "library", streamLibrary.toUri().toString()));
        deployment.servlet("/streamed-half", new ProgramServlet(), Map.of("program", "stream", "arg", "half",
                "library", streamLibrary.toUri().toString()));
        // Its streaming POST handler, with bodies up to 16 MiB (read into the sandbox, not the JVM heap).
        deployment.servlet("/stream-post", new ProgramServlet(), Map.of("program", "stream", "maxRequestBodySize",
                "16MiB", "library", streamLibrary.toUri().toString()));
        // The C suite's fetch guest with an egress policy: it fetches from an origin on 127.0.0.1 (the JDK's HTTP
        // server, started here); a second policy lists the host but not the loopback address, so it is refused.
        origin = LocalOrigin.serving("/hello", "text/plain",
                exchange -> "from the origin".getBytes(StandardCharsets.UTF_8));
        int originPort = origin.getAddress().getPort();
        String hello = "http://127.0.0.1:" + originPort + "/hello";
        Path fetchLibrary = CSuiteGuests.library(Files.createDirectories(staticDir.resolve("libraries/egress")), "fetch",
                "\"egress\": { \"hosts\": [\"127.0.0.1\"], \"ports\": [" + originPort + "], \"addresses\": [\"127.0.0.1\"] }");
        deployment.servlet("/fetch-allowed", new ProgramServlet(), Map.of("program", "fetch", "arg", "get:" + hello,
                "library", fetchLibrary.toUri().toString()));
        Path loopbackLibrary = CSuiteGuests.library(Files.createDirectories(staticDir.resolve("libraries/loopback")),
                "fetch", "\"egress\": { \"hosts\": [\"127.0.0.1\"], \"ports\": [" + originPort + "] }");
        deployment.servlet("/fetch-loopback", new ProgramServlet(), Map.of("program", "fetch", "arg", "result:" + hello,
                "library", loopbackLibrary.toUri().toString()));
        // Self-requests of the same guest: a file the "headers" filter transforms for clients (a forward passes no
        // filter mapped for REQUEST), the same servlet again (a loop, cut at selfRequestDepth), and a servlet
        // without selfRequests.
        Path selfLibrary = CSuiteGuests.library(Files.createDirectories(staticDir.resolve("libraries/self")), "fetch",
                "\"concurrency\": 4, \"queue_timeout\": 20");
        deployment.servlet("/self-file", new ProgramServlet(), Map.of("program", "fetch", "arg",
                "self:/headers/note.txt", "selfRequests", "true", "library", selfLibrary.toUri().toString()));
        deployment.servlet("/self-loop", new ProgramServlet(), Map.of("program", "fetch", "arg", "self:/self-loop",
                "selfRequests", "true", "selfRequestDepth", "3", "library", selfLibrary.toUri().toString()));
        // The SDK's self-request example (docs/writing-programs.md): a page of two parts of this application.
        Path assemble = Path.of("../src-native/build/sdk/assemble").toAbsolutePath().normalize();
        assertThat(assemble).as("built by make -C src-native").isRegularFile();
        Path assembleLibrary = Files.writeString(staticDir.resolve("libraries/self/assemble-library.json"),
                "{ \"assemble\": { \"filename\": \"" + assemble + "\" } }");
        deployment.servlet("/assembled", new ProgramServlet(), Map.of("program", "assemble", "arg",
                "/headers/note.txt,/no-such-part.txt,/headers/note.txt", "selfRequests", "true",
                "library", assembleLibrary.toUri().toString()));
        deployment.servlet("/self-off", new ProgramServlet(), Map.of("program", "fetch", "arg", "self:/headers/note.txt",
                "library", selfLibrary.toUri().toString()));
        // A filter whose step self-requests another file of the application: answered on the request's thread.
        Files.createDirectories(staticDir.resolve("selfie"));
        Files.writeString(staticDir.resolve("selfie/page.txt"), "the page, long enough to be transformed\n".repeat(40));
        Path selfFilterLibrary = CSuiteGuests.library(Files.createDirectories(staticDir.resolve("libraries/selfie")),
                "fetch", "\"concurrency\": 2");
        KvmFilter selfie = new KvmFilter(KvmFilterConfig.builder().rules("text/plain -> fetch 'self:/selfie-part.txt'")
                .library(selfFilterLibrary.toUri()).selfRequests(true).requireSmaller(false).build());
        deployment.filter("selfie", selfie, "/selfie/*", Map.of());
        // The image endpoint on the same folder, open and signed (excluded from the main filter: it answers itself).
        deployment.servlet("/img/*", new ImageServlet(), Map.of("directory", staticDir.toString(),
                "presets", "thumb: w=40&h=40&fit=cover"));
        deployment.servlet("/signed/*", new ImageServlet(), Map.of("directory", staticDir.toString(),
                "signingKeys", "the-new-key-of-24-bytes, an-old-key-of-30-bytes-rotated"));
        deployment.servlet("/hinted/*", new ImageServlet(), Map.of("directory", staticDir.toString(),
                "clientHints", "true", "saveDataQuality", "20"));
        deployment.servlet("/marked/*", new ImageServlet(), Map.of("directory", staticDir.toString(),
                "watermark", mark.toString(), "watermarkGravity", "southeast", "watermarkOpacity", "1",
                "watermarkSize", "0.5", "watermarkMargin", "0"));
        // The C suite's socket guest takes connections (register_func 12): through ProgramServlet with connections on,
        // with a short idle timeout, with one instance and almost no wait for it, and without connections.
        Path socketLibrary = CSuiteGuests.library(Files.createDirectories(staticDir.resolve("libraries/socket")),
                "socket", "\"max_request_time\": 1, \"concurrency\": 2");
        deployment.servlet("/socket/*", new ProgramServlet(), Map.of("program", "socket", "connections", "true",
                "library", socketLibrary.toUri().toString()));
        socketIdle = new ProgramServlet();
        deployment.servlet("/socket-idle", socketIdle, Map.of("program", "socket", "connections", "true",
                "connectionIdleTimeout", "1s", "library", socketLibrary.toUri().toString()));
        Path socketOneLibrary = CSuiteGuests.library(Files.createDirectories(staticDir.resolve("libraries/socket-one")),
                "socket", "\"concurrency\": 1, \"queue_timeout\": 0.2");
        deployment.servlet("/socket-one", new ProgramServlet(), Map.of("program", "socket", "connections", "true",
                "library", socketOneLibrary.toUri().toString()));
        deployment.servlet("/socket-plain", new ProgramServlet(), Map.of("program", "socket",
                "library", socketLibrary.toUri().toString()));
        deployment.servlet("/admin/stats", new KvmStatsServlet(), Map.of("allowInvalidate", "true"));
        container = newContainer();
        container.start(deployment);
        assertThat(filter.sandboxRunning()).as("sandbox started").isTrue();
    }

    @AfterAll
    void stop() throws Exception {
        if (container != null) {
            container.close();
        }
        if (origin != null) {
            origin.stop(0);
        }
        if (staticDir != null) {
            try (var paths = Files.walk(staticDir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = SandboxFilterContract.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("test resource " + name + " missing");
            }
            return in.readAllBytes();
        }
    }

    RequestSpecification http() {
        return given().baseUri("http://127.0.0.1").port(container.port());
    }

    @Test
    void jpegIsServedAsWebpToClientsAskingForIt() {
        Response response = http().header("Accept", "image/webp,*/*").get("/photo.jpg");
        assertThat(response.header("X-KVM-Transform")).isEqualTo("applied=webp");
        assertThat(response.contentType()).isEqualTo("image/webp");
        byte[] body = response.asByteArray();
        assertThat(new String(body, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("RIFF");
        assertThat(new String(body, 8, 4, StandardCharsets.US_ASCII)).isEqualTo("WEBP");
        assertThat(body.length).isLessThan(jpeg.length);
        assertThat(response.header("Content-Length")).isEqualTo(String.valueOf(body.length));
        assertThat(response.header("Vary")).isEqualTo("Accept");
        assertThat(response.header("ETag")).endsWith("--webp\"");
        assertThat(response.header("X-Content-Type-Options")).isEqualTo("nosniff");
    }

    @Test
    void anAnimationAVariantCannotCarryIsServedUntouchedAndNotCountedAsAFailure() {
        for (int i = 0; i < 3; i++) {
            Response response = http().header("Accept", "image/avif").get("/animated/anim.gif");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.header("X-KVM-Transform")).as("request %d", i).isEqualTo("skipped=animated");
            assertThat(response.contentType()).isEqualTo("image/gif");
            assertThat(response.asByteArray()).as("every frame: the original").isEqualTo(gif);
        }
        assertThat(animated.counters()).containsEntry("skipped=animated", 3L)
                .allSatisfy((outcome, count) -> assertThat(outcome).doesNotStartWith("fallback="));
    }

    @Test
    void anAnimationTheFirstVariantCannotCarryGetsTheNextTheClientAccepts() {
        for (int i = 0; i < 3; i++) {
            Response response = http().header("Accept", "image/avif,image/webp,*/*").get("/animated/anim.gif");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.header("X-KVM-Transform")).as("request %d", i).isEqualTo("applied=webp");
            assertThat(response.contentType()).isEqualTo("image/webp");
            assertThat(response.header("Vary")).containsIgnoringCase("Accept");
            assertThat(response.header("ETag")).endsWith("--webp\"");
            byte[] webp = response.asByteArray();
            assertThat(new String(webp, 0, 4, StandardCharsets.ISO_8859_1)).isEqualTo("RIFF");
            assertThat(new String(webp, StandardCharsets.ISO_8859_1)).as("every frame: an animated WebP")
                    .contains("ANIM").contains("ANMF");
        }
        // The client revalidating the WebP it has gets a 304 for it, not the AVIF's answer.
        Response first = http().header("Accept", "image/avif,image/webp,*/*").get("/animated/anim.gif");
        Response again = http().header("Accept", "image/avif,image/webp,*/*")
                .header("If-None-Match", first.header("ETag")).get("/animated/anim.gif");
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.header("ETag")).isEqualTo(first.header("ETag"));
        assertThat(animated.counters()).allSatisfy((outcome, count) -> assertThat(outcome)
                .doesNotStartWith("fallback="));
    }

    @Test
    void aProgramAnsweringAnotherTypeThanTheVariantsIsAFailure() {
        Response response = http().header("Accept", "image/webp").get("/wrongtype/photo.jpg");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.header("X-KVM-Transform")).isEqualTo("fallback=webp:wrong-type");
        assertThat(response.contentType()).isEqualTo("image/jpeg");
        assertThat(response.asByteArray()).isEqualTo(jpeg);
        assertThat(response.header("X-Content-Type-Options")).as("the original is served as the application"
                + " sent it").isNull();
    }

    /**
     * Generated Accept headers (empty parts, stray ';' and ',', bad weights, white space, many entries, long
     * values) against the real programs: never a 5xx, and the body is always what the headers say.
     */
    @Test
    void anyAcceptHeaderIsAnsweredWithoutAServerError() {
        String[] pieces = {"image/webp", "image/avif", "image/*", "*/*", "*", "image/jpeg", ";", ",", ", ", " ",
            "\t", "q=", "q=0", "q=1", "q=0.5", "q=.7", "q=1.0001", "q=-1", "q=NaN", "q=1e9", "q=abc", "Q=0.3", "\"",
            "x=\"a,b\"", "=", "/", ";;;", ",,,"};
        java.util.Random random = new java.util.Random(12);
        List<String> accepts = new java.util.ArrayList<>(List.of(";", "image/webp;q=,,;", ",", " ", "image/webp;q=",
                "*; q=.2", "image/avif;q=2", "image/webp, ".repeat(500), "image/webp;x=" + "a".repeat(5000),
                "image/webp, ".repeat(3000)));
        for (int i = 0; i < 150; i++) {
            StringBuilder header = new StringBuilder();
            for (int j = random.nextInt(16); j > 0; j--) {
                header.append(pieces[random.nextInt(pieces.length)]);
            }
            accepts.add(header.toString());
        }
        for (String accept : accepts) {
            Response response = http().header("Accept", accept).get("/accept/photo.jpg");
            String shown = accept.length() > 80 ? accept.substring(0, 80) + "... (" + accept.length() + " chars)"
                    : accept;
            assertThat(response.statusCode()).as("Accept: " + shown).isLessThan(500);
            if (accept.length() > 8000) {
                continue; // beyond the containers' header size limit: refused with a 4xx before the filter
            }
            assertThat(response.statusCode()).as("Accept: " + shown).isEqualTo(200);
            String outcome = response.header("X-KVM-Transform");
            byte[] body = response.asByteArray();
            switch (outcome) {
                case "applied=webp" -> assertThat(new String(body, 8, 4, StandardCharsets.US_ASCII)).isEqualTo("WEBP");
                case "applied=avif" -> assertThat(new String(body, 4, 8, StandardCharsets.US_ASCII))
                        .isEqualTo("ftypavif");
                default -> {
                    assertThat(outcome).as("Accept: " + shown).isEqualTo("skipped=not-accepted");
                    assertThat(body).isEqualTo(jpeg);
                }
            }
        }
    }

    // Range: a 206 whenever the response is not transformed; Accept-Ranges only where ranges are supported.

    private Response range(String accept, String range, String path) {
        return http().header("Accept", accept).header("Range", range).get(path);
    }

    private static void assertPart(Response response, byte[] whole, int first, int last) {
        assertThat(response.statusCode()).isEqualTo(206);
        assertThat(response.header("Content-Range")).isEqualTo("bytes " + first + "-" + last + "/" + whole.length);
        assertThat(response.asByteArray()).isEqualTo(Arrays.copyOfRange(whole, first, last + 1));
        assertThat(response.header("Content-Length")).isEqualTo(String.valueOf(last - first + 1));
    }

    @Test
    void rangeOfAnImageNoVariantIsAcceptedForIsAnsweredByTheApplication() {
        assertPart(range("image/jpeg", "bytes=0-99", "/photo.jpg"), jpeg, 0, 99);
        assertPart(range("*/*", "bytes=100-", "/photo.jpg"), jpeg, 100, jpeg.length - 1);
    }

    @Test
    void rangeOfAnExcludedPathIsAnsweredByTheApplication() {
        assertPart(range("image/webp", "bytes=10-19", "/excluded/photo.jpg"), jpeg, 10, 19);
    }

    @Test
    void rangeOfATransformedImageGetsTheWholeVariantWithoutRanges() {
        Response response = range("image/webp", "bytes=0-99", "/photo.jpg");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.header("X-KVM-Transform")).isEqualTo("applied=webp");
        assertThat(response.header("Accept-Ranges")).isEqualTo("none");
        assertThat(response.header("Content-Range")).isNull();
    }

    @Test
    void rangeOfABodyTooSmallToTransformIsAnsweredByTheFilter() {
        byte[] tiny = Arrays.copyOf(jpeg, 20);
        Response response = range("image/webp", "bytes=5-9", "/tiny.jpg");
        assertPart(response, tiny, 5, 9);
        assertThat(response.header("X-KVM-Transform")).isEqualTo("skipped=too-small");
        assertPart(range("image/webp", "bytes=-4", "/tiny.jpg"), tiny, 16, 19);
        Response beyond = range("image/webp", "bytes=20-", "/tiny.jpg");
        assertThat(beyond.statusCode()).isEqualTo(416);
        assertThat(beyond.header("Content-Range")).isEqualTo("bytes */20");
        // If-Range names another version: the whole body.
        Response changed = http().header("Accept", "image/webp").header("Range", "bytes=5-9")
                .header("If-Range", "\"another-version\"").get("/tiny.jpg");
        assertThat(changed.statusCode()).isEqualTo(200);
        assertThat(changed.asByteArray()).isEqualTo(tiny);
        // Several ranges: the whole body, as RFC 9110 allows.
        assertThat(range("image/webp", "bytes=0-1,5-6", "/tiny.jpg").asByteArray()).isEqualTo(tiny);
    }

    @Test
    void rangeOfABodyOverMaxBodySizeIsAnsweredWhileStreaming() {
        Response response = range("image/webp", "bytes=1000-1999", "/big/photo.jpg");
        assertPart(response, jpeg, 1000, 1999);
        assertThat(response.header("X-KVM-Transform")).isEqualTo("skipped=too-large");
        assertPart(range("image/webp", "bytes=-10", "/big/photo.jpg"), jpeg, jpeg.length - 10, jpeg.length - 1);
        assertThat(range("image/webp", "bytes=" + jpeg.length + "-", "/big/photo.jpg").statusCode()).isEqualTo(416);
    }

    @Test
    void rangeOfAnImageWhoseProgramFailsIsAnsweredByTheFilter() {
        byte[] broken = Arrays.copyOf(jpeg, 3000);
        Response response = range("image/webp", "bytes=0-99", "/broken.jpg");
        assertThat(response.header("X-KVM-Transform")).startsWith("fallback=webp:");
        assertPart(response, broken, 0, 99);
    }

    // Every 304 carries the ETag, Vary, Cache-Control and Accept-Ranges of the 200 it stands for.

    private void assertNotModifiedLikeItsOk(String accept, String path) {
        Response ok = http().header("Accept", accept).get(path);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.header("ETag")).isNotNull();
        Response byTag = http().header("Accept", accept).header("If-None-Match", ok.header("ETag")).get(path);
        Response byDate = http().header("Accept", accept).header("If-Modified-Since", ok.header("Last-Modified"))
                .get(path);
        for (Response notModified : List.of(byTag, byDate)) {
            assertThat(notModified.statusCode()).isEqualTo(304);
            for (String header : List.of("ETag", "Vary", "Cache-Control", "Accept-Ranges")) {
                assertThat(notModified.header(header)).as(header + " of the 304 (Accept: " + accept + ")")
                        .isEqualTo(ok.header(header));
            }
            assertThat(notModified.asByteArray()).isEmpty();
        }
    }

    @Test
    void notModifiedOfAVariantHasTheVariantsHeaders() {
        assertNotModifiedLikeItsOk("image/webp", "/photo.jpg");
        assertNotModifiedLikeItsOk("image/avif", "/photo.jpg");
    }

    @Test
    void notModifiedOfTheOriginalHasTheOriginalsHeaders() {
        assertNotModifiedLikeItsOk("image/jpeg", "/photo.jpg");
    }

    @Test
    void notModifiedOfAStreamedResponseHasItsHeaders() {
        assertNotModifiedLikeItsOk("image/webp", "/big/photo.jpg");
    }

    @Test
    void aModifiedResourceIsSentWhole() {
        Response response = http().header("Accept", "image/webp")
                .header("If-Modified-Since", "Mon, 01 Jan 1990 00:00:00 GMT").get("/photo.jpg");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.header("X-KVM-Transform")).isEqualTo("applied=webp");
    }

    @Test
    void theRulesArgumentReachesTheProgram() {
        byte[] standard = http().header("Accept", "image/webp").get("/photo.jpg").asByteArray();
        Response low = http().header("Accept", "image/webp").get("/low/photo.jpg");
        assertThat(low.header("X-KVM-Transform")).isEqualTo("applied=webp");
        assertThat(new String(low.asByteArray(), 8, 4, StandardCharsets.US_ASCII)).isEqualTo("WEBP");
        assertThat(low.asByteArray().length).isLessThan(standard.length * 2 / 3); // quality 5 against 80
    }

    @Test
    void jpegIsServedAsAvifFirst() {
        Response response = http().header("Accept", "image/avif,image/webp,*/*").get("/photo.jpg");
        assertThat(response.header("X-KVM-Transform")).isEqualTo("applied=avif");
        assertThat(response.contentType()).isEqualTo("image/avif");
        byte[] body = response.asByteArray();
        assertThat(new String(body, 4, 8, StandardCharsets.US_ASCII)).isEqualTo("ftypavif");
        assertThat(body.length).isLessThan(jpeg.length);
    }

    @Test
    void clientsNotAskingForNewFormatsGetTheOriginalBytes() {
        Response response = http().header("Accept", "*/*").get("/photo.jpg");
        assertThat(response.asByteArray()).isEqualTo(jpeg);
        assertThat(response.header("Vary")).isEqualTo("Accept");
    }

    @Test
    void htmlIsMinified() {
        Response response = http().get("/page.html");
        assertThat(response.header("X-KVM-Transform")).isEqualTo("applied=minify");
        assertThat(response.contentType()).startsWith("text/html");
        assertThat(response.header("X-Content-Type-Options")).isEqualTo("nosniff");
        byte[] body = response.asByteArray();
        assertThat(body.length).isLessThan(html.length);
        assertThat(new String(body, StandardCharsets.UTF_8)).contains("ImageMagick");
    }

    @Test
    void programServletAnswersWithTheProgramsResponse() {
        Response response = http().contentType("image/jpeg").body(jpeg).post("/convert");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.contentType()).isEqualTo("image/webp");
        byte[] body = response.asByteArray();
        assertThat(new String(body, 8, 4, StandardCharsets.US_ASCII)).isEqualTo("WEBP");
        assertThat(response.header("Content-Length")).isEqualTo(String.valueOf(body.length));
        assertThat(response.header(ProgramServlet.FAILURE_HEADER)).isNull();
    }

    @Test
    void programServletRunsTheRegularExpressionCallsAndPassesTheHeadersTheySet() {
        Response response = http().header("X-Value", "5").header("X-Copy-Me", "123").get("/regex-basic");
        assertThat(response.statusCode()).as(response.asString()).isEqualTo(200);
        assertThat(response.asString()).isEqualTo("handles=64,65 n1=12 [X-Value: 666] n2=11 [b@a and d@c] first=13 "
                + "[[a@b] and c@d] nospace=-28 at=4 none=-1 invalid=-22 copied=1 after_free=-22");
        assertThat(response.header("X-Copy-Me")).isEqualTo("123");
        assertThat(response.header("X-Value")).isEqualTo("666");
    }

    /** The bodies of {@code requests} GETs of {@code path} from four clients at once, each answered 200. */
    private List<String> concurrentGets(String path, int requests) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                answers.add(clients.submit(() -> {
                    Response response = http().get(path);
                    assertThat(response.statusCode()).as(response.asString()).isEqualTo(200);
                    return response.asString();
                }));
            }
            List<String> bodies = new ArrayList<>();
            for (Future<String> answer : answers) {
                bodies.add(answer.get(60, TimeUnit.SECONDS));
            }
            return bodies;
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void requestsOnEveryInstanceShareTheProgramsSharedMemoryArea() throws Exception {
        int requests = 40;
        TreeSet<Long> counts = new TreeSet<>();
        concurrentGets("/shared-count", requests).forEach(body -> counts.add(Long.parseLong(body)));
        // Every increment landed once, whichever of the two instances ran it, and none was reset away.
        assertThat(counts).hasSize(requests);
        assertThat(counts.last() - counts.first()).isEqualTo(requests - 1);
    }

    @Test
    void requestsOnEveryInstanceKeepTheirStateInTheProgramsStorage() throws Exception {
        int requests = 30;
        TreeSet<Long> totals = new TreeSet<>();
        for (String body : concurrentGets("/storage-add", requests)) {
            assertThat(body).startsWith("total=");
            totals.add(Long.parseLong(body.substring("total=".length())));
        }
        // Storage booted with 100; one call at a time, so every request saw a different total, 3 apart.
        assertThat(totals).hasSize(requests);
        assertThat(totals.first()).isEqualTo(103);
        assertThat(totals.last()).isEqualTo(100 + 3L * requests);
    }

    @Test
    void aProgramFetchesFromTheOriginItsEgressPolicyAllowsAndNotFromLoopbackOtherwise() {
        Response allowed = http().get("/fetch-allowed");
        assertThat(allowed.statusCode()).isEqualTo(200);
        assertThat(allowed.asString()).startsWith("200 text/plain|").endsWith("|from the origin");
        Response loopback = http().get("/fetch-loopback");
        assertThat(loopback.statusCode()).isEqualTo(200);
        assertThat(loopback.asString()).as("127.0.0.1 is a listed host, but loopback is not in addresses: -EPERM")
                .isEqualTo("rc=-1");
    }

    @Test
    void selfRequestsGoThroughTheApplicationWithoutItsRequestFiltersAndLoopsAreCut() throws IOException {
        Response file = http().get("/self-file");
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.asString()).as("the file as the servlet serves it, not transformed by the headers filter")
                .startsWith("200 text/plain").endsWith("|a note long enough to be worth transforming\n");
        Response loop = http().get("/self-loop");
        assertThat(loop.statusCode()).isEqualTo(200);
        // Three levels answer (depth 1 to 3); the fourth self-request is refused with -ELOOP.
        assertThat(loop.asString()).endsWith("|rc=-40");
        assertThat(loop.asString().split("200 text/plain", -1)).as(loop.asString()).hasSize(4);
        assertThat(http().get("/self-off").asString()).as("without selfRequests: -EPERM").isEqualTo("rc=-1");
        String note = "a note long enough to be worth transforming\n";
        assertThat(http().get("/assembled").asString()).as("the SDK's assemble example")
                .isEqualTo(note + "<!-- /no-such-part.txt: status 404 -->\n" + note);
        // A filter step's self-request, answered on the request's thread; its result is not stored, so each
        // request runs the step again and sees the part as it is now, though the page itself did not change.
        for (String part : List.of("the first part\n", "the second, longer part\n")) {
            Files.writeString(staticDir.resolve("selfie-part.txt"), part);
            Response filtered = http().get("/selfie/page.txt");
            assertThat(filtered.header("X-KVM-Transform")).isEqualTo("applied=fetch");
            assertThat(filtered.asString()).startsWith("200 text/plain").endsWith("|" + part);
        }
    }

    @Test
    void theLastProgramsHeadersReachTheClientOnlyWhenListedAndStayWithTheStoredResult() {
        Response first = http().get("/headers/note.txt");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.header("X-KVM-Transform")).isEqualTo("applied=api");
        assertThat(first.asString()).contains("method=POST");
        assertThat(first.header("X-One")).as("listed in programHeaders").isEqualTo("uno");
        assertThat(first.header("X-Two")).as("not listed").isNull();
        Response again = http().get("/headers/note.txt");
        assertThat(again.asString()).isEqualTo(first.asString());
        assertThat(again.header("X-One")).as("kept with the stored result").isEqualTo("uno");
    }

    @Test
    void programServletAnswersWithTheBodyAStreamingProgramProduces() {
        Response response = http().get("/streamed");
        assertThat(response.statusCode()).as(response.asString()).isEqualTo(200);
        assertThat(response.contentType()).isEqualTo("text/x-stream");
        assertThat(response.header("X-Streamed")).isEqualTo("yes");
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            expected.append((char) ('0' + i % 10));
        }
        assertThat(response.asString()).isEqualTo(expected.toString());
    }

    @Test
    void programServletSendsEachPieceOfAStreamingResponseAsTheProgramMakesIt() throws IOException {
        RawHttp.Answer answer = RawHttp.get(container.port(), "/streamed-slow");
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.headers()).containsEntry("content-length", "5000").doesNotContainKey("transfer-encoding");
        StringBuilder expected = new StringBuilder();
        for (char c = 'a'; c <= 'e'; c++) {
            expected.append(String.valueOf(c).repeat(1000));
        }
        assertThat(new String(answer.body(), StandardCharsets.US_ASCII)).isEqualTo(expected.toString());
        long firstToEndMillis = (answer.endNanos() - answer.firstBodyNanos()) / 1_000_000;
        assertThat(firstToEndMillis).as("the first piece arrived while the program made the other four (4 x 300 ms)")
                .isGreaterThanOrEqualTo(800);
    }

    @Test
    void programServletGivesAStreamingPostHandlerTheBodyInSegments() throws IOException {
        byte[] body = new byte[3_000_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 7 + i / 1000);
        }
        Response response = http().contentType("application/octet-stream").body(body).post("/stream-post");
        assertThat(response.statusCode()).as(response.asString()).isEqualTo(200);
        assertThat(response.asString()).isEqualTo("segments=46 bytes=3000000 in-order=1 same=1");
        RawHttp.Answer tooLarge = RawHttp.send(container.port(), "POST /stream-post HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: 17000000\r\nConnection: close\r\n\r\n");
        assertThat(tooLarge.status()).as("refused by its declared length, before reading").isEqualTo(413);
    }

    private static java.awt.image.BufferedImage decode(byte[] bytes) throws IOException {
        return javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(bytes));
    }

    @Test
    void theImageEndpointMakesTheImageTheOptionsAskForOnceAndNamesBadOptions() throws IOException {
        Response png = http().get("/img/photo.jpg?w=100&fmt=png");
        assertThat(png.statusCode()).as(png.asString()).isEqualTo(200);
        assertThat(png.contentType()).isEqualTo("image/png");
        assertThat(png.header(ImageServlet.DIAGNOSTIC_HEADER)).isEqualTo("applied=image");
        java.awt.image.BufferedImage image = decode(png.asByteArray());
        java.awt.image.BufferedImage source = decode(jpeg);
        assertThat(image.getWidth()).isEqualTo(100);
        assertThat(image.getHeight()).as("aspect kept").isEqualTo(Math.round(100f * source.getHeight() / source.getWidth()));
        assertThat(http().get("/img/photo.jpg?fmt=png&w=100").header(ImageServlet.DIAGNOSTIC_HEADER))
                .as("the same options in another order: the stored result").isEqualTo("cache-hit=image");

        Response auto = http().header("Accept", "image/webp,*/*").get("/img/photo.jpg?w=64&fmt=auto");
        assertThat(auto.contentType()).isEqualTo("image/webp");
        assertThat(auto.header("Vary")).isEqualTo("Accept");
        assertThat(new String(auto.asByteArray(), 8, 4, StandardCharsets.US_ASCII)).isEqualTo("WEBP");
        assertThat(http().header("Accept", "*/*").get("/img/photo.jpg?w=64&fmt=auto").contentType())
                .as("no explicit WebP or AVIF: JPEG").isEqualTo("image/jpeg");

        Response thumb = http().get("/img/photo.jpg?p=thumb&fmt=png");
        java.awt.image.BufferedImage square = decode(thumb.asByteArray());
        assertThat(square.getWidth()).isEqualTo(40);
        assertThat(square.getHeight()).isEqualTo(40);

        Response bad = http().get("/img/photo.jpg?w=abc");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.asString()).contains("image option \"w\": must be an integer from 1 to 4096; got \"abc\"");
        assertThat(http().get("/img/photo.jpg?width=10").statusCode()).isEqualTo(400);
        assertThat(http().get("/img/missing.jpg?w=10").statusCode()).isEqualTo(404);
        assertThat(http().urlEncodingEnabled(false).get("/img/%2e%2e/%2e%2e/etc/passwd?w=10").statusCode())
                .as("nothing outside the folder").isIn(400, 404);
        Response original = http().get("/img/photo.jpg");
        assertThat(original.asByteArray()).as("no options: the file as it is").isEqualTo(jpeg);
    }

    @Test
    void clientHintsSizeWhatTheUrlLeavesOpenAndAreNamedInVary() throws IOException {
        Response sized = http().header("Sec-CH-Width", "120").header("Sec-CH-DPR", "2").get("/hinted/photo.jpg?fmt=png");
        assertThat(sized.statusCode()).as(sized.asString()).isEqualTo(200);
        assertThat(decode(sized.asByteArray()).getWidth()).as("Sec-CH-Width is device pixels").isEqualTo(120);
        assertThat(sized.header("Accept-CH")).isEqualTo("Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width");
        assertThat(sized.header("Vary")).isEqualTo("Sec-CH-Width, Sec-CH-Viewport-Width, Save-Data");
        Response ratio = http().header("Sec-CH-DPR", "2").header("Accept", "image/webp").get("/hinted/photo.jpg?w=50");
        assertThat(ratio.contentType()).isEqualTo("image/webp");
        assertThat(ratio.header("Vary")).isEqualTo("Accept, Sec-CH-DPR, Save-Data");
        Response twice = http().get("/hinted/photo.jpg?w=50&dpr=2&fmt=png");
        assertThat(decode(twice.asByteArray()).getWidth()).isEqualTo(100);
        assertThat(http().header("Sec-CH-DPR", "2").get("/hinted/photo.jpg?w=50&fmt=png").header(
                ImageServlet.DIAGNOSTIC_HEADER)).as("the hint's value is in the key: the same result as dpr=2")
                .isEqualTo("cache-hit=image");
        Response explicit = http().header("Sec-CH-Width", "120").header("Sec-CH-DPR", "2")
                .get("/hinted/photo.jpg?w=64&dpr=1&q=80&fmt=png");
        assertThat(decode(explicit.asByteArray()).getWidth()).as("the URL's options win").isEqualTo(64);
        assertThat(explicit.header("Vary")).as("nothing hinted was consulted").isNull();
        int full = http().get("/hinted/photo.jpg?w=100&fmt=webp").asByteArray().length;
        int saving = http().header("Save-Data", "on").get("/hinted/photo.jpg?w=100&fmt=webp").asByteArray().length;
        assertThat(saving).as("Save-Data: quality 20").isLessThan(full * 3 / 4);
        Response malformed = http().header("Sec-CH-Width", "lots").get("/hinted/photo.jpg?w=30&fmt=png");
        assertThat(malformed.statusCode()).as("a malformed hint is ignored").isEqualTo(200);
        assertThat(http().header("Sec-CH-Width", "120").get("/img/photo.jpg?fmt=png").header("Vary"))
                .as("hints are off by default").isNull();
    }

    @Test
    void optionUrlsThroughTheFilterAreMadeOnceStoredAndRefusedOptionsGetTheOriginal() throws IOException {
        Response png = http().get("/options/photo.jpg?w=100&fmt=png");
        assertThat(png.statusCode()).as(png.asString()).isEqualTo(200);
        assertThat(png.contentType()).isEqualTo("image/png");
        assertThat(png.header("X-KVM-Transform")).isEqualTo("applied=image-png");
        assertThat(decode(png.asByteArray()).getWidth()).isEqualTo(100);
        assertThat(png.headers().getValues("Vary")).anySatisfy(v -> assertThat(v).contains("Accept"));
        Response again = http().get("/options/photo.jpg?fmt=png&w=100");
        assertThat(again.header("X-KVM-Transform")).isEqualTo("applied=image-png");
        assertThat(options.counters().get("cache-hit=image-png")).as("stored, in any order of the options")
                .isEqualTo(1L);
        assertThat(again.asByteArray()).isEqualTo(png.asByteArray());
        String etag = png.header("ETag");
        assertThat(etag).as("the variant's own tag").isNotNull().contains("image-png");
        assertThat(http().header("If-None-Match", etag).get("/options/photo.jpg?w=100&fmt=png").statusCode())
                .isEqualTo(304);

        Response auto = http().header("Accept", "image/webp,*/*").get("/options/photo.jpg?w=64");
        assertThat(auto.contentType()).as("fmt=auto by default").isEqualTo("image/webp");
        assertThat(auto.header("X-KVM-Transform")).isEqualTo("applied=image-webp");
        assertThat(decode(http().header("Accept", "*/*").get("/options/logo.png?w=5").asByteArray()).getWidth())
                .as("a PNG the client takes neither AVIF nor WebP for stays a PNG").isEqualTo(5);
        assertThat(http().header("Accept", "*/*").get("/options/logo.png?w=5").contentType()).isEqualTo("image/png");
        Response thumb = http().get("/options/photo.jpg?p=thumb&fmt=png");
        assertThat(decode(thumb.asByteArray()).getHeight()).isEqualTo(40);
        Response whole = http().get("/options/photo.jpg?fmt=png");
        assertThat(whole.header("X-KVM-Transform")).as("asked for: served although larger than the JPEG")
                .isEqualTo("applied=image-png");
        assertThat(whole.asByteArray().length).isGreaterThan(jpeg.length);

        Response hinted = http().header("Sec-CH-Width", "80").get("/options/photo.jpg?fmt=png");
        assertThat(decode(hinted.asByteArray()).getWidth()).as("a client hint through the filter").isEqualTo(80);
        assertThat(hinted.header("Accept-CH")).isEqualTo(ClientHints.ACCEPT_CH);
        assertThat(hinted.headers().getValues("Vary")).as("Accept and the hints used")
                .anySatisfy(v -> assertThat(v).contains("Sec-CH-Width"));

        Response rules = http().header("Accept", "image/webp").get("/options/photo.jpg");
        assertThat(rules.header("X-KVM-Transform")).as("no options: the rules").isEqualTo("applied=webp");
        Response bad = http().header("Accept", "image/webp").get("/options/photo.jpg?w=abc");
        assertThat(bad.statusCode()).isEqualTo(200);
        assertThat(bad.header("X-KVM-Transform")).isEqualTo("skipped=invalid-option");
        assertThat(bad.asByteArray()).as("a bad option: the original").isEqualTo(jpeg);
        assertThat(http().get("/options/page.html?page=2").header("X-KVM-Transform"))
                .as("a page's query is no image option: its rule applies").isEqualTo("applied=minify");

        Response unsigned = http().get("/signedopts/photo.jpg?w=50&fmt=png");
        assertThat(unsigned.header("X-KVM-Transform")).isEqualTo("skipped=bad-signature");
        assertThat(unsigned.asByteArray()).isEqualTo(jpeg);
        String url = new UrlSigner(List.of("the-filter-key-of-22-b".getBytes(StandardCharsets.UTF_8)))
                .sign("/signedopts/photo.jpg", "w=50&fmt=png");
        Response signed = http().urlEncodingEnabled(false).get(url);
        assertThat(signed.header("X-KVM-Transform")).isEqualTo("applied=image-png");
        java.awt.image.BufferedImage marked = decode(signed.asByteArray());
        assertThat(marked.getWidth()).isEqualTo(50);
        assertThat(red(marked.getRGB(5, 5))).as("the mark at the top left (northwest)").isTrue();
        assertThat(red(marked.getRGB(45, 50))).as("the picture elsewhere").isFalse();
    }

    /** Whether a pixel is the mark's red. */
    private static boolean red(int argb) {
        return (argb >> 16 & 0xff) > 220 && (argb >> 8 & 0xff) < 40 && (argb & 0xff) < 40;
    }

    @Test
    void theImageEndpointPutsTheConfiguredMarkOnWhatItMakes() throws IOException {
        java.awt.image.BufferedImage marked = decode(http().get("/marked/photo.jpg?w=100&fmt=png").asByteArray());
        java.awt.image.BufferedImage plain = decode(http().get("/img/photo.jpg?w=100&fmt=png").asByteArray());
        assertThat(marked.getWidth()).isEqualTo(100);
        int h = marked.getHeight();
        // size 0.5 of 100 pixels: a 50x25 mark in the bottom right corner, no margin.
        assertThat(red(marked.getRGB(99, h - 1)) && red(marked.getRGB(60, h - 20))).as("the mark, southeast").isTrue();
        assertThat(red(plain.getRGB(99, h - 1))).as("not in the picture itself").isFalse();
        assertThat(marked.getRGB(10, 10)).as("the rest of the picture as without the mark")
                .isEqualTo(plain.getRGB(10, 10));
        assertThat(http().get("/marked/photo.jpg").asByteArray()).as("no options: the file, unmarked").isEqualTo(jpeg);
    }

    @Test
    void signedOptionUrlsAreServedAndOthersRefused() {
        Response unsigned = http().get("/signed/photo.jpg?w=50&fmt=png");
        assertThat(unsigned.statusCode()).isEqualTo(403);
        assertThat(unsigned.header(ImageServlet.DIAGNOSTIC_HEADER)).isEqualTo("failed=bad-signature");
        UrlSigner signer = new UrlSigner(List.of("the-new-key-of-24-bytes".getBytes(StandardCharsets.UTF_8)));
        String url = signer.sign("/signed/photo.jpg", "w=50&fmt=png");
        Response signed = http().urlEncodingEnabled(false).get(url);
        assertThat(signed.statusCode()).as(signed.asString()).isEqualTo(200);
        assertThat(signed.contentType()).isEqualTo("image/png");
        String rotated = new UrlSigner(List.of("an-old-key-of-30-bytes-rotated".getBytes(StandardCharsets.UTF_8)))
                .sign("/signed/photo.jpg", "w=50&fmt=png");
        assertThat(http().urlEncodingEnabled(false).get(rotated).statusCode()).as("an older key").isEqualTo(200);
        String elsewhere = url.replace("/signed/photo.jpg", "/signed/big/photo.jpg");
        assertThat(http().urlEncodingEnabled(false).get(elsewhere).statusCode()).as("replayed on another path")
                .isEqualTo(403);
        assertThat(http().urlEncodingEnabled(false).get(url.replace("w=50", "w=51")).statusCode())
                .as("other options").isEqualTo(403);
        assertThat(http().get("/signed/photo.jpg").statusCode()).as("no options: no signature needed").isEqualTo(200);
    }

    @Test
    void headOfAStreamingProgramIsItsHeadAlone() throws IOException {
        RawHttp.Answer answer = RawHttp.send(container.port(), "HEAD /streamed HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Connection: close\r\n\r\n");
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.headers()).containsEntry("content-length", "3000").containsEntry("x-streamed", "yes");
        assertThat(answer.body()).isEmpty();
        assertThat(http().get("/streamed").asString()).as("the program serves the next request").hasSize(3000);
    }

    @Test
    void aStreamingProgramThatFailsBeforeAnyPieceGetsTheFailureStatus() {
        Response response = http().get("/streamed-crash");
        assertThat(response.statusCode()).as("nothing had reached the client").isEqualTo(502);
        assertThat(response.header(ProgramServlet.FAILURE_HEADER)).isEqualTo("failed=memory-fault");
    }

    @Test
    void aStreamingProgramThatFailsMidwayLeavesTheBodyShortOfItsLength() throws IOException {
        RawHttp.Answer answer = RawHttp.get(container.port(), "/streamed-half");
        assertThat(answer.status()).as("the head and a first piece had gone when the callback crashed").isEqualTo(200);
        assertThat(answer.headers()).containsEntry("content-length", "10");
        assertThat(new String(answer.body(), StandardCharsets.US_ASCII))
                .as("a client sees the body cut short, never a complete wrong one").isEqualTo("hhhhh");
        assertThat(http().get("/streamed").asString()).as("the program serves the next request").hasSize(3000);
    }

    @Test
    void programServletPassesTheProgramsHeadersAndItsCachingHintAsCacheControl() {
        Response response = http().get("/api-guest");
        assertThat(response.statusCode()).as(response.asString()).isEqualTo(200);
        assertThat(response.asString()).contains("method=GET/GET");
        assertThat(response.header("X-One")).isEqualTo("uno");
        assertThat(response.header("X-Two")).isEqualTo("2");
        assertThat(response.header("X-Gone")).isNull();
        // sys_set_cacheable(1, 5000 ms, grace 1000 ms, keep 2000 ms)
        assertThat(response.header("Cache-Control")).isEqualTo("max-age=5, stale-while-revalidate=1");
    }

    @Test
    void programServletHandsAnUpgradedConnectionToTheProgramUntilItCloses() throws IOException {
        try (UpgradeClient client = UpgradeClient.upgrade(container.port(), "/socket/room?x=1", "kvm-echo")) {
            assertThat(client.status()).isEqualTo(101);
            assertThat(client.header("Upgrade")).isEqualTo("kvm-echo");
            assertThat(client.header("Connection")).isEqualToIgnoringCase("upgrade");
            assertThat(client.readLine()).isEqualTo("hello 127.0.0.1:" + client.localPort() + " /socket/room?x=1\n");
            client.send("ping\n");
            assertThat(client.read("echo: ping\n".length())).isEqualTo("echo: ping\n");
            client.send("batch\n");
            assertThat(client.read("one\ntwo\n".length())).isEqualTo("one\ntwo\n");
            client.send("quit\n");
            assertThat(client.read("bye\n".length())).isEqualTo("bye\n");
            assertThat(client.endsWithNothingMore()).as("the program closed its connection").isTrue();
        }
    }

    @Test
    void bytesSentWithTheUpgradeRequestReachTheProgram() throws IOException {
        // In one write with the request: the container has read them past the request before the upgrade.
        try (UpgradeClient client = UpgradeClient.upgrade(container.port(), "/socket/early", "kvm-echo", "ping\n")) {
            assertThat(client.status()).isEqualTo(101);
            assertThat(client.readLine()).isEqualTo("hello 127.0.0.1:" + client.localPort() + " /socket/early\n");
            assertThat(client.read("echo: ping\n".length())).isEqualTo("echo: ping\n");
            client.send("quit\n");
            assertThat(client.read("bye\n".length())).isEqualTo("bye\n");
            assertThat(client.endsWithNothingMore()).isTrue();
        }
    }

    @Test
    void aClientSlowToReadGetsEveryByteInOrder() throws Exception {
        try (UpgradeClient client = UpgradeClient.upgrade(container.port(), "/socket/slow", "kvm-echo")) {
            assertThat(client.status()).isEqualTo(101);
            client.readLine();
            // 2 MiB for a client that reads nothing yet: where the container's output does not take them all (Jetty),
            // they wait in the session's queue and the program's input pauses until the client has read them.
            client.send("big 2048\n");
            Thread.sleep(300);
            client.send("ping\n");
            Thread.sleep(300);
            String big = client.read(2048 << 10);
            assertThat(big.chars().allMatch(c -> c == 'x')).isTrue();
            assertThat(client.read("echo: ping\n".length())).isEqualTo("echo: ping\n");
        }
    }

    @Test
    void aClientClosingItsSideEndsTheSessionAndFreesTheInstance() throws IOException {
        try (UpgradeClient client = UpgradeClient.upgrade(container.port(), "/socket-one", "kvm-echo")) {
            assertThat(client.status()).isEqualTo(101);
            client.readLine();
            client.shutdownOutput();
            assertThat(client.endsWithNothingMore()).as("closed once the program heard the client close").isTrue();
        }
        // The servlet's only instance is free again.
        try (UpgradeClient next = UpgradeClient.upgrade(container.port(), "/socket-one", "kvm-echo")) {
            assertThat(next.status()).isEqualTo(101);
            next.send("quit\n");
            next.readLine();
            assertThat(next.read("bye\n".length())).isEqualTo("bye\n");
        }
    }

    @Test
    void anIdleUpgradedConnectionEndsItsSessionAndIsCounted() throws Exception {
        long start = System.nanoTime();
        try (UpgradeClient client = UpgradeClient.upgrade(container.port(), "/socket-idle", "kvm-echo")) {
            assertThat(client.status()).isEqualTo(101);
            String greeting = "hello 127.0.0.1:" + client.localPort() + " /socket-idle\n";
            assertThat(client.readLine()).isEqualTo(greeting);
            com.fasterxml.jackson.databind.JsonNode socket = null;
            for (int i = 0; i < 100; i++) {
                socket = new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(socketIdle.statsJson().orElseThrow()).path("socket");
                if (socket.path("connections").asLong() == 1 && socket.path("instances_busy").asLong() == 0) {
                    break;
                }
                Thread.sleep(50);
            }
            assertThat(System.nanoTime() - start).as("not before the 1 s idle timeout").isGreaterThan(900_000_000L);
            assertThat(socket.path("instances_busy").asLong()).as("the session ended: %s", socket).isZero();
            assertThat(socket.path("connections").asLong()).isEqualTo(1);
            assertThat(socket.path("connection_failures").asLong()).isZero();
            assertThat(socket.path("connection_bytes_in").asLong()).isZero();
            assertThat(socket.path("connection_bytes_out").asLong()).isEqualTo(greeting.length());
            // Tomcat closes a connection closed from another thread when it next handles it: here, at this byte.
            client.send("ping\n");
            assertThat(client.endsWithNothingMore()).as("closed, and the program no longer answers").isTrue();
        }
    }

    @Test
    void anUpgradeRequestToAServletWithoutConnectionsIsAnsweredAsAGet() throws IOException {
        for (String path : List.of("/socket-plain", "/socket/h2c")) {
            String protocol = path.endsWith("h2c") ? "h2c" : "kvm-echo";
            try (UpgradeClient client = UpgradeClient.upgrade(container.port(), path, protocol)) {
                assertThat(client.status()).as(path).isEqualTo(200);
                assertThat(client.header("Content-Length")).isEqualTo("15");
                assertThat(client.read(15)).isEqualTo("socket program\n");
            }
        }
    }

    @Test
    void aProgramSpinningInItsConnectionHasItClosedAtItsTimeLimit() throws IOException {
        try (UpgradeClient client = UpgradeClient.upgrade(container.port(), "/socket/spin", "kvm-echo")) {
            assertThat(client.status()).isEqualTo(101);
            client.readLine();
            long start = System.nanoTime();
            client.send("spin\n");
            assertThat(client.endsWithNothingMore()).as("closed at max_request_time (1 s)").isTrue();
            assertThat(System.nanoTime() - start).isLessThan(10_000_000_000L);
        }
    }

    @Test
    void anUpgradeFindingEveryInstanceBusyGets503() throws IOException {
        try (UpgradeClient first = UpgradeClient.upgrade(container.port(), "/socket-one", "kvm-echo")) {
            assertThat(first.status()).isEqualTo(101);
            first.readLine();
            try (UpgradeClient second = UpgradeClient.upgrade(container.port(), "/socket-one", "kvm-echo")) {
                assertThat(second.status()).isEqualTo(503);
                assertThat(second.header("X-KVM-Program")).isEqualTo("failed=queue-timeout");
            }
            first.send("quit\n");
            assertThat(first.read(4)).isEqualTo("bye\n");
        }
    }

    @Test
    void programServletAnswers504WhenTheProgramTimesOut() {
        Response response = http().contentType("image/jpeg").body(jpeg).post("/convert-slow");
        assertThat(response.statusCode()).isEqualTo(504);
        assertThat(response.header(ProgramServlet.FAILURE_HEADER)).isEqualTo("failed=timeout");
        assertThat(response.asString()).contains("program webp failed: timeout");
    }

    @Test
    void statsServletReportsFiltersAndServletsAndReloadsPrograms() {
        http().header("Accept", "image/webp").get("/photo.jpg");
        Response stats = http().get("/admin/stats");
        assertThat(stats.statusCode()).isEqualTo(200);
        assertThat(stats.contentType()).isEqualTo("application/json");
        assertThat(stats.jsonPath().getLong("'filter:kvm'.counters.'applied=webp'")).isGreaterThanOrEqualTo(1);
        assertThat(stats.jsonPath().getMap("'filter:kvm'.sandbox")).containsKey("webp");
        assertThat(stats.jsonPath().getMap("'servlet:servlet1'")).containsKey("counters");

        Response reload = http().queryParam("invalidate", "webp").post("/admin/stats");
        assertThat(reload.statusCode()).isEqualTo(200);
        assertThat(reload.jsonPath().getInt("invalidated")).isGreaterThanOrEqualTo(1);
        // The program loads again on next use.
        assertThat(http().header("Accept", "image/webp").get("/photo.jpg").header("X-KVM-Transform"))
                .isEqualTo("applied=webp");
        assertThat(http().queryParam("invalidate", "[").post("/admin/stats").statusCode()).isEqualTo(400);
    }

    @Test
    void programTimeoutFallsBackToTheOriginalBytes() {
        Response response = http().header("Accept", "image/avif").get("/slow/photo.jpg");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.header("X-KVM-Transform")).isEqualTo("fallback=avif:timeout");
        assertThat(response.contentType()).isEqualTo("image/jpeg");
        assertThat(response.asByteArray()).isEqualTo(jpeg);
        assertThat(response.header("Vary")).isEqualTo("Accept");
    }

    @Test
    void concurrencyIsBoundedByThePoolAndOverflowFallsBackToTheOriginal() throws Exception {
        int clients = 6;
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(clients);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(clients);
        try {
            java.util.List<java.util.concurrent.Future<Response>> futures = new java.util.ArrayList<>();
            for (int i = 0; i < clients; i++) {
                futures.add(pool.submit(() -> {
                    start.await();
                    return http().header("Accept", "image/avif").get("/queued/photo.jpg");
                }));
            }
            java.util.List<String> outcomes = new java.util.ArrayList<>();
            for (java.util.concurrent.Future<Response> future : futures) {
                Response response = future.get(120, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(response.statusCode()).isEqualTo(200);
                String outcome = response.header("X-KVM-Transform");
                outcomes.add(outcome);
                if (outcome.equals("applied=avif")) {
                    assertThat(response.contentType()).isEqualTo("image/avif");
                } else {
                    assertThat(response.asByteArray()).isEqualTo(jpeg);
                }
            }
            assertThat(outcomes).contains("applied=avif", "fallback=avif:queue-timeout")
                    .allMatch(o -> o.equals("applied=avif") || o.equals("fallback=avif:queue-timeout"));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theFallbackLogLineGivesTheProgramsReason() {
        Logger logger = Logger.getLogger(KvmFilter.class.getName());
        List<String> messages = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                messages.add(new SimpleFormatter().formatMessage(record));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try {
            Response response = http().header("Accept", "image/webp").header("X-Request-Id", "3f2a-77b1")
                    .get("/logged/broken.jpg");
            assertThat(response.header("X-KVM-Transform")).isEqualTo("fallback=webp:error-status");
            // An id that is not a plain token is not trusted: the container's own names the request.
            http().header("Accept", "image/webp").header("X-Request-Id", "x) FORGED (y").get("/traced/broken.jpg");
        } finally {
            logger.removeHandler(capture);
        }
        // The status alone says little; the program's X-Failed header says what was wrong with the input. The
        // request id the proxy gave matches the line with the proxy's own log.
        assertThat(messages).anySatisfy(message -> assertThat(message)
                .contains("variant webp failed (error-status) for GET /logged/broken.jpg (request 3f2a-77b1)")
                .containsPattern("answered status 4\\d\\d")
                .containsPattern("; X-Failed: \\S.*; serving the original"));
        assertThat(messages).anySatisfy(message -> assertThat(message)
                .containsPattern("for GET /traced/broken.jpg \\(request [^ )]+\\): "));
        assertThat(messages).noneSatisfy(message -> assertThat(message).contains("FORGED"));
    }

    @Test
    void identicalImagesUnderDifferentUrlsShareOneResultOfTheBundledPrograms() {
        Response one = http().header("Accept", "image/webp").get("/shared/one.jpg");
        assertThat(one.header("X-KVM-Transform")).isEqualTo("applied=webp");
        long hits = sharedStore.counters().getOrDefault("cache-hit=webp", 0L);
        Response two = http().header("Accept", "image/webp").get("/shared/two.jpg");
        assertThat(two.header("X-KVM-Transform")).isEqualTo("applied=webp");
        assertThat(two.asByteArray()).isEqualTo(one.asByteArray());
        assertThat(sharedStore.counters().get("cache-hit=webp")).isEqualTo(hits + 1);
    }

    @Test
    void aBrokenImageIsDecodedOnceThenAnsweredFromMemory() {
        Response first = http().header("Accept", "image/webp").get("/shared/broken.jpg");
        assertThat(first.header("X-KVM-Transform")).isEqualTo("fallback=webp:error-status");
        Response second = http().header("Accept", "image/webp").get("/shared/broken.jpg");
        assertThat(second.header("X-KVM-Transform")).isEqualTo("fallback=webp:remembered");
        assertThat(second.asByteArray()).isEqualTo(Arrays.copyOf(jpeg, 2000));
        assertThat(sharedStore.counters()).containsEntry("fallback=webp:remembered", 1L);
    }

    @Test
    void brokenImageFallsBackToTheOriginalBytes() {
        Response response = http().header("Accept", "image/webp").get("/broken.jpg");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.header("X-KVM-Transform")).startsWith("fallback=webp:");
        assertThat(response.contentType()).isEqualTo("image/jpeg");
        assertThat(response.asByteArray()).isEqualTo(Arrays.copyOf(jpeg, 3000));
        assertThat(filter.counters().keySet()).anyMatch(key -> key.startsWith("fallback=webp:"));
    }
}
