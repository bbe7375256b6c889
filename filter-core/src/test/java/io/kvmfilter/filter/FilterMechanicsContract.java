package io.kvmfilter.filter;

import static io.kvmfilter.filter.TestServlets.LARGE;
import static io.kvmfilter.filter.TestServlets.TEXT;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The servlet mechanics of the filter (servlet-filter-notes.md), checked over HTTP on a real container. Each
 * subclass runs every test on one container. The transform is {@link UppercaseTransform}: "upper" for text,
 * "avif"/"webp" for images.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class FilterMechanicsContract {

    static final String UPPER = TEXT.toUpperCase().replace(" ", "");
    static final String HEADER = "X-KVM-Transform";
    static final byte[] PHOTO = new byte[3000];

    private ServletContainer container;
    private Path staticDir;
    private KvmFilter filter;
    final UppercaseTransform transform = new UppercaseTransform();

    abstract ServletContainer newContainer();

    @BeforeAll
    void startContainer() throws Exception {
        staticDir = Files.createTempDirectory("kvmfilter-static");
        Files.createDirectories(staticDir.resolve("static"));
        for (int i = 0; i < PHOTO.length; i++) {
            PHOTO[i] = (byte) i;
        }
        Files.write(staticDir.resolve("static/photo.png"), PHOTO);
        Files.writeString(staticDir.resolve("static/notes.txt"), TEXT, StandardCharsets.ISO_8859_1);
        Files.write(staticDir.resolve("static/video.mp4"), new byte[5000]);
        KvmFilterConfig config = KvmFilterConfig.builder()
                .rules("text/plain -> upper\nimage/png -> image/avif: avif, image/webp: webp")
                .minBodySize(4)
                .maxBodySize(4096)
                .cacheSize(0) // every request runs the transform: these tests count its calls
                .build();
        filter = new KvmFilter(config, transform);
        Deployment deployment = new Deployment().staticFiles(staticDir);
        deployment.filter("kvm", filter, "/*", Map.of());
        TestServlets.deploy(deployment);
        container = newContainer();
        container.start(deployment);
    }

    @AfterAll
    void stopContainer() throws Exception {
        container.close();
        try (var paths = Files.walk(staticDir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    String containerVersion() {
        return container.version();
    }

    RequestSpecification http() {
        return given().baseUri("http://127.0.0.1").port(container.port()).redirects().follow(false);
    }

    private static void assertTransformedText(Response response) {
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.asString()).isEqualTo(UPPER);
        assertThat(response.header("Content-Length")).isEqualTo(String.valueOf(UPPER.length()));
        assertThat(response.header(HEADER)).isEqualTo("applied=upper");
    }

    // 1. Content-Length from the application is swallowed and set from the transformed body.

    @Test
    void contentLengthSetBeforeTypeIsReplacedByTheTransformedLength() {
        assertTransformedText(http().get("/length-before-type"));
    }

    @Test
    void contentLengthSetAfterTypeIsReplacedByTheTransformedLength() {
        assertTransformedText(http().get("/type-before-length"));
    }

    @Test
    void contentLengthSetAsHeaderIsReplacedByTheTransformedLength() {
        assertTransformedText(http().get("/length-header"));
    }

    // 2. The emulated writer is flushed before the buffer is read.

    @Test
    void unflushedWriterOutputIsTransformed() {
        assertTransformedText(http().get("/writer-no-flush"));
    }

    // 3. getWriter() charset.

    @Test
    void writerUsesIso88591UnlessSetAndContentTypeCarriesIt() {
        Response response = http().get("/charset");
        assertThat(response.contentType()).isEqualToIgnoringCase("text/plain;charset=ISO-8859-1");
        assertThat(new String(response.asByteArray(), StandardCharsets.ISO_8859_1)).isEqualTo("GRÜNEÄPFEL");
    }

    @Test
    void writerUsesTheCharsetSetByTheApplication() {
        Response response = http().get("/charset?cs=UTF-8");
        assertThat(response.contentType()).isEqualToIgnoringCase("text/plain;charset=UTF-8");
        assertThat(new String(response.asByteArray(), StandardCharsets.UTF_8)).isEqualTo("GRÜNEÄPFEL");
        assertThat(response.header(HEADER)).isEqualTo("applied=upper");
    }

    @Test
    void writerAfterStreamIsIllegal() {
        assertThat(http().get("/stream-then-writer").asString()).isEqualTo("ILLEGALSTATE");
    }

    @Test
    void streamAfterWriterIsIllegal() {
        assertThat(http().get("/writer-then-stream").asString()).isEqualTo("ILLEGALSTATE");
    }

    // 4. flushBuffer() and flush() do not commit while buffering.

    @Test
    void flushBufferDoesNotCommit() {
        Response response = http().get("/writer-flush");
        assertTransformedText(response);
        assertThat(response.header("X-Committed-After-Flush")).isEqualTo("false");
    }

    @Test
    void streamFlushDoesNotCommit() {
        Response response = http().get("/stream-flush");
        assertTransformedText(response);
        assertThat(response.header("X-Committed-After-Flush")).isEqualTo("false");
    }

    // 5. reset() and resetBuffer() clear the filter's buffer.

    @Test
    void resetClearsTheBufferAndTheHeaders() {
        Response response = http().get("/reset");
        assertTransformedText(response);
        assertThat(response.header("X-Before-Reset")).isNull();
        assertThat(response.contentType()).startsWith("text/plain");
    }

    @Test
    void resetBufferClearsTheBuffer() {
        assertTransformedText(http().get("/reset-buffer"));
    }

    // 6. sendError and sendRedirect drop the buffer and pass through.

    @Test
    void sendErrorDropsTheBuffer() {
        Response response = http().get("/send-error");
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.asString()).doesNotContain("partial body");
        assertThat(response.header(HEADER)).isNull();
    }

    @Test
    void sendRedirectDropsTheBuffer() {
        Response response = http().get("/redirect");
        assertThat(response.statusCode()).isEqualTo(302);
        assertThat(response.header("Location")).endsWith("/type-before-length");
        assertThat(response.asString()).doesNotContain("partial body");
    }

    @Test
    void servlet61RedirectBypassingTheWrapperStillDropsTheBuffer() {
        Response response = http().get("/redirect-61");
        assertThat(response.statusCode()).isIn(302, 303);
        assertThat(response.header("Location")).endsWith("/type-before-length");
        assertThat(response.asString()).doesNotContain("partial body");
    }

    @Test
    void applicationExceptionGivesTheContainerErrorWithoutOurBody() {
        Response response = http().get("/throws");
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.asString()).doesNotContain("partial body");
    }

    // 8. Async: startAsync() writes through the wrapper; the transform runs before complete().

    @Test
    void asyncWritesAreTransformedBeforeComplete() {
        assertTransformedText(http().get("/async"));
    }

    @Test
    void asyncStartedWithTheGivenRequestAndResponseIsTransformed() {
        assertTransformedText(http().get("/async-response-arg"));
    }

    @Test
    void asyncDispatchIsTransformedOnce() {
        int before = transform.calls.get();
        assertTransformedText(http().get("/async-dispatch"));
        assertThat(transform.calls.get() - before).isEqualTo(1);
    }

    // 9. Non-blocking output.

    @Test
    void writeListenerIsCalledAndItsOutputTransformed() {
        assertTransformedText(http().get("/non-blocking"));
    }

    // 10. HEAD as GET.

    @Test
    void headHasTheHeadersOfTheTransformedGet() {
        Response get = http().get("/type-before-length");
        Response head = http().head("/type-before-length");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.asByteArray()).isEmpty();
        assertThat(head.header("Content-Length")).isEqualTo(get.header("Content-Length"))
                .isEqualTo(String.valueOf(UPPER.length()));
        assertThat(head.contentType()).isEqualTo(get.contentType());
        assertThat(head.header(HEADER)).isEqualTo("applied=upper");
    }

    @Test
    void headOfANegotiatedImageHasTheVariantHeaders() {
        Response get = http().header("Accept", "image/webp").get("/static/photo.png");
        Response head = http().header("Accept", "image/webp").head("/static/photo.png");
        assertThat(head.contentType()).isEqualTo("image/webp").isEqualTo(get.contentType());
        assertThat(head.header("Content-Length")).isEqualTo(get.header("Content-Length"));
        assertThat(head.header("ETag")).isEqualTo(get.header("ETag")).endsWith("--webp\"");
        assertThat(head.header("Vary")).isEqualTo("Accept");
    }

    @Test
    void headOfAResourceNoRuleCoversIsLeftToTheApplication() {
        Response head = http().head("/static/video.mp4");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.header("Content-Length")).isEqualTo("5000");
        assertThat(head.header(HEADER)).isNull();
    }

    // 11. Range: never transform a 206; the whole body is transformed and Accept-Ranges: none.

    @Test
    void rangeOfATransformableResourceGivesTheWholeTransformedBody() {
        Response response = http().header("Range", "bytes=0-3").get("/static/notes.txt");
        assertTransformedText(response);
        assertThat(response.header("Accept-Ranges")).isEqualTo("none");
    }

    @Test
    void rangeOfAResourceNoRuleCoversStillWorks() {
        Response response = http().header("Range", "bytes=0-3").get("/static/video.mp4");
        assertThat(response.statusCode()).isEqualTo(206);
        assertThat(response.asByteArray()).hasSize(4);
        assertThat(response.header(HEADER)).isNull();
    }

    // 12. Already encoded bodies pass through untouched.

    @Test
    void encodedBodyPassesThroughUntouched() {
        Response response = http().get("/gzipped");
        assertThat(response.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(response.asString()).isEqualTo(TEXT); // REST Assured decompresses
        assertThat(response.header(HEADER)).isEqualTo("skipped=encoded");
    }

    // 13. ETag and Vary per negotiated variant; 304s keep them.

    @Test
    void acceptChoosesAvifThenWebpThenTheOriginal() {
        Response avif = http().header("Accept", "image/avif,image/webp,image/*,*/*;q=0.8").get("/image");
        assertThat(avif.contentType()).isEqualTo("image/avif");
        assertThat(avif.asString()).isEqualTo("avif from 2048 bytes");
        assertThat(avif.header("ETag")).isEqualTo("\"img1--avif\"");
        assertThat(avif.header("Vary")).isEqualTo("Accept");
        assertThat(avif.header("Accept-Ranges")).isEqualTo("none");
        assertThat(avif.header(HEADER)).isEqualTo("applied=avif");

        Response webp = http().header("Accept", "image/webp,*/*").get("/image");
        assertThat(webp.contentType()).isEqualTo("image/webp");
        assertThat(webp.header("ETag")).isEqualTo("\"img1--webp\"");

        Response original = http().header("Accept", "*/*").get("/image");
        assertThat(original.contentType()).isEqualTo("image/png");
        assertThat(original.asByteArray()).hasSize(2048);
        assertThat(original.header("ETag")).isEqualTo("\"img1\"");
        assertThat(original.header("Vary")).isEqualTo("Accept");
        assertThat(original.header(HEADER)).isEqualTo("skipped=not-accepted");
    }

    @Test
    void qualityZeroExcludesAVariant() {
        Response response = http().header("Accept", "image/avif;q=0, image/webp, image/png").get("/image");
        assertThat(response.contentType()).isEqualTo("image/webp");
        Response higher = http().header("Accept", "image/avif;q=0.4, image/webp;q=0.9, image/png;q=0.5").get("/image");
        assertThat(higher.contentType()).isEqualTo("image/webp");
    }

    @Test
    void noAcceptHeaderServesTheOriginalWithVary() {
        Response response = http().noFilters().get("/image");
        assertThat(response.contentType()).isEqualTo("image/png");
        assertThat(response.header("Vary")).isEqualTo("Accept");
    }

    @Test
    void fallbackOfANegotiatedVariantKeepsVaryAndTheOriginal() {
        Response response = http().header("Accept", "image/avif").get("/image-fail");
        assertThat(response.contentType()).isEqualTo("image/png");
        assertThat(response.asString()).contains("FAIL-crash");
        assertThat(response.header("ETag")).isEqualTo("\"img2\"");
        assertThat(response.header("Vary")).isEqualTo("Accept");
        assertThat(response.header(HEADER)).isEqualTo("fallback=avif:crash");
    }

    @Test
    void aProgramCannotChooseTheContentTypeTheClientIsTold() {
        Response response = http().header("Accept", "image/webp").get("/image-wrong-type");
        assertThat(response.header(HEADER)).isEqualTo("fallback=webp:wrong-type");
        assertThat(response.contentType()).isEqualTo("image/png");
        assertThat(response.asString()).isEqualTo("png bytes a program answers WRONGTYPE to");
    }

    @Test
    void transformedResponsesForbidContentSniffing() {
        assertThat(http().header("Accept", "image/webp").get("/image").header("X-Content-Type-Options"))
                .isEqualTo("nosniff");
        assertThat(http().header("Accept", "image/png").get("/image").header("X-Content-Type-Options"))
                .as("the original, as the application sent it").isNull();
    }

    @Test
    void conditionalGetOfAStaticVariantAnswers304WithVaryAndTheVariantETag() {
        Response first = http().header("Accept", "image/webp").get("/static/photo.png");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.contentType()).isEqualTo("image/webp");
        String etag = first.header("ETag");
        assertThat(etag).endsWith("--webp\"");

        Response again = http().header("Accept", "image/webp").header("If-None-Match", etag)
                .get("/static/photo.png");
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.header("ETag")).isEqualTo(etag);
        assertThat(again.header("Vary")).isEqualTo("Accept");
        assertThat(again.asByteArray()).isEmpty();

        // The same tag from a client that would now get the original does not match it.
        Response other = http().header("Accept", "*/*").header("If-None-Match", etag).get("/static/photo.png");
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(other.asByteArray()).isEqualTo(PHOTO);
        assertThat(other.header("Vary")).isEqualTo("Accept");
    }

    @Test
    void theOriginalsTagDoesNotValidateAVariant() {
        String original = http().header("Accept", "*/*").get("/static/photo.png").header("ETag");
        Response webp = http().header("Accept", "image/webp").header("If-None-Match", original)
                .get("/static/photo.png");
        assertThat(webp.statusCode()).isEqualTo(200);
        assertThat(webp.contentType()).isEqualTo("image/webp");
    }

    @Test
    void notModifiedSinceAnswersWithTheVariantsTag() {
        Response first = http().header("Accept", "image/webp").get("/static/photo.png");
        String lastModified = first.header("Last-Modified");
        assertThat(lastModified).isNotNull();
        Response again = http().header("Accept", "image/webp").header("If-Modified-Since", lastModified)
                .get("/static/photo.png");
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(first.header("ETag")).endsWith("--webp\"");
        // Tomcat's DefaultServlet puts its ETag on this 304 (the filter suffixes it); Jetty's sends none.
        assertThat(again.header("ETag")).isIn(first.header("ETag"), null);
        assertThat(again.header("Vary")).isEqualTo("Accept");
    }

    @Test
    void conditionalGetOfAnUnchangedOriginalAnswers304WithVary() {
        Response first = http().header("Accept", "*/*").get("/static/photo.png");
        String etag = first.header("ETag");
        assertThat(etag).doesNotContain("--");
        Response again = http().header("Accept", "*/*").header("If-None-Match", etag).get("/static/photo.png");
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.header("ETag")).isEqualTo(etag);
        assertThat(again.header("Vary")).isEqualTo("Accept");
    }

    @Test
    void transformedTextGetsAWeakSuffixedETagAndTheApplicationAnswers304ToIt() {
        Response first = http().get("/etag-text");
        assertThat(first.header("ETag")).isEqualTo("W/\"t1--upper\"");
        Response again = http().header("If-None-Match", "W/\"t1--upper\"").get("/etag-text");
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.header("ETag")).isEqualTo("W/\"t1--upper\"");
    }

    // 14. Memory bound: beyond maxBodySize the original streams through with its Content-Length.

    @Test
    void bodyLargerThanTheBoundStreamsThroughWithTheApplicationsLength() {
        Response response = http().get("/large");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.header("Content-Length")).isEqualTo(String.valueOf(LARGE));
        assertThat(response.asByteArray()).hasSize(LARGE);
        assertThat(response.asString()).startsWith("abcdefghij");
        assertThat(response.header(HEADER)).isEqualTo("skipped=too-large");
    }

    @Test
    void bodyGrowingBeyondTheBoundStreamsThroughUntransformed() {
        Response response = http().get("/large-declared-late");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.asByteArray()).hasSize(LARGE);
        assertThat(response.asString()).startsWith("abcdefghij").endsWith("abcdefghij");
        assertThat(response.header(HEADER)).isEqualTo("skipped=too-large");
    }

    @Test
    void bodySmallerThanTheMinimumIsServedAsIs() {
        Response response = http().get("/tiny");
        assertThat(response.asString()).isEqualTo("hi");
        assertThat(response.header("Content-Length")).isEqualTo("2");
        assertThat(response.header(HEADER)).isEqualTo("skipped=too-small");
    }

    // 15. Image bombs: the header's pixel count is checked before any program sees the image.

    @Test
    void imageDeclaringTooManyPixelsIsServedUntransformed() {
        int before = transform.calls.get();
        Response response = http().header("Accept", "image/webp").get("/image-bomb");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.contentType()).isEqualTo("image/png");
        assertThat(response.asByteArray()).hasSize(4096);
        assertThat(response.header(HEADER)).isEqualTo("skipped=too-many-pixels");
        assertThat(response.header("Vary")).isEqualTo("Accept");
        assertThat(transform.calls.get()).isEqualTo(before);
    }

    // Statuses, types and fallbacks.

    @Test
    void statusOtherThan200IsNotTransformed() {
        Response response = http().get("/status-404");
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.asString()).isEqualTo(TEXT);
    }

    @Test
    void noContentGetsNoContentLength() {
        Response response = http().get("/no-content");
        assertThat(response.statusCode()).isEqualTo(204);
        assertThat(response.header("Content-Length")).isNull();
        assertThat(response.header(HEADER)).isEqualTo("skipped=status");
    }

    @Test
    void redirectWrittenByHandKeepsItsBody() {
        Response response = http().get("/manual-redirect");
        assertThat(response.statusCode()).isEqualTo(302);
        assertThat(response.asString()).isEqualTo("moved to /type-before-length");
    }

    @Test
    void postIsNotTransformed() {
        Response response = http().post("/type-before-length");
        assertThat(response.asString()).isEqualTo(TEXT);
        assertThat(response.header(HEADER)).isNull();
    }

    @Test
    void responseWithoutContentTypeIsServedAsIs() {
        Response response = http().get("/no-type");
        assertThat(response.asString()).isEqualTo(TEXT);
        assertThat(response.header(HEADER)).isNull();
    }

    @Test
    void contentTypeSetAfterTheBodyStillCounts() {
        assertTransformedText(http().get("/type-after-body"));
    }

    @Test
    void programFailureServesTheOriginalBodyAndHeaders() {
        Response response = http().get("/fail?reason=timeout");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.asString()).isEqualTo("this body says FAIL-timeout");
        assertThat(response.header("Content-Length")).isEqualTo(String.valueOf(response.asByteArray().length));
        assertThat(response.header("ETag")).isEqualTo("\"v1\"");
        assertThat(response.header(HEADER)).isEqualTo("fallback=upper:timeout");
        assertThat(filter.counters()).containsKey("fallback=upper:timeout");
    }

    @Test
    void exceptionInTheTransformFallsBackToTheOriginal() {
        Response response = http().get("/transform-throws");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.asString()).isEqualTo("a body that makes the transform THROW");
        assertThat(response.header(HEADER)).isEqualTo("fallback=upper:internal");
    }

    @Test
    void largerOutputFallsBackToTheOriginal() {
        Response response = http().get("/grow");
        assertThat(response.asString()).isEqualTo("this body would GROW when transformed");
        assertThat(response.header(HEADER)).isEqualTo("fallback=upper:larger");
    }

    @Test
    void responsesServedUntransformedAreCountedToo() {
        Map<String, Long> before = filter.counters();
        http().get("/large"); // streamed from the first byte: its Content-Length is over maxBodySize
        http().get("/large-declared-late"); // streamed once it outgrew the buffer
        http().get("/status-404"); // streamed from the first byte: the status is not transformed
        http().get("/static/video.mp4"); // streamed from the first byte: no rule covers video/mp4
        http().get("/no-type"); // buffered, then served as it was: without a type no rule covers it
        Map<String, Long> after = filter.counters();
        assertThat(counted(before, after, "skipped=too-large")).isEqualTo(2);
        assertThat(counted(before, after, "skipped=status")).isEqualTo(1);
        assertThat(counted(before, after, "passed=no-rule")).isEqualTo(1);
        assertThat(counted(before, after, "passed=no-type")).isEqualTo(1);
    }

    private static long counted(Map<String, Long> before, Map<String, Long> after, String outcome) {
        return after.getOrDefault(outcome, 0L) - before.getOrDefault(outcome, 0L);
    }

    @Test
    void countersCountAppliedVariants() {
        long before = filter.counters().getOrDefault("applied=upper", 0L);
        http().get("/type-before-length");
        assertThat(filter.counters().get("applied=upper")).isEqualTo(before + 1);
    }
}
