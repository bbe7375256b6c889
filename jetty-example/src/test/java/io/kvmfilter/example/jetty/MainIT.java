package io.kvmfilter.example.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvmfilter.kvm.testing.CSuiteGuests;
import io.kvmfilter.kvm.testing.KvmRequirement;
import io.kvmfilter.kvm.testing.LocalOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the packaged jar the way the README does ({@code java -jar jetty-example.jar}) as a separate process
 * and checks what a user sees: the listening line, images negotiated by {@code Accept}, minified text, the
 * statistics, the usage on bad arguments and a clean stop on SIGTERM.
 */
class MainIT {

    /** The JVM's exit status after SIGTERM: 128 + 15. */
    private static final int EXIT_ON_SIGTERM = 143;

    /** One server with the bundled samples, shared by the tests that only send requests. */
    private static JarServer samples;

    private final List<JarServer> started = new ArrayList<>();

    @TempDir
    Path temp;

    @BeforeAll
    static void startSampleServer(@TempDir Path dir) throws Exception {
        samples = JarServer.start(dir, "--port", "0", "--stats");
    }

    @AfterAll
    static void stopSampleServer() {
        if (samples != null) {
            samples.close();
        }
    }

    @AfterEach
    void killLeftovers() {
        started.forEach(JarServer::close);
    }

    @Test
    void servesBundledSampleImageUnchangedWithoutAccept() throws Exception {
        HttpResponse<byte[]> response = samples.get("grace_hopper.jpg");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("image/jpeg");
        assertThat(response.headers().allValues("Vary")).as("Vary: a cache must keep the variants apart")
                .anySatisfy(vary -> assertThat(vary).containsIgnoringCase("Accept"));
        assertThat(response.body()).isEqualTo(bundledSample("grace_hopper.jpg"));
    }

    @Test
    void convertsJpegToAvifWhenAccepted() throws Exception {
        KvmRequirement.require("avif");

        HttpResponse<byte[]> response = samples.get("grace_hopper.jpg", "Accept", "image/avif,image/webp,*/*");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("X-KVM-Transform")).hasValue("applied=avif");
        assertThat(response.headers().firstValue("Content-Type")).hasValue("image/avif");
        assertThat(response.headers().allValues("Vary")).anySatisfy(vary -> assertThat(vary).containsIgnoringCase("Accept"));
        byte[] body = response.body();
        assertThat(ascii(body, 4, 8)).as("an ISOBMFF file starts with its ftyp box").isEqualTo("ftyp");
        assertThat(ascii(body, 8, 12)).as("major brand").isEqualTo("avif");
        assertThat(body.length).isLessThan(bundledSample("grace_hopper.jpg").length);
    }

    @Test
    void convertsPngAndJpegToWebpWhenAccepted() throws Exception {
        KvmRequirement.require("webp");

        for (String name : List.of("palette_color.png", "rocket.jpg")) {
            HttpResponse<byte[]> response = samples.get(name, "Accept", "image/webp,*/*");

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("X-KVM-Transform")).as(name).hasValue("applied=webp");
            assertThat(response.headers().firstValue("Content-Type")).as(name).hasValue("image/webp");
            byte[] body = response.body();
            assertThat(ascii(body, 0, 4) + ascii(body, 8, 12)).as("%s: RIFF....WEBP", name).isEqualTo("RIFFWEBP");
            assertThat(body.length).as(name).isLessThan(bundledSample(name).length);
        }
    }

    @Test
    void anAnimatedGifStaysAnimated() throws Exception {
        KvmRequirement.require("webp");
        String name = "no_time_for_that_tiny.gif";

        HttpResponse<byte[]> response = samples.get(name, "Accept", "image/webp,*/*");

        // The animated WebP of this small GIF is larger than the GIF, so the filter serves the GIF itself,
        // with every frame: a still WebP of its first frame would be a smaller but wrong answer.
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("X-KVM-Transform")).hasValue("fallback=webp:larger");
        assertThat(response.headers().firstValue("Content-Type")).hasValue("image/gif");
        assertThat(response.body()).isEqualTo(bundledSample(name));
    }

    @Test
    void minifiesCssJavaScriptHtmlAndJson() throws Exception {
        KvmRequirement.require("minify");

        for (String name : List.of("bootstrap.css", "jquery.js", "im-architecture.html", "twitter.json")) {
            HttpResponse<byte[]> response = samples.get(name);

            assertThat(response.statusCode()).as(name).isEqualTo(200);
            assertThat(response.headers().firstValue("X-KVM-Transform")).as(name).hasValue("applied=minify");
            byte[] original = bundledSample(name);
            assertThat(response.body().length).as("%s minified", name).isLessThan(original.length);
            String text = new String(response.body(), StandardCharsets.UTF_8);
            if (name.endsWith(".css")) {
                assertThat(text).as("CSS keeps its rules").contains(".btn").contains("{").doesNotContain("\n  ");
            } else if (name.endsWith(".json")) {
                JsonNode minified = new ObjectMapper().readTree(text);
                assertThat(minified).as("the same JSON value").isEqualTo(new ObjectMapper().readTree(original));
            }
        }
    }

    @Test
    void reportsStatisticsOfEveryFilterAsJson() throws Exception {
        KvmRequirement.require("webp");
        samples.get("rocket.jpg", "Accept", "image/webp");

        HttpResponse<byte[]> response = samples.get("_kvm/stats");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/json"));
        JsonNode stats = new ObjectMapper().readTree(response.body());
        assertThat(stats.has("filter:main")).as("the main filter in %s", stats.fieldNames()).isTrue();
        JsonNode main = stats.get("filter:main");
        assertThat(main.get("counters").get("applied=webp").asLong()).isPositive();
        for (String program : List.of("webp", "avif", "minify")) {
            assertThat(main.get("sandbox").has(program)).as("program %s in the statistics", program).isTrue();
        }
        assertThat(main.get("sandbox").get("webp").get("invocations").asLong()).isPositive();
    }

    // Safe to expose: nothing outside --dir, no listings, no statistics or invalidation unless asked for.

    @Test
    void servesNothingOutsideTheDirectoryThroughSymbolicLinks() throws Exception {
        Path outside = Files.createDirectories(temp.resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), "not for the web\n");
        Path site = Files.createDirectories(temp.resolve("site"));
        Files.writeString(site.resolve("public.txt"), "for the web\n");
        Files.createSymbolicLink(site.resolve("secret.txt"), outside.resolve("secret.txt"));
        Files.createSymbolicLink(site.resolve("outside"), outside);
        Files.createSymbolicLink(site.resolve("inside.txt"), site.resolve("public.txt"));
        JarServer server = start("--port", "0", "--dir", site.toString());

        assertThat(server.get("secret.txt").statusCode()).as("a link to a file outside --dir").isEqualTo(404);
        assertThat(server.get("outside/secret.txt").statusCode()).as("a link to a directory outside --dir")
                .isEqualTo(404);
        assertThat(server.get("_kvm/original/secret.txt").statusCode()).as("the demo's views neither")
                .isEqualTo(404);
        HttpResponse<byte[]> inside = server.get("inside.txt");
        assertThat(inside.statusCode()).as("a link inside --dir").isEqualTo(200);
        assertThat(new String(inside.body(), StandardCharsets.UTF_8)).isEqualTo("for the web\n");
    }

    @Test
    void listsDirectoriesOnlyWhenAsked() throws Exception {
        Path site = Files.createDirectories(temp.resolve("site"));
        Files.createDirectories(site.resolve("photos"));
        Files.writeString(site.resolve("photos/list-me.txt"), "x");
        JarServer closed = start("--port", "0", "--dir", site.toString());
        for (String path : List.of("photos/", "_kvm/original/photos/")) {
            HttpResponse<byte[]> refused = closed.get(path);
            assertThat(refused.statusCode()).as(path).isEqualTo(403);
            assertThat(new String(refused.body(), StandardCharsets.UTF_8)).as(path).doesNotContain("list-me.txt");
        }

        JarServer listing = start("--port", "0", "--dir", site.toString(), "--list-dirs");
        HttpResponse<byte[]> response = listing.get("photos/");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(new String(response.body(), StandardCharsets.UTF_8)).contains("list-me.txt");
    }

    @Test
    void statisticsAndInvalidationAreOffUnlessAsked() throws Exception {
        JarServer plain = start("--port", "0", "--dir", temp.toString());
        assertThat(plain.get("_kvm/stats").statusCode()).isEqualTo(404);

        HttpResponse<byte[]> refused = samples.post("_kvm/stats?invalidate=webp");
        assertThat(refused.statusCode()).as("--stats alone shows statistics but does not invalidate")
                .isEqualTo(403);

        KvmRequirement.require("webp");
        JarServer admin = start("--port", "0", "--dir", temp.toString(), "--allow-invalidate");
        assertThat(admin.get("_kvm/stats").statusCode()).isEqualTo(200);
        HttpResponse<byte[]> invalidated = admin.post("_kvm/stats?invalidate=webp");
        assertThat(invalidated.statusCode()).isEqualTo(200);
        assertThat(new ObjectMapper().readTree(invalidated.body()).has("invalidated")).isTrue();
    }

    @Test
    void theDemosFormatViewsConvertAFileOnce() throws Exception {
        KvmRequirement.require("webp");
        Files.write(temp.resolve("photo.jpg"), bundledSample("rocket.jpg"));
        JarServer server = start("--port", "0", "--dir", temp.toString(), "--stats");

        for (int i = 0; i < 3; i++) {
            HttpResponse<byte[]> view = server.get("_kvm/webp/photo.jpg");
            assertThat(view.statusCode()).isEqualTo(200);
            assertThat(view.headers().firstValue("Content-Type")).hasValue("image/webp");
        }
        JsonNode webp = new ObjectMapper().readTree(server.get("_kvm/stats").body()).get("filter:webp");
        assertThat(webp.get("counters").get("cache-hit=webp").asLong()).as("%s", webp.get("counters"))
                .isEqualTo(2);
        assertThat(webp.get("sandbox").get("webp").get("invocations").asLong()).as("conversions").isEqualTo(1);
    }

    @Test
    void servesGivenDirectory() throws Exception {
        Files.writeString(temp.resolve("hello.txt"), "Hello, world.\n");
        JarServer server = start("--port", "0", "--dir", temp.toString());

        HttpResponse<byte[]> response = server.get("hello.txt");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/plain"));
        assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo("Hello, world.\n");
        assertThat(server.get("grace_hopper.jpg").statusCode())
                .as("the bundled samples are not served when --dir is given").isEqualTo(404);
    }

    @Test
    void convertsImagesOfGivenDirectory() throws Exception {
        KvmRequirement.require("webp");
        Files.write(temp.resolve("photo.jpg"), bundledSample("rocket.jpg"));
        JarServer server = start("--port", "0", "--dir", temp.toString());

        HttpResponse<byte[]> response = server.get("photo.jpg", "Accept", "image/webp");

        assertThat(response.headers().firstValue("X-KVM-Transform")).as(server::log).hasValue("applied=webp");
        assertThat(response.headers().firstValue("Content-Type")).hasValue("image/webp");
    }

    @Test
    void logsAFailureAsOneJsonObjectWithLogJson() throws Exception {
        KvmRequirement.require("webp");
        byte[] jpeg = bundledSample("rocket.jpg");
        Files.write(temp.resolve("truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
        JarServer server = start("--port", "0", "--dir", temp.toString(), "--log-json");

        HttpResponse<byte[]> response = server.get("truncated.jpg", "Accept", "image/webp",
                "X-Request-Id", "trace-7f3a");

        assertThat(response.headers().firstValue("X-KVM-Transform")).as(server::log)
                .hasValueSatisfying(outcome -> assertThat(outcome).startsWith("fallback=webp:"));
        assertThat(response.body()).as("the original, byte for byte").hasSize(jpeg.length / 2);
        JsonNode failure = null;
        for (int i = 0; i < 50 && failure == null; i++) { // the record reaches the file just after the response
            failure = server.log().lines().filter(line -> line.startsWith("{\"time\""))
                    .map(MainIT::json).filter(line -> line.has("outcome")).findFirst().orElse(null);
            Thread.sleep(i == 0 ? 0 : 100);
        }
        assertThat(failure).as(server::log).isNotNull();
        assertThat(failure.get("level").asText()).isEqualTo("WARNING");
        assertThat(failure.get("outcome").asText()).isEqualTo(response.headers().firstValue("X-KVM-Transform").get());
        assertThat(failure.get("uri").asText()).isEqualTo("/truncated.jpg");
        assertThat(failure.get("request_id").asText()).as("the proxy's id names the request").isEqualTo("trace-7f3a");
        assertThat(failure.get("detail").asText()).contains("JPEG");
    }

    private static JsonNode json(String line) {
        try {
            return new ObjectMapper().readTree(line);
        } catch (IOException e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }

    @Test
    void runsProgramOfYourOwnFromLibraryAndRules() throws Exception {
        KvmRequirement.require();
        // The SDK example (src-native/sdk/examples/hello.c) answers a POST with the body it got.
        Path hello = Path.of(System.getProperty("kvmfilter.sdkHello", "../src-native/build/sdk/hello"));
        assertThat(hello).as("the SDK example, built by the native build").isRegularFile();
        Path programs = Files.createDirectories(temp.resolve("programs"));
        Files.copy(hello, programs.resolve("hello"));
        Files.writeString(programs.resolve("library.json"), "{ \"hello\": { \"filename\": \"hello\" } }\n");
        Path site = Files.createDirectories(temp.resolve("site"));
        Files.writeString(site.resolve("note.txt"), "A note that the program echoes unchanged.\n");
        JarServer server = start("--port", "0", "--dir", site.toString(),
                "--library", programs.resolve("library.json").toString(), "--rules", "text/plain -> hello");

        HttpResponse<byte[]> response = server.get("note.txt");

        assertThat(response.headers().firstValue("X-KVM-Transform")).as(server::log).hasValue("applied=hello");
        assertThat(new String(response.body(), StandardCharsets.UTF_8))
                .isEqualTo("A note that the program echoes unchanged.\n");
    }

    @Test
    void rejectsBadRules() throws Exception {
        assertRejected(List.of("--rules", "text/plain ->"), "--rules: kvmfilter parameter rules = \"text/plain ->\""
                + " is not valid: rule 1 (text/plain ->), at character 14: expected a program name");
    }

    @Test
    void refusesToStartWithUnknownProgram() throws Exception {
        Path log = Files.createTempFile(temp, "stderr", ".log");
        Process process = JarServer.launch(List.of("--port", "0", "--rules", "text/plain -> shout"), log);
        try {
            assertThat(process.waitFor(JarServer.TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("exited").isTrue();
            assertThat(process.exitValue()).isEqualTo(1);
            assertThat(Files.readString(log)).contains("jetty-example: cannot start the server")
                    .contains("program(s) [shout] are not in the program library");
            assertThat(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .doesNotContain("Listening");
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void rejectsMissingLibrary() throws Exception {
        Path missing = temp.resolve("library.json");
        assertRejected(List.of("--library", missing.toString()),
                "--library " + missing + " is not a file; give a program library JSON");
    }

    @Test
    void answersMissingFileWith404() throws Exception {
        assertThat(samples.get("no-such-file.png").statusCode()).isEqualTo(404);
    }

    @Test
    void stopsCleanlyOnSigterm() throws Exception {
        JarServer server = start("--port", "0");
        assertThat(server.get("palette_color.png", "Accept", "image/webp").statusCode()).isEqualTo(200);

        server.process.destroy(); // SIGTERM on Linux

        assertThat(server.process.waitFor(JarServer.TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("exited after SIGTERM")
                .isTrue();
        assertThat(server.process.exitValue()).isEqualTo(EXIT_ON_SIGTERM);
        assertThat(accepts(server.port)).as("port %d closed after stop", server.port).isFalse();
        assertThat(server.log()).as("no error while stopping").doesNotContain("Exception");
        assertThat(server.stdoutAfterListening()).as("the listening line is the only line on stdout").isEmpty();
    }

    @Test
    void mountsProgramsAsBackendsOfTheirPaths() throws Exception {
        Path library = temp.resolve("library.json");
        Files.writeString(library, "{ \"hello\": { \"filename\": \"" + CSuiteGuests.guest("hello") + "\" } }");
        JarServer server = start("--port", "0", "--library", library.toString(), "--program", "/hello=hello",
                "--program", "/tools/min=minify");

        HttpResponse<byte[]> below = server.get("hello/a/b?c=1");
        assertThat(below.statusCode()).isEqualTo(200);
        assertThat(new String(below.body(), StandardCharsets.UTF_8)).as("%s; log: %s", below.headers().map(),
                server.log()).isEqualTo("Hello from hello: url=/hello/a/b?c=1 arg=");
        HttpResponse<byte[]> itself = server.get("hello");
        assertThat(new String(itself.body(), StandardCharsets.UTF_8)).isEqualTo("Hello from hello: url=/hello arg=");

        // A bundled program as a backend: its answer reaches the client as it is (the main filter leaves it alone).
        HttpResponse<byte[]> minified = server.post("tools/min", "application/json", "{ \"a\" : [ 1, 2 ] }");
        assertThat(minified.statusCode()).isEqualTo(200);
        assertThat(minified.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/json"));
        assertThat(new String(minified.body(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":[1,2]}");
        assertThat(minified.headers().firstValue("X-KVM-Transform")).as("not transformed again").isEmpty();

        // Other paths are files as before.
        assertThat(server.get("grace_hopper.jpg").statusCode()).isEqualTo(200);
    }

    @Test
    void makesThumbnailsOfImagesItFetchesFromAnOriginItsPolicyAllows() throws Exception {
        KvmRequirement.require("webp");
        com.sun.net.httpserver.HttpServer origin = photoOrigin();
        try {
            int port = origin.getAddress().getPort();
            // The bundled webp program as "thumbnail", allowed to fetch from the origin only (127.0.0.1 is loopback:
            // listed in addresses, or the policy would refuse it as well).
            Path library = Files.writeString(temp.resolve("thumbnails.json"), "{ \"thumbnail\": { \"uri\": \"bundled:webp\", "
                    + "\"egress\": { \"hosts\": [\"127.0.0.1\"], \"ports\": [" + port + "], \"addresses\": [\"127.0.0.1\"] } } }");
            JarServer server = start("--port", "0", "--library", library.toString(), "--program", "/thumb=thumbnail");
            HttpResponse<byte[]> thumb = server.get(thumbUrl("http://127.0.0.1:" + port + "/photo.jpg", 64));
            assertThat(thumb.statusCode()).as("%s; log: %s", thumb.headers().map(), server.log()).isEqualTo(200);
            assertThat(thumb.headers().firstValue("Content-Type")).hasValue("image/webp");
            assertThat(webpWidth(thumb.body())).isEqualTo(64);

            HttpResponse<byte[]> refused = server.get(thumbUrl("http://localhost:" + port + "/photo.jpg", 64));
            assertThat(refused.statusCode()).isEqualTo(502);
            assertThat(refused.headers().firstValue("X-Failed")).hasValueSatisfying(why -> assertThat(why)
                    .contains("egress policy does not allow it"));
        } finally {
            origin.stop(0);
        }
    }

    @Test
    void programsMountedInFrontOfAnOriginMayFetchFromItAndFromNowhereElse() throws Exception {
        KvmRequirement.require("webp");
        com.sun.net.httpserver.HttpServer origin = photoOrigin();
        try {
            int port = origin.getAddress().getPort();
            // No library: the bundled webp, mounted in front of the origin, gets the origin as its egress policy
            // (127.0.0.1 included, as the operator named it).
            JarServer server = start("--port", "0", "--origin", "http://127.0.0.1:" + port, "--program", "/thumb=webp");
            HttpResponse<byte[]> thumb = server.get(thumbUrl("http://127.0.0.1:" + port + "/photos/cat.jpg", 48));
            assertThat(thumb.statusCode()).as("%s; log: %s", thumb.headers().map(), server.log()).isEqualTo(200);
            assertThat(webpWidth(thumb.body())).isEqualTo(48);
            assertThat(server.get(thumbUrl("http://localhost:" + port + "/photos/cat.jpg", 48)).statusCode())
                    .as("another host").isEqualTo(502);
        } finally {
            origin.stop(0);
        }
    }

    /** An origin on 127.0.0.1 answering every path with the bundled grace_hopper.jpg. */
    private static com.sun.net.httpserver.HttpServer photoOrigin() throws IOException {
        byte[] photo = bundledSample("grace_hopper.jpg");
        return LocalOrigin.serving("/", "image/jpeg", exchange -> photo);
    }

    /** The /thumb path asking for source as a thumbnail of the given width. */
    private static String thumbUrl(String source, int width) {
        return "thumb?url=" + java.net.URLEncoder.encode(source, StandardCharsets.UTF_8) + "&options="
                + java.net.URLEncoder.encode("{\"width\": " + width + "}", StandardCharsets.UTF_8);
    }

    /** The width of a WebP image, from its VP8X, VP8 or VP8L header. */
    private static int webpWidth(byte[] d) {
        String chunk = new String(d, 12, 4, StandardCharsets.US_ASCII);
        return switch (chunk) {
            case "VP8X" -> 1 + ((d[24] & 0xff) | (d[25] & 0xff) << 8 | (d[26] & 0xff) << 16);
            case "VP8 " -> ((d[26] & 0xff) | (d[27] & 0xff) << 8) & 0x3fff;
            case "VP8L" -> 1 + (((d[21] & 0xff) | (d[22] & 0xff) << 8) & 0x3fff);
            default -> throw new AssertionError("not a WebP image: chunk " + chunk);
        };
    }

    @Test
    void servesImagesOnDemandWithSignedOptionUrls() throws Exception {
        Path site = Files.createDirectories(temp.resolve("images-site"));
        Files.write(site.resolve("photo.jpg"), bundledSample("grace_hopper.jpg"));
        Path keys = Files.writeString(temp.resolve("keys.txt"), "the-signing-key-of-this-test\n");
        JarServer server = start("--port", "0", "--dir", site.toString(), "--images", "/img", "--signing-keys",
                keys.toString());

        assertThat(server.get("img/photo.jpg?w=50&fmt=png").statusCode()).as("unsigned options").isEqualTo(403);
        String signed = new io.kvmfilter.filter.UrlSigner(List.of("the-signing-key-of-this-test"
                .getBytes(StandardCharsets.UTF_8))).sign("/img/photo.jpg", "w=50&fmt=png");
        HttpResponse<byte[]> image = server.get(signed.substring(1));
        assertThat(image.statusCode()).as("%s; log: %s", image.headers().map(), server.log()).isEqualTo(200);
        assertThat(image.headers().firstValue("Content-Type")).hasValue("image/png");
        assertThat(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(image.body())).getWidth()).isEqualTo(50);
        assertThat(image.headers().firstValue("X-KVM-Transform")).as("the main filter leaves it alone").isEmpty();
        assertThat(server.get("img/photo.jpg").body()).as("no options: the file").isEqualTo(Files.readAllBytes(
                site.resolve("photo.jpg")));

        // The demo page shows option URLs, signed with the server's key: each answers its picture.
        String page = new String(server.get("").body(), StandardCharsets.UTF_8);
        java.util.regex.Matcher urls = java.util.regex.Pattern.compile("data-option-url=\"([^\"]+)\"").matcher(page);
        int shown = 0;
        while (urls.find()) {
            String url = urls.group(1).replace("&amp;", "&");
            assertThat(url).as("signed").contains("s=");
            HttpResponse<byte[]> picture = server.get(url.substring(1));
            assertThat(picture.statusCode()).as(url).isEqualTo(200);
            assertThat(picture.headers().firstValue("Content-Type")).as(url).hasValueSatisfying(
                    type -> assertThat(type).startsWith("image/"));
            shown++;
        }
        assertThat(shown).as("option URLs on the demo page").isEqualTo(5);
    }

    @Test
    void servesAnOriginThroughTheFilterWithOptionUrlsOnItsImages() throws Exception {
        byte[] photo = bundledSample("grace_hopper.jpg");
        byte[] page = "<html>  <body>   <p>  an   origin's   page  </p>  </body>  </html>\n".getBytes(StandardCharsets.UTF_8);
        com.sun.net.httpserver.HttpServer origin = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        java.util.concurrent.atomic.AtomicInteger photoRequests = new java.util.concurrent.atomic.AtomicInteger();
        origin.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            byte[] body = path.endsWith(".jpg") ? photo : path.endsWith(".html") ? page : null;
            if (path.endsWith(".jpg")) {
                photoRequests.incrementAndGet();
            }
            if (body == null) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.getResponseHeaders().set("Content-Type", path.endsWith(".jpg") ? "image/jpeg"
                        : "text/html;charset=utf-8");
                exchange.getResponseHeaders().set("ETag", "\"v1-" + body.length + "\"");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        origin.start();
        try {
            JarServer server = start("--port", "0", "--origin", "http://127.0.0.1:" + origin.getAddress().getPort()
                    + "/", "--images", "/photos");
            HttpResponse<byte[]> webp = server.get("photos/cat.jpg", "Accept", "image/webp");
            assertThat(webp.statusCode()).as("%s; log: %s", webp.headers().map(), server.log()).isEqualTo(200);
            assertThat(webp.headers().firstValue("X-KVM-Transform")).hasValue("applied=webp");
            HttpResponse<byte[]> small = server.get("photos/cat.jpg?w=50&fmt=png");
            assertThat(small.headers().firstValue("X-KVM-Transform")).as("%s", server.log()).hasValue("applied=image-png");
            assertThat(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(small.body())).getWidth())
                    .isEqualTo(50);
            assertThat(server.get("photos/cat.jpg?w=abc").body()).as("a bad option: the origin's original")
                    .isEqualTo(photo);
            HttpResponse<byte[]> html = server.get("site/page.html");
            assertThat(html.headers().firstValue("X-KVM-Transform")).hasValue("applied=minify");
            assertThat(new String(html.body(), StandardCharsets.UTF_8)).as("minified").contains("an origin's page")
                    .hasSizeLessThan(page.length);
            assertThat(server.get("missing.txt").statusCode()).as("the origin's 404").isEqualTo(404);
        } finally {
            origin.stop(0);
        }
        assertRejected(List.of("--origin", "ftp://example.com"), "--origin 'ftp://example.com': expected http://HOST");
        assertRejected(List.of("--origin", "http://127.0.0.1:1", "--dir", temp.toString()),
                "--origin serves another site: --dir and --list-dirs are for a directory of files");
    }

    @Test
    void takesTheImageEndpointsBoundsPresetsAndHintsFromASettingsFile() throws Exception {
        Path site = Files.createDirectories(temp.resolve("settings-site"));
        Files.write(site.resolve("photo.jpg"), bundledSample("grace_hopper.jpg"));
        Path settings = Files.writeString(temp.resolve("images.properties"), "# the image endpoint's settings\n"
                + "maxWidth = 300\npresets = thumb: w=40&h=40\nclientHints = true\n");
        JarServer server = start("--port", "0", "--dir", site.toString(), "--images", "/img", "--image-settings",
                settings.toString());
        HttpResponse<byte[]> thumb = server.get("img/photo.jpg?p=thumb&fmt=png");
        assertThat(thumb.statusCode()).as("%s; log: %s", thumb.headers().map(), server.log()).isEqualTo(200);
        assertThat(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(thumb.body())).getWidth()).isEqualTo(40);
        assertThat(thumb.headers().firstValue("Accept-CH")).as("client hints on").isPresent();
        HttpResponse<byte[]> wide = server.get("img/photo.jpg?w=400");
        assertThat(wide.statusCode()).as("maxWidth 300").isEqualTo(400);
        assertThat(new String(wide.body(), StandardCharsets.UTF_8)).contains("must be an integer from 1 to 300");
    }

    @Test
    void rejectsBadProgramMounts() throws Exception {
        assertRejected(List.of("--program", "/api"), "--program '/api': expected /PATH=NAME");
        assertRejected(List.of("--program", "/=webp"), "--program '/=webp': expected /PATH=NAME");
        assertRejected(List.of("--program", "/_kvm/x=webp"), "--program '/_kvm/x=webp': /_kvm/ belongs to the demo");
        assertRejected(List.of("--program", "/a=webp", "--program", "/a=avif"), "--program '/a=avif': /a is given twice");
    }

    @Test
    void rejectsBadImageOptions() throws Exception {
        assertRejected(List.of("--images", "/img"), "--images needs --dir");
        assertRejected(List.of("--dir", temp.toString(), "--images", "img"), "--images 'img': expected /PATH");
        Path shortKey = Files.writeString(temp.resolve("short.txt"), "short\n");
        assertRejected(List.of("--dir", temp.toString(), "--images", "/img", "--signing-keys", shortKey.toString()),
                "--signing-keys " + shortKey + ": each key must be 16 or more characters");
        Path typo = Files.writeString(temp.resolve("typo.properties"), "maxWidht=300\n");
        assertRejected(List.of("--dir", temp.toString(), "--images", "/img", "--image-settings", typo.toString()),
                "--image-settings " + typo + ": unknown setting 'maxWidht'; allowed: maxWidth, maxHeight");
        Path bad = Files.writeString(temp.resolve("bad.properties"), "maxDpr=lots\n");
        assertRejected(List.of("--dir", temp.toString(), "--images", "/img", "--image-settings", bad.toString()),
                "'--image-settings " + bad + ": maxDpr' must be a number such as 2 or 2.5, got \"lots\"");
        Path good = Files.writeString(temp.resolve("good.properties"), "maxWidth=300\n");
        assertRejected(List.of("--image-settings", good.toString()), "--image-settings needs --images");
    }

    @Test
    void rejectsUnknownArgumentWithUsage() throws Exception {
        assertRejected(List.of("--verbose"), "unknown argument '--verbose'");
    }

    @Test
    void rejectsBadPorts() throws Exception {
        assertRejected(List.of("--port", "eighty"), "--port 'eighty' is not a number; allowed: 0 to 65535");
        assertRejected(List.of("--port", "65536"), "--port 65536 is out of range; allowed: 0 to 65535");
        assertRejected(List.of("--port"), "--port needs a value");
    }

    @Test
    void rejectsMissingDirectory() throws Exception {
        Path missing = temp.resolve("missing");
        assertRejected(List.of("--dir", missing.toString()), "--dir " + missing + " is not a directory");
    }

    private void assertRejected(List<String> args, String expectedMessage) throws Exception {
        Path log = Files.createTempFile(temp, "stderr", ".log");
        Process process = JarServer.launch(args, log);
        try {
            assertThat(process.waitFor(JarServer.TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("exited").isTrue();
            String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String stderr = Files.readString(log);

            assertThat(process.exitValue()).as("exit status for %s", args).isEqualTo(1);
            assertThat(stderr).contains("jetty-example: " + expectedMessage)
                    .contains("usage: java -jar jetty-example.jar");
            assertThat(stdout).doesNotContain("Listening");
        } finally {
            process.destroyForcibly();
        }
    }

    private JarServer start(String... args) throws Exception {
        JarServer server = JarServer.start(temp, args);
        started.add(server);
        return server;
    }

    static byte[] bundledSample(String name) throws IOException {
        try (InputStream in = Main.class.getResourceAsStream("/" + Main.SAMPLES + name)) {
            assertThat(in).as("sample %s on the class path", name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static String ascii(byte[] bytes, int from, int to) {
        return to > bytes.length ? "" : new String(bytes, from, to - from, StandardCharsets.ISO_8859_1);
    }

    private static boolean accepts(int port) throws IOException {
        try {
            new Socket("127.0.0.1", port).close();
            return true;
        } catch (ConnectException e) {
            return false;
        }
    }
}
