package io.kvmfilter.kvm;

import com.sun.jna.Pointer;
import java.util.List;

/**
 * A {@code struct kvmf_response} read from native memory in one copy, and the fields that need decoding: what a
 * finished run answered (ChainRunner) and the head of a streamed response (StreamSink) are the same struct.
 */
final class ResponseFields {
    private static final int FIELDS = (int) (NativeLayout.RESPONSE_SIZE / 8);

    private final long[] r = new long[FIELDS];

    ResponseFields(long address) {
        new Pointer(address).read(0, r, 0, FIELDS);
    }

    /** The raw 8-byte field at a NativeLayout offset. */
    long at(long offset) {
        return r[(int) (offset / 8)];
    }

    int status() {
        return (int) at(NativeLayout.RESPONSE_STATUS);
    }

    String contentType() {
        return NativeStrings.fromBytes(at(NativeLayout.RESPONSE_CONTENT_TYPE), at(NativeLayout.RESPONSE_CONTENT_TYPE_LEN));
    }

    List<String> headers() {
        return NativeStrings.headerLines(NativeStrings.fromBytes(at(NativeLayout.RESPONSE_HEADERS),
                at(NativeLayout.RESPONSE_HEADERS_LEN)));
    }

    /** What sys_set_cacheable said, or null when the program never called it. */
    CacheHint cacheHint() {
        long cacheable = at(NativeLayout.RESPONSE_CACHEABLE);
        return cacheable < 0 ? null : CacheHint.ofNative(cacheable, at(NativeLayout.RESPONSE_TTL_MS),
                at(NativeLayout.RESPONSE_GRACE_MS), at(NativeLayout.RESPONSE_KEEP_MS));
    }
}
