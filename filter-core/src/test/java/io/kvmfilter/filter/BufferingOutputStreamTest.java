package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BufferingOutputStreamTest {

    /** Buffers everything: the decision the response wrapper makes for a transformable response. */
    private static final BufferingOutputStream.Owner BUFFER = new BufferingOutputStream.Owner() {
        @Override
        public boolean bufferFirstOutput() {
            return true;
        }

        @Override
        public void overflow() {
            throw new AssertionError("no overflow expected");
        }
    };

    @Test
    void aBodyOfTheDeclaredLengthIsHandedOverWithoutAnotherCopy() throws IOException {
        byte[] body = "{\"a\": 1, \"b\": [1, 2, 3]}".getBytes(StandardCharsets.UTF_8);
        BufferingOutputStream stream = new BufferingOutputStream(BUFFER, 1 << 20);
        stream.expect(body.length); // the application's Content-Length
        stream.write(body, 0, 10);
        stream.write(body, 10, body.length - 10);
        byte[] first = stream.toByteArray();
        assertThat(first).isEqualTo(body);
        // A large image is hashed, checked and sent from this array: it must not be copied once more per call.
        assertThat(stream.toByteArray()).isSameAs(first);
    }

    @Test
    void aReleasedArrayServesTheNextBodyOfItsLengthAndNoByteOfItLeaks() throws IOException {
        int length = BodyBuffers.MIN_LENGTH + 12_345; // a length no other test uses
        byte[] first = new byte[length];
        java.util.Arrays.fill(first, (byte) 'a');
        BufferingOutputStream one = new BufferingOutputStream(BUFFER, 1 << 20);
        one.expect(length);
        one.write(first, 0, length);
        byte[] firstBody = one.toByteArray();
        one.release();
        assertThat(one.size()).isZero();

        byte[] second = new byte[length];
        java.util.Arrays.fill(second, (byte) 'b');
        BufferingOutputStream two = new BufferingOutputStream(BUFFER, 1 << 20);
        two.expect(length);
        two.write(second, 0, length);
        assertThat(two.toByteArray()).as("the array given back, overwritten").isSameAs(firstBody)
                .isEqualTo(second);
        two.release();

        // Fewer bytes than declared: the body is copied out, without the rest of the earlier one.
        BufferingOutputStream three = new BufferingOutputStream(BUFFER, 1 << 20);
        three.expect(length);
        three.write(new byte[] {'c', 'c', 'c'}, 0, 3);
        assertThat(three.toByteArray()).isEqualTo(new byte[] {'c', 'c', 'c'});
    }

    @Test
    void aBodyWithoutDeclaredLengthIsTrimmedToItsSize() throws IOException {
        byte[] body = "abc".getBytes(StandardCharsets.US_ASCII);
        BufferingOutputStream stream = new BufferingOutputStream(BUFFER, 1 << 20);
        stream.write(body, 0, body.length);
        assertThat(stream.toByteArray()).isEqualTo(body);
        stream.write('d');
        assertThat(stream.toByteArray()).isEqualTo("abcd".getBytes(StandardCharsets.US_ASCII));
    }
}
