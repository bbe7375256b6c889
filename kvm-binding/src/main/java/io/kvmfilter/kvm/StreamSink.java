package io.kvmfilter.kvm;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.util.Optional;

/**
 * The native side of a {@link ResponseStream}: the two callbacks kvmf_instance_stream_to takes. It keeps the
 * callbacks reachable for the run (JNA frees a callback's native thunk once its object is collected), reuses one
 * buffer for the pieces, and keeps what the stream threw, since an exception cannot cross the native frames.
 */
final class StreamSink {
    private static final int MAX_PIECE = 1 << 20; // the core hands out at most 1 MiB per piece

    private final ResponseStream stream;
    private final String program;
    private byte[] buffer = new byte[0];
    private IOException stoppedBy;
    private RuntimeException thrown;

    final KvmNative.StreamBegin begin = this::begin;
    final KvmNative.StreamWrite write = this::write;

    StreamSink(ResponseStream stream, String program) {
        this.stream = stream;
        this.program = program;
    }

    private int begin(long ctx, long head) {
        ResponseFields r = new ResponseFields(head);
        return call(() -> stream.begin(r.status(), r.contentType(), r.at(NativeLayout.RESPONSE_BODY_LEN), r.headers(),
                Optional.ofNullable(r.cacheHint())));
    }

    private int write(long ctx, long data, long len) {
        if (len <= 0 || len > MAX_PIECE) {
            thrown = new IllegalStateException("the core handed a piece of " + len + " bytes to " + program);
            return 1;
        }
        if (buffer.length < len) {
            buffer = new byte[(int) Math.min(MAX_PIECE, Math.max(len, 64 * 1024))];
        }
        new Pointer(data).read(0, buffer, 0, (int) len);
        return call(() -> stream.write(buffer, (int) len));
    }

    private interface StreamCall {
        void run() throws IOException;
    }

    private int call(StreamCall call) {
        try {
            call.run();
            return 0;
        } catch (IOException e) {
            stoppedBy = e;
        } catch (RuntimeException e) {
            thrown = e;
        }
        return 1;
    }

    /** What the stream threw that was not an IOException: the caller's defect, thrown again after the run. */
    RuntimeException thrown() {
        return thrown;
    }

    /** The IOException that stopped the stream, or null. */
    IOException stoppedBy() {
        return stoppedBy;
    }
}
