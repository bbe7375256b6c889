package io.kvmfilter.kvm;

import java.util.Objects;

/**
 * Why a call failed.
 *
 * @param kind what kind of failure
 * @param step the program (chain step) that failed
 * @param message the core's message: what happened, where
 */
public record Failure(FailureKind kind, String step, String message) {
    /** Checks that no component is null. */
    public Failure {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return kind + " in '" + step + "': " + message;
    }
}
