package io.kvmfilter.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The shared tier over a real two-member Hazelcast cluster: this JVM is one member, {@link ClusterMemberProcess}
 * in a second JVM is the other, both on 127.0.0.1, each with its own result store.
 */
class SharedTierClusterTest {

    private static final String CACHE = "kvmfilter-results";

    private final String cluster = "kvmfilter-test-" + UUID.randomUUID();
    private HazelcastInstance member;
    private Process other;
    /** The second member's standard error (Hazelcast's log), copied into this test's output when it stops. */
    private Path otherLog;
    private PrintWriter toOther;
    private BufferedReader fromOther;

    @BeforeEach
    void startCluster() throws Exception {
        member = HazelcastMembers.start(cluster, null);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        otherLog = Files.createTempFile("cluster-member-", ".log");
        other = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                ClusterMemberProcess.class.getName(), cluster, HazelcastMembers.address(member), CACHE)
                .redirectError(otherLog.toFile()).start();
        toOther = new PrintWriter(other.getOutputStream(), true, StandardCharsets.UTF_8);
        fromOther = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8));
        String ready = fromOther.readLine();
        assertThat(ready).as("the second member's first line").isEqualTo("ready 2");
        assertThat(member.getCluster().getMembers()).hasSize(2);
    }

    @AfterEach
    void stopCluster() throws Exception {
        if (other != null) {
            toOther.close();
            if (!other.waitFor(20, TimeUnit.SECONDS)) {
                other.destroyForcibly().waitFor();
            }
        }
        if (member != null) {
            member.getLifecycleService().terminate();
        }
        if (otherLog != null) {
            System.err.print(Files.readString(otherLog)); // into the test's report output, not the build log
            Files.delete(otherLog);
        }
    }

    private String ask(String command) throws Exception {
        toOther.println(command);
        return fromOther.readLine();
    }

    private ResultStore store(int maxEntryBytes, Duration timeout) {
        return ResultStore.builder().shared(ResultStore.jcache(HazelcastMembers.cacheManager(member), CACHE))
                .sharedLimits(maxEntryBytes, timeout, Duration.ofSeconds(1)).build();
    }

    private static void awaitOpen(ResultStore store) throws InterruptedException {
        for (int i = 0; i < 100 && !store.statistics().get(1).isAvailable(); i++) {
            Thread.sleep(50);
        }
        assertThat(store.statistics().get(1).isAvailable()).as("shared tier open").isTrue();
    }

    @Test
    void aResultMadeOnOneMemberIsServedByTheOtherWithoutRunningTheTransform() throws Exception {
        try (ResultStore store = store(1 << 20, Duration.ofSeconds(2))) {
            awaitOpen(store);
            ResultKey key = new ResultKey("webp", "image/png", "made-here", "");
            store.get(key, () -> CompletableFuture.completedFuture(
                    StoredResult.success("webp from member one".getBytes(StandardCharsets.UTF_8), "image/webp")))
                    .get();
            String answer = null;
            // Shared writes are queued: give this one a moment to reach the cluster.
            for (int i = 0; i < 50 && !"hit SHARED webp from member one".equals(answer); i++) {
                answer = ask("get made-here");
                Thread.sleep(answer.startsWith("hit") ? 0 : 100);
            }
            assertThat(answer).isEqualTo("hit SHARED webp from member one");

            assertThat(ask("put made-there webp from member two")).isEqualTo("stored");
            AtomicInteger runs = new AtomicInteger();
            ResultKey theirs = new ResultKey("webp", "image/png", "made-there", "");
            ResultStore.Found found = null;
            for (int i = 0; i < 50; i++) {
                found = store.lookup(theirs).orElse(null);
                if (found != null) {
                    break;
                }
                Thread.sleep(100);
            }
            assertThat(found).isNotNull();
            assertThat(found.source()).isEqualTo(ResultStore.Source.SHARED);
            assertThat(new String(found.result().body(), StandardCharsets.UTF_8)).isEqualTo("webp from member two");
            assertThat(runs).hasValue(0);
        }
    }

    @Test
    void aResultBeingMadeOnTheOtherMemberIsWaitedForNotMadeAgain() throws Exception {
        try (ResultStore store = store(1 << 20, Duration.ofSeconds(2))) {
            awaitOpen(store);
            assertThat(ask("make in-progress")).isEqualTo("making"); // the other member claims it and runs
            AtomicInteger runs = new AtomicInteger();
            CompletableFuture<ResultStore.Found> found = store.get(new ResultKey("webp", "image/png", "in-progress",
                    ""), () -> {
                        runs.incrementAndGet();
                        return CompletableFuture.completedFuture(StoredResult.success(
                                "made here too".getBytes(StandardCharsets.UTF_8), "image/webp"));
                    });
            Thread.sleep(500);
            assertThat(found).as("waiting for the other member's run").isNotDone();

            assertThat(ask("finish in-progress made there")).isEqualTo("finished");

            ResultStore.Found result = found.get(10, TimeUnit.SECONDS);
            assertThat(new String(result.result().body(), StandardCharsets.UTF_8)).isEqualTo("made there");
            assertThat(result.source()).isEqualTo(ResultStore.Source.SHARED);
            assertThat(runs).as("no second run in the cluster").hasValue(0);
            assertThat(store.statistics().get(1).getCoalesced()).as("one wait for another member").isEqualTo(1);
        }
    }

    @Test
    void aClaimWhoseMemberNeverFinishesLapsesAndTheResultIsMadeHere() throws Exception {
        try (ResultStore store = store(1 << 20, Duration.ofSeconds(2))) {
            awaitOpen(store);
            assertThat(ask("make never-finished")).isEqualTo("making");
            AtomicInteger runs = new AtomicInteger();
            long start = System.nanoTime();
            ResultStore.Found result = store.get(new ResultKey("webp", "image/png", "never-finished", ""), () -> {
                runs.incrementAndGet();
                return CompletableFuture.completedFuture(StoredResult.success(
                        "made here".getBytes(StandardCharsets.UTF_8), "image/webp"));
            }).get(20, TimeUnit.SECONDS);
            long waitedMillis = (System.nanoTime() - start) / 1_000_000;

            assertThat(new String(result.result().body(), StandardCharsets.UTF_8)).isEqualTo("made here");
            assertThat(runs).hasValue(1);
            assertThat(waitedMillis).as("waited for the claim to lapse, not longer than it plus polls")
                    .isBetween(ClusterMemberProcess.CLAIM_TIME.toMillis() - 1000,
                            ClusterMemberProcess.CLAIM_TIME.toMillis() + 3000);
        }
    }

    @Test
    void aKeyThatDiffersInAnyPartIsAMissAcrossTheCluster() throws Exception {
        try (ResultStore store = store(1 << 20, Duration.ofSeconds(2))) {
            awaitOpen(store);
            assertThat(ask("put same-digest from member two")).isEqualTo("stored");
            ResultKey same = new ResultKey("webp", "image/png", "same-digest", "");
            // The other member's write is queued: give it up to 5 s to reach the cluster (a fixed 500 ms was
            // too short on a busy machine).
            Optional<ResultStore.Found> found = store.lookup(same);
            for (int i = 0; i < 50 && found.isEmpty(); i++) {
                Thread.sleep(100);
                found = store.lookup(same);
            }
            assertThat(found.orElseThrow().source()).isEqualTo(ResultStore.Source.SHARED);
            assertThat(store.lookup(new ResultKey("avif", "image/png", "same-digest", ""))).isEmpty();
            assertThat(store.lookup(new ResultKey("webp", "image/jpeg", "same-digest", ""))).isEmpty();
            assertThat(store.lookup(new ResultKey("webp", "image/png", "same-digest", "/x?w=1"))).isEmpty();
        }
    }

    @Test
    void resultsAboveTheEntryLimitStayLocal() throws Exception {
        try (ResultStore store = store(1000, Duration.ofSeconds(2))) {
            awaitOpen(store);
            store.put(new ResultKey("webp", "image/png", "big", ""), StoredResult.success(new byte[5000], "image/webp"));
            store.put(new ResultKey("webp", "image/png", "small", ""),
                    StoredResult.success("tiny".getBytes(StandardCharsets.UTF_8), "image/webp"));
            Thread.sleep(500);
            assertThat(ask("get small")).isEqualTo("hit SHARED tiny");
            assertThat(ask("get big")).isEqualTo("miss");
        }
    }

    @Test
    void aClusterThatStopsAnsweringLeavesTheLocalTiersServingAndLogsOnce() throws Exception {
        List<LogRecord> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        Logger log = Logger.getLogger(ResultStore.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                    warnings.add(record);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(handler);
        try (ResultStore store = store(1 << 20, Duration.ofMillis(200))) {
            awaitOpen(store);
            ResultKey local = new ResultKey("webp", "image/png", "local", "");
            store.put(local, StoredResult.success("kept".getBytes(StandardCharsets.UTF_8), "image/webp"));
            // The whole cluster goes: this member stops (its JCache then fails every call), the other exits.
            toOther.close();
            other.waitFor(20, TimeUnit.SECONDS);
            other = null;
            member.getLifecycleService().terminate();
            member = null;
            for (int i = 0; i < 20; i++) {
                assertThat(store.lookup(new ResultKey("webp", "image/png", "unknown-" + i, ""))).isEmpty();
                store.put(new ResultKey("webp", "image/png", "new-" + i, ""),
                        StoredResult.success(new byte[10], "image/webp"));
                assertThat(store.lookup(local).orElseThrow().source()).isEqualTo(ResultStore.Source.MEMORY);
            }
            Thread.sleep(300);
            assertThat(store.statistics().get(1).isAvailable()).isFalse();
            assertThat(store.statistics().get(1).getErrors()).isPositive();
            assertThat(warnings).as("warnings of the result store").hasSize(1);
            assertThat(warnings.get(0).getMessage()).contains("serving from the local tiers only");
        } finally {
            log.removeHandler(handler);
        }
    }
}
