package io.kvmfilter.example.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What a user of the example web application checks over HTTP, whichever Tomcat runs it and whichever way its
 * filters are configured: images negotiated by {@code Accept}, text minified, files outside both mappings
 * untouched, and the statistics. The expected bytes are the war's own files, from the exploded war in
 * target/tomcat-example (src/main/webapp plus the samples the build adds).
 */
final class ExampleChecks {

    /** The files the war is built from. Tests run in the module's directory. */
    static final Path WEBAPP = Path.of("target/tomcat-example");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final URI base;

    /** @param base the application's root, ending with a slash: http://127.0.0.1:PORT/example/ */
    ExampleChecks(URI base) {
        this.base = base;
    }

    HttpResponse<byte[]> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60)).GET();
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** JPEG and PNG become AVIF or WebP when asked for, and stay as they are otherwise; always with Vary: Accept. */
    void imagesAreNegotiated() throws Exception {
        HttpResponse<byte[]> avif = get("images/grace_hopper.jpg", "Accept", "image/avif,image/webp,*/*");
        assertThat(avif.statusCode()).isEqualTo(200);
        assertThat(avif.headers().firstValue("X-KVM-Transform")).hasValue("applied=avif");
        assertThat(avif.headers().firstValue("Content-Type")).hasValue("image/avif");
        assertThat(ascii(avif.body(), 4, 12)).as("ftyp box with brand avif").isEqualTo("ftypavif");
        assertVaryAccept(avif);

        for (String image : List.of("images/grace_hopper.jpg", "images/palette_color.png")) {
            HttpResponse<byte[]> webp = get(image, "Accept", "image/webp,*/*");
            assertThat(webp.statusCode()).as(image).isEqualTo(200);
            assertThat(webp.headers().firstValue("X-KVM-Transform")).as(image).hasValue("applied=webp");
            assertThat(webp.headers().firstValue("Content-Type")).as(image).hasValue("image/webp");
            assertThat(ascii(webp.body(), 0, 4) + ascii(webp.body(), 8, 12)).as("%s: RIFF....WEBP", image)
                    .isEqualTo("RIFFWEBP");
            assertThat(webp.body().length).as(image).isLessThan(original(image).length);
            assertVaryAccept(webp);
        }

        HttpResponse<byte[]> plain = get("images/grace_hopper.jpg");
        assertThat(plain.statusCode()).isEqualTo(200);
        assertThat(plain.headers().firstValue("Content-Type")).hasValue("image/jpeg");
        assertThat(plain.headers().firstValue("X-KVM-Transform")).hasValue("skipped=not-accepted");
        assertThat(plain.body()).as("the original bytes").isEqualTo(original("images/grace_hopper.jpg"));
        assertVaryAccept(plain);
    }

    /** A cache revalidating the WebP variant with its ETag gets 304 with the same ETag and Vary: Accept. */
    void variantsRevalidateWithTheirETag() throws Exception {
        HttpResponse<byte[]> webp = get("images/grace_hopper.jpg", "Accept", "image/webp");
        String etag = webp.headers().firstValue("ETag").orElseThrow(() -> new AssertionError("no ETag on " + webp));
        assertThat(etag).as("the variant's ETag names it").contains("--webp");

        HttpResponse<byte[]> again = get("images/grace_hopper.jpg", "Accept", "image/webp", "If-None-Match", etag);
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.headers().firstValue("ETag")).hasValue(etag);
        assertVaryAccept(again);

        HttpResponse<byte[]> avif = get("images/grace_hopper.jpg", "Accept", "image/avif", "If-None-Match", etag);
        assertThat(avif.statusCode()).as("the WebP tag does not validate the AVIF variant").isEqualTo(200);
        assertThat(avif.headers().firstValue("Content-Type")).hasValue("image/avif");
    }

    /** HTML, CSS, JavaScript and JSON come out smaller, for every client; JSON keeps its value. */
    void textIsMinified() throws Exception {
        for (String file : List.of("css/bootstrap.css", "js/jquery.js", "index.html", "data/catalog.json")) {
            HttpResponse<byte[]> response = get(file, "Accept", "*/*");
            assertThat(response.statusCode()).as(file).isEqualTo(200);
            assertThat(response.headers().firstValue("X-KVM-Transform")).as(file).hasValue("applied=minify");
            assertThat(response.body().length).as("%s minified", file).isLessThan(original(file).length);
        }
        JsonNode minified = JSON.readTree(get("data/catalog.json").body());
        assertThat(minified).as("the same JSON value").isEqualTo(JSON.readTree(original("data/catalog.json")));
        String css = new String(get("css/bootstrap.css").body(), StandardCharsets.UTF_8);
        assertThat(css).as("CSS keeps its rules").contains(".btn").doesNotContain("\n  ");
    }

    /** Each filter handles only its URL patterns: a text file outside them is served as it is, without a header. */
    void filesOutsideTheMappingsAreUntouched() throws Exception {
        HttpResponse<byte[]> response = get("SOURCES.txt");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("X-KVM-Transform")).isEmpty();
        assertThat(response.body()).isEqualTo(original("SOURCES.txt"));
    }

    /** The statistics name both filters and the programs they ran. */
    void statisticsNameBothFilters() throws Exception {
        get("images/palette_color.png", "Accept", "image/webp");
        HttpResponse<byte[]> response = get("_kvm/stats");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/json"));
        JsonNode stats = JSON.readTree(response.body());
        assertThat(stats.has("filter:images")).as("filter:images in %s", stats).isTrue();
        assertThat(stats.has("filter:text")).as("filter:text in %s", stats).isTrue();
        JsonNode images = stats.get("filter:images");
        assertThat(images.get("counters").get("applied=webp").asLong()).isPositive();
        assertThat(images.get("sandbox").get("webp").get("invocations").asLong()).isPositive();
    }

    static byte[] original(String file) throws IOException {
        return Files.readAllBytes(WEBAPP.resolve(file));
    }

    private static void assertVaryAccept(HttpResponse<byte[]> response) {
        assertThat(response.headers().allValues("Vary")).as("Vary of %s", response.uri())
                .anySatisfy(vary -> assertThat(vary).containsIgnoringCase("Accept"));
    }

    private static String ascii(byte[] bytes, int from, int to) {
        return to > bytes.length ? "" : new String(bytes, from, to - from, StandardCharsets.ISO_8859_1);
    }
}
