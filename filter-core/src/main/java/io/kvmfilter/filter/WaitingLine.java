package io.kvmfilter.filter;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The bounded waiting line in front of one variant's programs: at most {@code permits} runs at once (the program's
 * instances), at most {@code maxWaiters} more waiting, each for at most {@code maxWait}.
 *
 * <p>A waiting request is a future in a queue, not a thread: with Servlet async it holds no container thread
 * either. A full line answers at once ({@code busy}); a wait that runs out answers {@code queue-timeout}; queued
 * work whose client has gone is dropped when its turn comes ({@code client-gone}). Runs happen on the executor.
 */
final class WaitingLine {

    /** Reasons a request got no run; none says anything about its input, so none is remembered. */
    static final String BUSY = "busy";
    static final String QUEUE_TIMEOUT = "queue-timeout";
    static final String CLIENT_GONE = "client-gone";

    private final int permits;
    private final int maxWaiters;
    private final long maxWaitNanos;
    private final Executor executor;
    private final ScheduledExecutorService timer;
    private final Deque<Job> queue = new ArrayDeque<>();
    private int running;
    private final LongAdder rejected = new LongAdder();
    private final LongAdder expired = new LongAdder();
    private final LongAdder dropped = new LongAdder();

    private static final class Job {
        final Supplier<TransformResult> work;
        final BooleanSupplier abandoned;
        final CompletableFuture<TransformResult> result = new CompletableFuture<>();

        Job(Supplier<TransformResult> work, BooleanSupplier abandoned) {
            this.work = work;
            this.abandoned = abandoned;
        }
    }

    /**
     * @param executor runs the work
     * @param timer    ends waits that run out (the filter's own thread: nothing of the web application is left
     *                 in a JDK-wide thread)
     */
    WaitingLine(int permits, int maxWaiters, Duration maxWait, Executor executor, ScheduledExecutorService timer) {
        if (permits < 1) {
            throw new IllegalArgumentException("permits " + permits + " is below 1");
        }
        this.permits = permits;
        this.maxWaiters = maxWaiters;
        this.maxWaitNanos = maxWait.toNanos();
        this.executor = executor;
        this.timer = timer;
    }

    /**
     * Runs the work when a permit is free, now or after a wait.
     *
     * @param work      the transform; runs on the executor
     * @param abandoned true once nobody wants the result any more (its client went away)
     * @return the work's result, or a failure named {@link #BUSY}, {@link #QUEUE_TIMEOUT} or {@link #CLIENT_GONE}
     */
    CompletableFuture<TransformResult> submit(Supplier<TransformResult> work, BooleanSupplier abandoned) {
        Job job = new Job(work, abandoned);
        synchronized (this) {
            if (running >= permits) {
                if (queue.size() >= maxWaiters) {
                    rejected.increment();
                    return CompletableFuture.completedFuture(TransformResult.failed(BUSY, "the waiting line is full ("
                            + maxWaiters + " waiting, " + permits + " running)"));
                }
                queue.addLast(job);
                try {
                    timer.schedule(() -> expire(job), maxWaitNanos, TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException e) {
                    queue.remove(job);
                    return CompletableFuture.completedFuture(TransformResult.failed(BUSY, "the filter is stopping"));
                }
                return job.result;
            }
            running++;
        }
        start(job);
        return job.result;
    }

    private void start(Job job) {
        try {
            executor.execute(() -> run(job));
        } catch (RejectedExecutionException e) {
            // The filter is stopping.
            finished(job, TransformResult.failed(BUSY, "the filter is stopping"));
        }
    }

    private void run(Job job) {
        TransformResult result;
        try {
            result = job.work.get();
        } catch (RuntimeException | Error e) {
            result = TransformResult.failed("internal", e.toString());
        }
        finished(job, result);
    }

    /** Hands the permit on (or back) first, then completes: whatever runs on completion does not hold it. */
    private void finished(Job job, TransformResult result) {
        Job next = null;
        synchronized (this) {
            while (!queue.isEmpty()) {
                Job candidate = queue.pollFirst();
                if (candidate.abandoned.getAsBoolean()) {
                    dropped.increment();
                    candidate.result.complete(TransformResult.failed(CLIENT_GONE, "the client went away"));
                    continue;
                }
                next = candidate;
                break;
            }
            if (next == null) {
                running--;
            }
        }
        if (next != null) {
            start(next);
        }
        job.result.complete(result);
    }

    private void expire(Job job) {
        synchronized (this) {
            if (!queue.remove(job)) {
                return; // started meanwhile
            }
        }
        expired.increment();
        job.result.complete(TransformResult.failed(QUEUE_TIMEOUT, "no free instance within "
                + TimeUnit.NANOSECONDS.toMillis(maxWaitNanos) + " ms"));
    }

    synchronized int running() {
        return running;
    }

    synchronized int waiting() {
        return queue.size();
    }

    long rejected() {
        return rejected.sum();
    }

    long expired() {
        return expired.sum();
    }

    long dropped() {
        return dropped.sum();
    }
}
