package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WaitingLineTest {

    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicInteger runs = new AtomicInteger();

    @AfterEach
    void stop() {
        release.countDown();
        executor.shutdownNow();
        timer.shutdownNow();
    }

    private Supplier<TransformResult> held(String name) {
        return () -> {
            runs.incrementAndGet();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return TransformResult.applied(name.getBytes(StandardCharsets.US_ASCII), null);
        };
    }

    @Test
    void runsUpToItsPermitsQueuesUpToItsWaitersAndRefusesTheRest() throws Exception {
        WaitingLine line = new WaitingLine(2, 1, Duration.ofSeconds(10), executor, timer);
        CompletableFuture<TransformResult> a = line.submit(held("a"), () -> false);
        CompletableFuture<TransformResult> b = line.submit(held("b"), () -> false);
        CompletableFuture<TransformResult> c = line.submit(held("c"), () -> false);
        CompletableFuture<TransformResult> d = line.submit(held("d"), () -> false);
        assertThat(d).isCompleted();
        assertThat(d.get().failure()).isEqualTo(WaitingLine.BUSY);
        assertThat(line.running()).isEqualTo(2);
        assertThat(line.waiting()).isEqualTo(1);
        release.countDown();
        assertThat(new String(c.get(5, TimeUnit.SECONDS).body(), StandardCharsets.US_ASCII)).isEqualTo("c");
        assertThat(a.get().ok()).isTrue();
        assertThat(b.get().ok()).isTrue();
        assertThat(runs).hasValue(3);
        assertThat(line.rejected()).isEqualTo(1);
        assertThat(line.running()).isZero();
    }

    @Test
    void aWaitThatRunsOutAnswersQueueTimeoutAndTheWorkNeverRuns() throws Exception {
        WaitingLine line = new WaitingLine(1, 4, Duration.ofMillis(100), executor, timer);
        line.submit(held("running"), () -> false);
        CompletableFuture<TransformResult> waiting = line.submit(held("waiting"), () -> false);
        TransformResult result = waiting.get(5, TimeUnit.SECONDS);
        assertThat(result.failure()).isEqualTo(WaitingLine.QUEUE_TIMEOUT);
        release.countDown();
        Thread.sleep(200);
        assertThat(runs).hasValue(1);
        assertThat(line.expired()).isEqualTo(1);
    }

    @Test
    void queuedWorkWhoseClientIsGoneIsDroppedWhenItsTurnComes() throws Exception {
        WaitingLine line = new WaitingLine(1, 4, Duration.ofSeconds(10), executor, timer);
        AtomicBoolean gone = new AtomicBoolean();
        CompletableFuture<TransformResult> first = line.submit(held("first"), () -> false);
        CompletableFuture<TransformResult> abandoned = line.submit(held("abandoned"), gone::get);
        CompletableFuture<TransformResult> wanted = line.submit(held("wanted"), () -> false);
        gone.set(true);
        release.countDown();
        assertThat(abandoned.get(5, TimeUnit.SECONDS).failure()).isEqualTo(WaitingLine.CLIENT_GONE);
        assertThat(wanted.get(5, TimeUnit.SECONDS).ok()).isTrue();
        assertThat(first.get().ok()).isTrue();
        assertThat(runs).hasValue(2);
        assertThat(line.dropped()).isEqualTo(1);
    }

    @Test
    void aThrowingTransformIsAnInternalFailureAndFreesItsPermit() throws Exception {
        WaitingLine line = new WaitingLine(1, 0, Duration.ofSeconds(1), executor, timer);
        TransformResult failed = line.submit(() -> {
            throw new IllegalStateException("bug");
        }, () -> false).get(5, TimeUnit.SECONDS);
        assertThat(failed.failure()).isEqualTo("internal");
        release.countDown();
        assertThat(line.submit(held("next"), () -> false).get(5, TimeUnit.SECONDS).ok()).isTrue();
    }
}
