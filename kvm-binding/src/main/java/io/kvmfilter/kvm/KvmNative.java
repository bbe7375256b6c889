package io.kvmfilter.kvm;

import com.sun.jna.Callback;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * The C API of libkvmfilter.so (src-native/include/kvmfilter.h), mirrored one-to-one with JNA direct
 * mapping: {@link Native#register} binds these static natives once, so calls do no per-call reflection.
 *
 * <p>Mapping rules, chosen for speed and so the layout cannot go wrong:
 * pointers (kvmf_program*, kvmf_instance*, struct pointers, returned const char*) are passed as
 * {@code long} addresses; out-pointers ({@code kvmf_program **}) are {@code long[1]}; NUL-terminated input
 * strings are UTF-8 {@code byte[]} with a trailing 0 (see {@link NativeStrings}). Every struct field is
 * 8 bytes wide, so the structs are read and written by offset ({@link NativeLayout}).
 *
 * <p>Call {@link NativeLoader#ensureLoaded()} before any method here.
 */
final class KvmNative {
    private KvmNative() {
    }

    /** The API version this binding was written against (KVMF_API_VERSION). */
    static final int API_VERSION = 1;

    /** KVMF_RUN_WARMUP. */
    static final long RUN_WARMUP = 0x1L;

    static void register(NativeLibrary library) {
        Native.register(KvmNative.class, library);
    }

    static native long kvmf_error_name(int kind);

    static native long kvmf_last_error();

    static native long kvmf_version();

    /** enum kvmf_layout: what kvmf_layout_size measures. */
    static final int LAYOUT_CONFIG = 0;
    static final int LAYOUT_RESPONSE = 1;
    static final int LAYOUT_PROGRAM_STATS = 2;
    static final int LAYOUT_INSTANCE_STATS = 3;
    static final int LAYOUT_ERROR_KINDS = 4;
    static final int LAYOUT_SOCKET_RESULT = 5;

    static native long kvmf_layout_size(int which);

    static native int kvmf_check_kvm();

    static native void kvmf_config_defaults(long config);

    static native int kvmf_program_create(byte[] name, long elf, long elfLen, long config, long[] out);

    static native int kvmf_program_destroy(long program);

    static native long kvmf_program_boot_log(long program);

    static native int kvmf_program_acquire(long program, long timeoutMs, long[] out);

    static native void kvmf_instance_release(long instance);

    static native int kvmf_program_prepare_instances(long program);

    static native int kvmf_program_trim(long program, long idleMs, long trimmedBytes);

    static native int kvmf_program_live_update(long from, long to, long movedBytes);

    static native int kvmf_instance_run(long instance, byte[] method, byte[] url, byte[] arg, byte[] contentType,
            long body, long bodyLen, byte[] headers, long headersLen, long flags, long response);

    /** kvmf_stream_begin_fn: the head of a streamed response (a struct kvmf_response); 0 to go on. */
    interface StreamBegin extends Callback {
        int invoke(long ctx, long head);
    }

    /** kvmf_stream_write_fn: one piece of a streamed body; 0 to go on. */
    interface StreamWrite extends Callback {
        int invoke(long ctx, long data, long len);
    }

    static native int kvmf_instance_stream_to(long instance, StreamBegin begin, StreamWrite write, long ctx);

    /**
     * kvmf_fetch_fn: makes one outbound request of the program (request: a const struct kvmf_fetch_request *,
     * read by {@link NativeLayout}'s FETCH_REQUEST_* offsets; reply: a kvmf_fetch_reply *, filled with the
     * kvmf_fetch_reply_* calls). 0 when the reply holds the answer, or a positive errno the program gets negated.
     */
    interface FetchHandler extends Callback {
        int invoke(long ctx, long request, long reply);
    }

    /**
     * Sets the handler of the next kvmf_instance_run's outbound requests (that run only): its self-requests and the
     * fetches of a program without an egress policy (one with a policy always fetches by libcurl, within it).
     */
    static native int kvmf_instance_fetch_with(long instance, FetchHandler fetch, long ctx);

    /** During a FetchHandler: the answer's status and Content-Type (not NUL-terminated; cut to 127 bytes). */
    static native int kvmf_fetch_reply_status(long reply, long status, byte[] contentType, long contentTypeLen);

    /** During a FetchHandler: one response header line "Name: value", without line end. */
    static native int kvmf_fetch_reply_header(long reply, byte[] line, long len);

    /** During a FetchHandler: more of the body; KVMF_RESPONSE_TOO_LARGE past max_body (stop then). */
    static native int kvmf_fetch_reply_body(long reply, byte[] data, long len);

    /** 1 when the program registered the socket handler (register_func 12) and can be handed connections. */
    static native int kvmf_program_takes_connections(long program);

    /**
     * kvmf_socket_write_fn: bytes the program wrote to its connection (valid during the call); 0 to go on, anything
     * else when the client has gone (the session then ends).
     */
    interface SocketWrite extends Callback {
        int invoke(long ctx, long data, long len);
    }

    /** Starts a connection session on an acquired instance; result is a struct kvmf_socket_result. */
    static native int kvmf_instance_socket_open(long instance, byte[] remote, byte[] arg, SocketWrite write, long ctx,
            long result);

    /** Delivers len bytes at data (native memory) the client sent. */
    static native int kvmf_instance_socket_read(long instance, long data, long len, long result);

    /** Tells the program the client has gone, and ends the session. */
    static native int kvmf_instance_socket_close(long instance, byte[] reason, long result);

    static native int kvmf_program_stats(long program, long out);

    static native int kvmf_instance_stats(long program, long index, long out);
}
