package io.kvmfilter.filter;

import java.time.Duration;

/**
 * How a filter keeps one expensive resource from slowing the rest (see docs/configuration.md, "Overload").
 *
 * @param maxWaiters         {@code maxWaiters}: requests that may wait for a variant's program at once, beyond
 *                           those running; more are answered with the original at once ({@code busy})
 * @param maxWait            {@code maxWait}: how long a request waits for a free instance or for another
 *                           request's run of the same input; then it gets the original
 * @param pauseAfterFailures {@code pauseAfterFailures}: consecutive failures after which a variant is paused; 0 off
 * @param pauseTime          {@code pauseTime}: how long a paused variant serves originals without running
 * @param runWait            {@code runWait}: how long the request that starts a conversion waits for it (with a
 *                           result store); then it gets the original and the conversion goes on in the background,
 *                           its result stored for the next requests. Null: until the programs' own time limits
 */
record OverloadLimits(int maxWaiters, Duration maxWait, int pauseAfterFailures, Duration pauseTime, Duration runWait) {

    /** Default of {@code maxWaiters}. */
    static final int DEFAULT_MAX_WAITERS = 16;
    /** Default of {@code maxWait}: short, so a flood turns into originals instead of held threads. */
    static final Duration DEFAULT_MAX_WAIT = Duration.ofSeconds(1);
    /** Default of {@code pauseAfterFailures}. */
    static final int DEFAULT_PAUSE_AFTER_FAILURES = 5;
    /** Default of {@code pauseTime}. */
    static final Duration DEFAULT_PAUSE_TIME = Duration.ofSeconds(30);

    @Override
    public String toString() {
        return "maxWaiters=" + maxWaiters + ", maxWait=" + maxWait + ", pauseAfterFailures=" + pauseAfterFailures
                + ", pauseTime=" + pauseTime + (runWait == null ? "" : ", runWait=" + runWait);
    }
}
