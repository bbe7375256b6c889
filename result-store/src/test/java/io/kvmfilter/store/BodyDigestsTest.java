package io.kvmfilter.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BodyDigestsTest {

    private static final byte[] ORIGINAL = "the first version of the file".getBytes(StandardCharsets.UTF_8);
    /** Same length as ORIGINAL, different bytes: a file rewritten in place. */
    private static final byte[] CHANGED = "the other version of the file".getBytes(StandardCharsets.UTF_8);

    @Test
    void withoutValidatorEveryBodyIsHashed() {
        BodyDigests digests = new BodyDigests(100);
        assertThat(digests.digest("/a", null, ORIGINAL)).isEqualTo(Digests.sha256Hex(ORIGINAL));
        assertThat(digests.digest("/a", null, CHANGED)).isEqualTo(Digests.sha256Hex(CHANGED));
        assertThat(digests.hashed()).isEqualTo(2);
    }

    @Test
    void aStrongEtagSparesHashingTheSameBodyAgain() {
        BodyDigests digests = new BodyDigests(100);
        BodyDigests.Validator etag = BodyDigests.Validator.of("\"v1\"", null, ORIGINAL.length);
        assertThat(etag.strong()).isTrue();
        String first = digests.digest("/a", etag, ORIGINAL);
        assertThat(digests.digest("/a", etag, ORIGINAL)).isEqualTo(first);
        assertThat(digests.hashed()).isEqualTo(1);
        assertThat(digests.trusted()).isEqualTo(1);
        // Another resource with the same tag is another body.
        assertThat(digests.digest("/b", etag, CHANGED)).isEqualTo(Digests.sha256Hex(CHANGED));
    }

    @Test
    void aFileRewrittenInPlaceWithTheSameSizeAndSecondGetsItsNewDigest() {
        BodyDigests digests = new BodyDigests(100);
        String lastModified = "Wed, 02 Dec 2026 07:00:00 GMT";
        BodyDigests.Validator validator = BodyDigests.Validator.of(null, lastModified, ORIGINAL.length);
        assertThat(validator.strong()).isFalse();
        assertThat(digests.digest("/a", validator, ORIGINAL)).isEqualTo(Digests.sha256Hex(ORIGINAL));
        assertThat(digests.digest("/a", validator, ORIGINAL)).isEqualTo(Digests.sha256Hex(ORIGINAL));
        assertThat(digests.checked()).isEqualTo(1);
        assertThat(digests.digest("/a", validator, CHANGED)).isEqualTo(Digests.sha256Hex(CHANGED));
        // A weak ETag derived from size and time is treated the same way.
        BodyDigests.Validator weak = BodyDigests.Validator.of("W/\"29-1764658800000\"", lastModified, 29);
        assertThat(digests.digest("/w", weak, ORIGINAL)).isEqualTo(Digests.sha256Hex(ORIGINAL));
        assertThat(digests.digest("/w", weak, CHANGED)).isEqualTo(Digests.sha256Hex(CHANGED));
    }

    @Test
    void aBodyOfAnotherLengthIsNeverGivenTheRememberedDigest() {
        BodyDigests digests = new BodyDigests(100);
        BodyDigests.Validator etag = BodyDigests.Validator.of("\"v1\"", null, ORIGINAL.length);
        digests.digest("/a", etag, ORIGINAL);
        byte[] longer = "the first version of the file, longer".getBytes(StandardCharsets.UTF_8);
        assertThat(digests.digest("/a", etag, longer)).isEqualTo(Digests.sha256Hex(longer));
    }
}
