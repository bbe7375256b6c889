package io.kvmfilter.filter;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Pauses a variant whose programs keep failing or timing out, so a broken or overloaded program costs nothing
 * for a while instead of a VM and a wait on every request.
 *
 * <p>Closed (runs allowed) until {@code threshold} failures in a row; then open for {@code pause}: nothing runs
 * and requests get the original ({@code fallback=<variant>:paused}). After the pause one trial run is let
 * through (half-open): its success closes the breaker, its failure opens it for another pause.
 */
final class CircuitBreaker {

    private final int threshold;
    private final long pauseNanos;
    private final LongSupplier clock;
    private int consecutiveFailures;
    private boolean open;
    private boolean trialRunning;
    private long openUntil;
    private long pauses;

    /**
     * @param threshold failures in a row that open the breaker; 0 never opens it
     * @param pause     how long it stays open
     * @param clock     nanoTime, or a test's clock
     */
    CircuitBreaker(int threshold, Duration pause, LongSupplier clock) {
        this.threshold = threshold;
        this.pauseNanos = pause.toNanos();
        this.clock = clock;
    }

    /** May a run start now? After the pause, only one (the trial) until it reports back. */
    synchronized boolean allow() {
        if (!open) {
            return true;
        }
        if (clock.getAsLong() - openUntil < 0 || trialRunning) {
            return false;
        }
        trialRunning = true;
        return true;
    }

    synchronized void succeeded() {
        consecutiveFailures = 0;
        open = false;
        trialRunning = false;
    }

    /** A run failed for a reason of the program's (a timeout, a crash, an error status). */
    synchronized void failed() {
        consecutiveFailures++;
        if (threshold > 0 && (trialRunning || (!open && consecutiveFailures >= threshold))) {
            open = true;
            trialRunning = false;
            openUntil = clock.getAsLong() + pauseNanos;
            pauses++;
        }
    }

    /** A run that was let through ended without telling anything (it was dropped): let the next one try. */
    synchronized void abandoned() {
        trialRunning = false;
    }

    synchronized boolean isOpen() {
        return open;
    }

    /** How many times the breaker opened. */
    synchronized long pauses() {
        return pauses;
    }
}
