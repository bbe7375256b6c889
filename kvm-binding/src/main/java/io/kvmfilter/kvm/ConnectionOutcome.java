package io.kvmfilter.kvm;

import java.util.Objects;
import java.util.Optional;

/**
 * What one step of a {@link ProgramConnection} did: opening it, one delivery of client bytes, or closing it.
 *
 * @param failure      why the program failed at this step (time, memory, crash...), or why no session could be
 *     opened (no free instance, the program takes no connections); empty when it took the event
 * @param closed       the session has ended (the program closed its connection, it failed, or the client had gone):
 *     close the client connection; the program's instance is already back in its pool
 * @param bytesWritten bytes the program wrote to the connection during this step
 * @param log          what the program printed during this step (bounded by the core)
 * @param runNanos     time this step took in the program and the host's calls for it
 */
public record ConnectionOutcome(Optional<Failure> failure, boolean closed, long bytesWritten, String log,
        long runNanos) {

    /** Checks that no component is null. */
    public ConnectionOutcome {
        Objects.requireNonNull(failure, "failure");
        Objects.requireNonNull(log, "log");
    }

    /** @return true when the program took the event without failing */
    public boolean ok() {
        return failure.isEmpty();
    }

    /** An outcome without a native call: the session could not start, or has already ended. */
    static ConnectionOutcome refused(Failure failure) {
        return new ConnectionOutcome(Optional.of(failure), true, 0, "", 0);
    }
}
