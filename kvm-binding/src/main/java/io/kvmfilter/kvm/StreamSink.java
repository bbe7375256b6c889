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
    private static final int RESPONSE_FIELDS = (int) (NativeLayout.RESPONSE_SIZE / 8);
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
        long[] r = new long[RESPONSE_FIELDS];
        new Pointer(head).read(0, r, 0, RESPONSE_FIELDS);
        long cacheable = r[(int) (NativeLayout.RESPONSE_CACHEABLE / 8)];
        CacheHint hint = cacheable < 0 ? null : CacheHint.ofNative(cacheable,
                r[(int) (NativeLayout.RESPONSE_TTL_MS / 8)], r[(int) (NativeLayout.RESPONSE_GRACE_MS / 8)],
                r[(int) (NativeLayout.RESPONSE_KEEP_MS / 8)]);
        String contentType = NativeStrings.fromBytes(r[(int) (NativeLayout.RESPONSE_CONTENT_TYPE / 8)],
                r[(int) (NativeLayout.RESPONSE_CONTENT_TYPE_LEN / 8)]);
        String headers = NativeStrings.fromBytes(r[(int) (NativeLayout.RESPONSE_HEADERS / 8)],
                r[(int) (NativeLayout.RESPONSE_HEADERS_LEN / 8)]);
        return call(() -> stream.begin((int) r[(int) (NativeLayout.RESPONSE_STATUS / 8)], contentType,
                r[(int) (NativeLayout.RESPONSE_BODY_LEN / 8)], NativeStrings.headerLines(headers),
                Optional.ofNullable(hint)));
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
