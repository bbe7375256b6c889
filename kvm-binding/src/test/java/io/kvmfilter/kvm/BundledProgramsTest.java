package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
