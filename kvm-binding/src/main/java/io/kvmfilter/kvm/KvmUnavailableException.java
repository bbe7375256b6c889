package io.kvmfilter.kvm;

/**
 * The sandbox cannot run here: the native library is missing or KVM is not usable. The message says
 * what was looked for, where, and how to fix it. A servlet filter turns this into pass-through.
 */
public class KvmUnavailableException extends KvmException {
    private static final long serialVersionUID = 1L;

    /** @param message what is missing and how to fix it */
    public KvmUnavailableException(String message) {
        super(message);
    }

    /**
     * @param message what is missing and how to fix it
     * @param cause the underlying failure
     */
    public KvmUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
