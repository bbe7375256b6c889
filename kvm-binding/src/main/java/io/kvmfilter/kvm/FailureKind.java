package io.kvmfilter.kvm;

/**
 * Why a call did not produce a usable answer. The first thirteen mirror {@code enum kvmf_error} of
 * kvmfilter.h in the same order (ordinal + 1 is the native code); {@link #ERROR_STATUS} is added by the
 * binding for a step whose status reached its error threshold.
 */
public enum FailureKind {
    /** The request (or boot) ran past its time limit. */
    TIMEOUT,
    /** Guest memory or the per-request memory limit was exhausted. */
    OUT_OF_MEMORY,
    /** Page fault: bad address or forbidden access. */
    MEMORY_FAULT,
    /** Another CPU exception or a forbidden instruction. */
    CPU_EXCEPTION,
    /** An API call or syscall with an invalid pointer, length or argument. */
    BAD_API_CALL,
    /** The handler returned, or no handler exists, without a response. */
    NO_RESPONSE,
    /** The program called exit during a request. */
    PROGRAM_EXIT,
    /** The program did not reach wait_for_requests(), or its file could not be read. */
    BOOT_FAILED,
    /** The response body exceeded the program's max_response_size. */
    RESPONSE_TOO_LARGE,
    /** No instance became free within queue_timeout, or the wait queue was full. */
    QUEUE_TIMEOUT,
    /** The caller passed an invalid argument (unknown program, bad request). */
    INVALID_ARGUMENT,
    /** KVM is not usable, or the Kvm was closed. */
    UNAVAILABLE,
    /** An unexpected host-side failure. */
    INTERNAL,
    /** A step answered with a status at or above its error threshold. */
    ERROR_STATUS;

    private static final FailureKind[] VALUES = values();

    /** Native kvmf_error code → kind; unknown codes map to {@link #INTERNAL}. */
    static FailureKind fromNative(long code) {
        if (code >= 1 && code <= NATIVE_KIND_COUNT) {
            return VALUES[(int) code - 1];
        }
        return INTERNAL;
    }

    /** Kinds 1..KVMF_ERROR_KIND_COUNT-1 come from the core (KVMF_ERROR_KIND_COUNT counts KVMF_OK too). */
    static final int NATIVE_KIND_COUNT = NativeLayout.ERROR_KIND_COUNT - 1;
}
