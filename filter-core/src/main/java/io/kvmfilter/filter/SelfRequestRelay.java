package io.kvmfilter.filter;

import io.kvmfilter.kvm.SelfRequests;
import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Self-requests of a filter's programs, carried to the request's own thread. The filter runs programs on its run
 * threads, but a forward through the web application must happen on the thread the container gave the request:
 * so a program's self-request waits in a queue here, and the request's thread, while it waits for the result
 * ({@link #serveUntil}), takes each one and answers it with the {@link SelfRequestDispatcher}. Once the request no
 * longer waits (its result came, or runWait let it go with the original), further self-requests are refused.
 */
final class SelfRequestRelay implements SelfRequests {
    private static final int EINTR = 4;

    /** One self-request and where its answer goes; END (no call) wakes the waiting thread. */
    private record Job(Call call, CompletableFuture<Answer> answer) {
    }

    private static final Job END = new Job(null, null);

    private final SelfRequests dispatcher;
    private final BlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
    private volatile boolean closed;

    /** @param dispatcher answers a self-request; called on the request's thread only */
    SelfRequestRelay(SelfRequests dispatcher) {
        this.dispatcher = dispatcher;
    }

    /** On a run thread: waits (within the request's time) for the request's thread to answer. */
    @Override
    public Answer request(Call call) throws IOException {
        Job job = new Job(call, new CompletableFuture<>());
        jobs.add(job);
        if (closed && jobs.remove(job)) {
            throw refusedLate();
        }
        try {
            return job.answer().get(Math.max(1, call.timeLeft().toMillis()), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new Refusal(Refusal.ETIMEDOUT, "self-request " + call.path() + " was not answered within the "
                    + "request's time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Refusal(EINTR, "interrupted");
        }
    }

    /** On the request's thread: answers self-requests until done completes; refuses any later ones. */
    void serveUntil(Future<?> done) {
        closed = false; // a request may try more than one variant, each with its own wait
        if (done instanceof CompletableFuture<?> future) {
            future.whenComplete((result, error) -> jobs.add(END));
        }
        try {
            while (!done.isDone()) {
                Job job = jobs.poll(100, TimeUnit.MILLISECONDS); // END wakes it at once; the timeout is a backstop
                if (job != null && job != END) {
                    answer(job);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closed = true;
            for (Job job; (job = jobs.poll()) != null; ) {
                if (job != END) {
                    job.answer().completeExceptionally(refusedLate());
                }
            }
        }
    }

    private void answer(Job job) {
        try {
            job.answer().complete(dispatcher.request(job.call()));
        } catch (IOException | RuntimeException e) {
            job.answer().completeExceptionally(e);
        }
    }

    private static Refusal refusedLate() {
        return new Refusal(Refusal.EPERM, "the request no longer waits for this conversion (runWait let it go)");
    }
}
