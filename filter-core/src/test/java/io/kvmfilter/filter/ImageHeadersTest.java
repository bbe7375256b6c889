package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Pixel counts read from real files (dimensions as reported by file(1) and ImageMagick's identify). */
class ImageHeadersTest {

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = ImageHeadersTest.class.getClassLoader().getResourceAsStream("corpus/" + name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void jpegPngGifAndWebp() throws IOException {
        assertThat(ImageHeaders.pixels(resource("grace_hopper.jpg"))).hasValue(512L * 600);
        assertThat(ImageHeaders.pixels(resource("palette_color.png"))).hasValue(10L * 10);
        assertThat(ImageHeaders.pixels(resource("no_time_for_that_tiny.gif"))).hasValue(14L * 25 * 24); // 24 frames
        assertThat(ImageHeaders.pixels(resource("palette_color_lossy.webp"))).hasValue(10L * 10);
        assertThat(ImageHeaders.pixels(resource("palette_color_lossless.webp"))).hasValue(10L * 10);
    }

    @Test
    void bombHeadersAreReadWithoutTheImage() {
        assertThat(ImageHeaders.pixels(pngHeader(100_000, 100_000))).hasValue(10_000_000_000L);
        assertThat(ImageHeaders.pixels(webpExtendedHeader(16_384, 16_384))).hasValue(16_384L * 16_384);
    }

    @Test
    void unknownOrTruncatedDataIsUnknown() throws IOException {
        assertThat(ImageHeaders.pixels("hello".getBytes(StandardCharsets.US_ASCII))).isEqualTo(OptionalLong.empty());
        assertThat(ImageHeaders.pixels(Arrays.copyOf(resource("grace_hopper.jpg"), 30))).isEmpty();
        assertThat(ImageHeaders.pixels(Arrays.copyOf(resource("palette_color.png"), 12))).isEmpty();
    }

    /** A PNG signature and IHDR chunk declaring the given size, and nothing else. */
    static byte[] pngHeader(int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(33).order(ByteOrder.BIG_ENDIAN);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        b.putInt(13).put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(width).putInt(height);
        b.put(new byte[] {8, 6, 0, 0, 0}).putInt(0); // bit depth, colour type, ..., CRC (not checked)
        return b.array();
    }

    private static byte[] webpExtendedHeader(int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(22).put("WEBP".getBytes(StandardCharsets.US_ASCII));
        b.put("VP8X".getBytes(StandardCharsets.US_ASCII)).putInt(10).putInt(0);
        b.put((byte) (width - 1)).put((byte) ((width - 1) >> 8)).put((byte) ((width - 1) >> 16));
        b.put((byte) (height - 1)).put((byte) ((height - 1) >> 8)).put((byte) ((height - 1) >> 16));
        return b.array();
    }
}
