package io.kvmfilter.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The memory tier, single-flight and remembered failures. */
class ResultStoreTest {

    static final ResultKey KEY = new ResultKey("webp", "image/png", "digest-1", "");

    static StoredResult body(String text) {
        return StoredResult.success(text.getBytes(StandardCharsets.UTF_8), "image/webp");
    }

    static String text(ResultStore.Found found) {
        return new String(found.result().body(), StandardCharsets.UTF_8);
    }

    @Test
    void concurrentRequestsForOneKeyRunOneTransformAndAllGetItsResult() throws Exception {
        try (ResultStore store = ResultStore.builder().build()) {
            AtomicInteger runs = new AtomicInteger();
            CompletableFuture<StoredResult> transform = new CompletableFuture<>();
            List<CompletableFuture<ResultStore.Found>> requests = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                requests.add(store.get(KEY, () -> {
                    runs.incrementAndGet();
                    return transform;
                }));
            }
            assertThat(requests).noneMatch(CompletableFuture::isDone);
            assertThat(store.inFlight()).isEqualTo(1);
            transform.complete(body("webp bytes"));
            for (CompletableFuture<ResultStore.Found> request : requests) {
                assertThat(text(request.get(5, TimeUnit.SECONDS))).isEqualTo("webp bytes");
            }
            assertThat(runs).hasValue(1);
            assertThat(requests.get(0).get().source()).isEqualTo(ResultStore.Source.COMPUTED);
            assertThat(requests.get(7).get().source()).isEqualTo(ResultStore.Source.COALESCED);
            assertThat(store.inFlight()).isZero();
            // The ninth finds it in memory.
            ResultStore.Found later = store.get(KEY, () -> {
                runs.incrementAndGet();
                return CompletableFuture.completedFuture(body("again"));
            }).get();
            assertThat(later.source()).isEqualTo(ResultStore.Source.MEMORY);
            assertThat(runs).hasValue(1);
            TierStatistics memory = store.statistics().get(0);
            assertThat(memory.getCoalesced()).isEqualTo(7);
            assertThat(memory.getHits()).isEqualTo(1);
            assertThat(memory.getStores()).isEqualTo(1);
        }
    }

    @Test
    void aWaiterThatGivesUpDoesNotDisturbTheTransformOrTheOthers() throws Exception {
        try (ResultStore store = ResultStore.builder().build()) {
            CompletableFuture<StoredResult> transform = new CompletableFuture<>();
            CompletableFuture<ResultStore.Found> leader = store.get(KEY, () -> transform);
            CompletableFuture<ResultStore.Found> impatient = store.get(KEY, () -> transform)
                    .orTimeout(50, TimeUnit.MILLISECONDS);
            CompletableFuture<ResultStore.Found> patient = store.get(KEY, () -> transform);
            assertThat(impatient).failsWithin(Duration.ofSeconds(5)).withThrowableThat()
                    .withCauseInstanceOf(TimeoutException.class);
            transform.complete(body("late"));
            assertThat(text(leader.get(5, TimeUnit.SECONDS))).isEqualTo("late");
            assertThat(text(patient.get(5, TimeUnit.SECONDS))).isEqualTo("late");
        }
    }

    @Test
    void aFailureIsRememberedForTheFailureTimeThenTriedAgain() throws Exception {
        try (ResultStore store = ResultStore.builder().failureTime(Duration.ofMillis(300)).build()) {
            AtomicInteger runs = new AtomicInteger();
            for (int i = 0; i < 3; i++) {
                ResultStore.Found found = store.get(KEY, () -> {
                    runs.incrementAndGet();
                    return CompletableFuture.completedFuture(StoredResult.failure("error-status"));
                }).get();
                assertThat(found.result().ok()).isFalse();
                assertThat(found.result().failure()).isEqualTo("error-status");
            }
            assertThat(runs).hasValue(1);
            assertThat(store.statistics().get(0).getNegativeHits()).isEqualTo(2);
            Thread.sleep(400);
            store.get(KEY, () -> {
                runs.incrementAndGet();
                return CompletableFuture.completedFuture(body("fixed"));
            }).get();
            assertThat(runs).hasValue(2);
        }
    }

    @Test
    void transientFailuresAndFailuresWithRememberingOffAreNotKept() throws Exception {
        try (ResultStore store = ResultStore.builder().build();
                ResultStore forgetful = ResultStore.builder().failureTime(Duration.ZERO).build()) {
            AtomicInteger runs = new AtomicInteger();
            for (int i = 0; i < 2; i++) {
                store.get(KEY, () -> {
                    runs.incrementAndGet();
                    return CompletableFuture.completedFuture(StoredResult.transientFailure("busy"));
                }).get();
                forgetful.get(KEY, () -> {
                    runs.incrementAndGet();
                    return CompletableFuture.completedFuture(StoredResult.failure("timeout"));
                }).get();
            }
            assertThat(runs).hasValue(4);
        }
    }

    @Test
    void aBodyItsProgramSaidNotToReuseAnswersItsWaitersOnly() throws Exception {
        try (ResultStore store = ResultStore.builder().build()) {
            AtomicInteger runs = new AtomicInteger();
            for (int i = 0; i < 2; i++) {
                ResultStore.Found found = store.get(KEY, () -> {
                    runs.incrementAndGet();
                    return CompletableFuture.completedFuture(StoredResult.unstorable(new byte[] {1}, null));
                }).get();
                assertThat(found.result().body()).containsExactly(1);
            }
            assertThat(runs).hasValue(2);
        }
    }

    @Test
    void aThrowingTransformFailsItsWaitersAndTheNextRequestRunsAgain() throws Exception {
        try (ResultStore store = ResultStore.builder().build()) {
            CompletableFuture<ResultStore.Found> failed = store.get(KEY, () -> {
                throw new IllegalStateException("bug");
            });
            assertThat(failed).failsWithin(Duration.ofSeconds(1));
            assertThat(store.inFlight()).isZero();
            assertThat(text(store.get(KEY, () -> CompletableFuture.completedFuture(body("ok"))).get()))
                    .isEqualTo("ok");
        }
    }

    @Test
    void theMemoryTierStaysWithinItsBytesAndCountsEvictions() throws Exception {
        try (ResultStore store = ResultStore.builder().memoryBytes(100_000).build()) {
            byte[] tenKilobytes = new byte[10_000];
            for (int i = 0; i < 50; i++) {
                store.put(new ResultKey("webp", "image/png", "digest-" + i, ""),
                        StoredResult.success(tenKilobytes, "image/webp"));
            }
            TierStatistics memory = store.statistics().get(0);
            assertThat(memory.getBytes()).isLessThanOrEqualTo(100_000);
            assertThat(memory.getEntries()).isBetween(1L, 10L);
            assertThat(memory.getEvictions()).isGreaterThanOrEqualTo(40);
        }
    }

    @Test
    void aSuccessExpiresAfterTheTimeToLive() throws Exception {
        try (ResultStore store = ResultStore.builder().timeToLive(Duration.ofMillis(200)).build()) {
            store.put(KEY, body("fresh"));
            assertThat(store.lookup(KEY)).isPresent();
            Thread.sleep(300);
            assertThat(store.lookup(KEY)).isEmpty();
        }
    }

    @Test
    void storesRegisterTheirStatisticsInJmx() throws Exception {
        try (ResultStore store = ResultStore.builder().name("jmx-test").build()) {
            store.put(KEY, body("x"));
            store.lookup(KEY);
            Object memory = java.lang.management.ManagementFactory.getPlatformMBeanServer().getAttribute(
                    new javax.management.ObjectName("io.kvmfilter:type=ResultStore,name=\"jmx-test\""), "Memory");
            assertThat(((javax.management.openmbean.CompositeData) memory).get("hits")).isEqualTo(1L);
        }
    }

    @Test
    void waitersHoldNoThread() throws Exception {
        // 1000 waiters on one transform: none of them is a thread, all complete when it does.
        try (ResultStore store = ResultStore.builder().build()) {
            CompletableFuture<StoredResult> transform = new CompletableFuture<>();
            CountDownLatch done = new CountDownLatch(1000);
            int threadsBefore = Thread.activeCount();
            for (int i = 0; i < 1000; i++) {
                store.get(KEY, () -> transform).thenRun(done::countDown);
            }
            assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore + 1);
            transform.complete(body("x"));
            assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
        }
    }
}
