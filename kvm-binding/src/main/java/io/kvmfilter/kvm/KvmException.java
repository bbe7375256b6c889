package io.kvmfilter.kvm;

/** Base of every exception the kvm binding throws. Guest failures are never thrown: they come back in a {@link Result}. */
public class KvmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what went wrong, where, and what is allowed */
    public KvmException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong, where, and what is allowed
     * @param cause the underlying failure
     */
    public KvmException(String message, Throwable cause) {
        super(message, cause);
    }
}
