package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The bundled library works with no configuration, on the programs packaged in the jar. */
@ExtendWith(KvmTestEnvironment.class)
class BundledProgramsTest {

    private static void requireBundled(String name) {
        if (BundledProgramsTest.class.getClassLoader().getResource(ProgramLibrary.BUNDLED_PROGRAMS + name) == null) {
            KvmTestEnvironment.skipOrFail("the bundled program " + name + " is not on the class path ("
                    + ProgramLibrary.BUNDLED_PROGRAMS + name + "); build it with make -C src-native programs");
        }
    }

    private static byte[] resource(String path) throws Exception {
        try (InputStream in = BundledProgramsTest.class.getResourceAsStream(path)) {
            return in.readAllBytes();
        }
    }

    @Test
    void webpConvertsAJpeg() throws Exception {
        requireBundled("webp");
        byte[] jpeg = resource("/images/grace_hopper.jpg");
        try (Kvm kvm = Kvm.start(ProgramLibrary.bundled())) {
            Result result = kvm.run("webp", Request.post("/grace_hopper.jpg", "image/jpeg", jpeg));
            assertThat(result.ok()).as(result + " " + result.log()).isTrue();
            assertThat(result.contentType()).isEqualTo("image/webp");
            assertThat(new String(Arrays.copyOfRange(result.body(), 0, 4), StandardCharsets.US_ASCII)).isEqualTo("RIFF");
            assertThat(new String(Arrays.copyOfRange(result.body(), 8, 12), StandardCharsets.US_ASCII)).isEqualTo("WEBP");
        }
    }

    @Test
    void avifConvertsAJpeg() throws Exception {
        requireBundled("avif");
        byte[] jpeg = resource("/images/grace_hopper.jpg");
        try (Kvm kvm = Kvm.start(ProgramLibrary.bundled())) {
            Result result = kvm.run("avif", Request.post("/grace_hopper.jpg", "image/jpeg", jpeg));
            assertThat(result.ok()).as(result + " " + result.log()).isTrue();
            assertThat(result.contentType()).isEqualTo("image/avif");
            assertThat(new String(Arrays.copyOfRange(result.body(), 4, 12), StandardCharsets.US_ASCII)).isEqualTo("ftypavif");
        }
    }

    @Test
    void imageWritesTheFormatItsArgumentNames() throws Exception {
        requireBundled("image");
        byte[] jpeg = resource("/images/grace_hopper.jpg");
        try (Kvm kvm = Kvm.start(ProgramLibrary.bundled())) {
            Result png = kvm.run("image", Request.post("/g.jpg", "image/jpeg", jpeg)
                    .withArg("{\"format\": \"png\", \"width\": 64}"));
            assertThat(png.ok()).as(png + " " + png.log()).isTrue();
            assertThat(png.contentType()).isEqualTo("image/png");
            assertThat(Arrays.copyOfRange(png.body(), 1, 4)).isEqualTo("PNG".getBytes(StandardCharsets.US_ASCII));
            // IHDR width, big-endian at byte 16.
            assertThat(java.nio.ByteBuffer.wrap(png.body(), 16, 4).getInt()).isEqualTo(64);
            Result bad = kvm.run("image", Request.post("/g.jpg", "image/jpeg", jpeg).withArg("{\"format\": \"bmp\"}"));
            assertThat(bad.ok()).isFalse();
            assertThat(bad.status()).isEqualTo(400);
        }
    }

    @Test
    void everyBundledProgramWarmsUpWithARealInputBeforeItsFirstRequest() throws Exception {
        for (String name : new String[] {"webp", "avif", "image", "minify"}) {
            requireBundled(name);
        }
        try (Kvm kvm = Kvm.start(ProgramLibrary.bundled())) {
            for (String name : new String[] {"webp", "avif", "image", "minify"}) {
                ProgramDefinition definition = ProgramLibrary.bundled().program(name);
                assertThat(definition.warmupBody()).as(name).isPresent();
                // A GET answers 400 for all four: the first real request loads and warms the program up.
                kvm.run(name, Request.get("/first"));
                KvmStats.Program stats = kvm.stats().program(name);
                // Three POSTs of the warm-up file per instance, each answered 200 (else the load fails), counted
                // apart from the one request.
                assertThat(stats.warmups()).as(name).isEqualTo(3L * definition.concurrency());
                assertThat(stats.invocations()).as(name).isEqualTo(1);
            }
        }
    }

    @Test
    void aWarmupBodyTheProgramRefusesFailsTheLoadWithTheReason(@TempDir Path dir) throws Exception {
        requireBundled("webp");
        Path text = Files.writeString(dir.resolve("not-an-image.txt"), "hello");
        ProgramLibrary library = ProgramLibrary.bundled().configure("webp",
                Map.of("warmup_body", text.toString(), "warmup_content_type", "text/plain"));
        try (Kvm kvm = Kvm.start(library)) {
            Result result = kvm.run("webp", Request.post("/a.jpg", "image/jpeg", resource("/images/grace_hopper.jpg")));
            assertThat(result.failure()).as(result.toString()).isPresent();
            assertThat(result.failure().get().message()).contains("warm-up request 1", "not-an-image.txt",
                    "was answered with status 415", "give a warmup_body and warmup_content_type the program accepts");
        }
    }

    @Test
    void minifyShrinksJavaScript() throws Exception {
        requireBundled("minify");
        byte[] js = "function add ( a , b ) {\n    // sum\n    return a + b ;\n}\n".getBytes(StandardCharsets.UTF_8);
        try (Kvm kvm = Kvm.start(ProgramLibrary.bundled())) {
            Result result = kvm.run("minify", Request.post("/app.js", "application/javascript", js));
            assertThat(result.ok()).as(result + " " + result.log()).isTrue();
            assertThat(result.body().length).isLessThan(js.length);
        }
    }
}
