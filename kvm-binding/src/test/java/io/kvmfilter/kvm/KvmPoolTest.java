package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Instance pools under concurrent load: every response reaches its caller once; queue limits hold. */
@ExtendWith(KvmTestEnvironment.class)
class KvmPoolTest {

    @Test
    void concurrentRequestsGetTheirOwnAnswersAndAreCountedExactly() throws Exception {
        int threads = 8;
        int perThread = 25;
        try (Kvm kvm = KvmTestEnvironment.startGuest("pool", "\"concurrency\": 2, \"queue_timeout\": 30")) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch go = new CountDownLatch(1);
            Set<String> answers = ConcurrentHashMap.newKeySet();
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    go.await();
                    int ok = 0;
                    for (int i = 0; i < perThread; i++) {
                        String url = "/t" + thread + "/r" + i;
                        Result result = thread % 2 == 0
                                ? kvm.run("pool", Request.get(url).withArg("work:1"))
                                : kvm.run("pool", Request.post(url, "text/plain", url.getBytes()).withArg("p"));
                        String expected = thread % 2 == 0 ? url + "|work:1" : url + "|p";
                        assertThat(result.bodyAsString()).as(result.toString()).isEqualTo(expected);
                        assertThat(answers.add(expected)).as("answered once: " + expected).isTrue();
                        ok++;
                    }
                    return ok;
                }));
            }
            go.countDown();
            int total = 0;
            for (Future<Integer> f : done) {
                total += f.get(120, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertThat(total).isEqualTo(threads * perThread);
            assertThat(answers).hasSize(threads * perThread);
            KvmStats.Program stats = kvm.stats().program("pool");
            assertThat(stats.invocations()).isEqualTo(threads * perThread);
            assertThat(stats.failures()).isZero();
            assertThat(stats.instances()).isBetween(1L, 2L);
            assertThat(stats.instancesBusy()).isZero();
            assertThat(stats.queueTimeouts()).isZero();
            assertThat(stats.queueWaits()).as("8 threads on 2 instances wait").isPositive();
            assertThat(stats.instanceStats().stream().mapToLong(KvmStats.Instance::invocations).sum())
                    .isEqualTo(threads * perThread);
        }
    }

    /** Runs a long request in the background and returns once the core reports it busy. */
    private static Future<Result> occupy(Kvm kvm, String program, ExecutorService pool) throws Exception {
        Future<Result> busy = pool.submit(() -> kvm.run(program, Request.get("/busy").withArg("work:600")));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (kvm.stats().program(program).instancesBusy() == 0) {
            assertThat(System.nanoTime()).as("the long request started").isLessThan(deadline);
            Thread.sleep(2);
        }
        return busy;
    }

    @Test
    void waitingLongerThanQueueTimeoutGivesQueueTimeout() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Kvm kvm = KvmTestEnvironment.startGuest("one", "\"concurrency\": 1, \"queue_timeout\": 0.1,"
                + " \"max_request_time\": 20")) {
            Future<Result> busy = occupy(kvm, "one", pool);
            long start = System.nanoTime();
            Result waited = kvm.run("one", Request.get("/late"));
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(waited.failure().orElseThrow().kind()).isEqualTo(FailureKind.QUEUE_TIMEOUT);
            assertThat(elapsedMs).isBetween(90L, 2_000L);
            assertThat(busy.get(30, TimeUnit.SECONDS).ok()).isTrue();
            KvmStats.Program stats = kvm.stats().program("one");
            assertThat(stats.queueTimeouts()).isEqualTo(1);
            assertThat(stats.invocations()).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void fullQueueRejectsAtOnce() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Kvm kvm = KvmTestEnvironment.startGuest("noqueue", "\"concurrency\": 1, \"max_queue\": 0,"
                + " \"queue_timeout\": 10, \"max_request_time\": 20")) {
            Future<Result> busy = occupy(kvm, "noqueue", pool);
            long start = System.nanoTime();
            Result rejected = kvm.run("noqueue", Request.get("/late"));
            assertThat(rejected.failure().orElseThrow().kind()).isEqualTo(FailureKind.QUEUE_TIMEOUT);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000L);
            assertThat(busy.get(30, TimeUnit.SECONDS).ok()).isTrue();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void ephemeralProgramsStartEveryRequestFresh() {
        try (Kvm kvm = KvmTestEnvironment.startGuest("fresh", "\"ephemeral\": true")) {
            for (int i = 0; i < 3; i++) {
                assertThat(kvm.run("fresh", Request.get("/").withArg("count")).bodyAsString()).isEqualTo("1");
            }
        }
    }

    @Test
    void nonEphemeralProgramsKeepTheirState() {
        try (Kvm kvm = KvmTestEnvironment.startGuest("kept", "\"ephemeral\": false")) {
            for (int i = 1; i <= 3; i++) {
                assertThat(kvm.run("kept", Request.get("/").withArg("count")).bodyAsString()).isEqualTo(String.valueOf(i));
            }
        }
    }
}
