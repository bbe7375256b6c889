package io.kvmfilter.kvm;

/**
 * A program library or program setting is invalid. The message names the program (or group), the key,
 * the value given and what is allowed.
 */
public class KvmConfigurationException extends KvmException {
    private static final long serialVersionUID = 1L;

    /** @param message the program, key, value and what is allowed */
    public KvmConfigurationException(String message) {
        super(message);
    }

    /**
     * @param message the program, key, value and what is allowed
     * @param cause the underlying failure
     */
    public KvmConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
