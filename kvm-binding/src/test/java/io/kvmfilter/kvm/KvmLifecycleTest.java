package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Start-up, warm-up, invalidation, reload, statistics JSON and JMX on the real core. */
@ExtendWith(KvmTestEnvironment.class)
class KvmLifecycleTest {

    private static void install(Path version, Path target) throws Exception {
        Path temporary = target.resolveSibling(target.getFileName() + ".new");
        Files.copy(version, temporary, StandardCopyOption.REPLACE_EXISTING);
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Kvm startOn(Path file, String name, String settings) {
        return Kvm.start(ProgramLibrary.parse("{ \"p\": { \"filename\": \"" + file + "\"" + settings + " } }", null), name);
    }

    private static String version(Kvm kvm) {
        return kvm.run("p", Request.get("/").withArg("version")).bodyAsString();
    }

    @Test
    void invalidateReloadsTheFileOnTheNextRequest(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("program");
        install(KvmTestEnvironment.guest(), file);
        try (Kvm kvm = startOn(file, "invalidate-test", "")) {
            assertThat(version(kvm)).isEqualTo("v1");
            install(KvmTestEnvironment.guestVersion2(), file);
            assertThat(version(kvm)).as("still the loaded program").isEqualTo("v1");
            assertThat(kvm.invalidate(Pattern.compile("other"))).isZero();
            assertThat(kvm.invalidate(Pattern.compile("p"))).isEqualTo(1);
            assertThat(kvm.stats().program("p").loaded()).isFalse();
            assertThat(version(kvm)).isEqualTo("v2");
            KvmStats.Program stats = kvm.stats().program("p");
            assertThat(stats.loads()).isEqualTo(2);
            assertThat(stats.invocations()).as("summed over both loads").isEqualTo(3);
        }
    }

    @Test
    void inFlightRequestsFinishOnTheOldProgram(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("program");
        install(KvmTestEnvironment.guest(), file);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Kvm kvm = startOn(file, "inflight-test", ", \"concurrency\": 1, \"max_request_time\": 20")) {
            Future<Result> running = pool.submit(() -> kvm.run("p", Request.get("/long").withArg("work:600")));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (kvm.stats().program("p").instancesBusy() == 0) {
                assertThat(System.nanoTime()).isLessThan(deadline);
                Thread.sleep(2);
            }
            install(KvmTestEnvironment.guestVersion2(), file);
            assertThat(kvm.invalidate(Pattern.compile(".*"))).isEqualTo(1);
            // The new program has its own instance: this does not wait for the old one.
            assertThat(version(kvm)).isEqualTo("v2");
            Result old = running.get(30, TimeUnit.SECONDS);
            assertThat(old.ok()).isTrue();
            assertThat(old.bodyAsString()).isEqualTo("/long|work:600");
            assertThat(kvm.stats().program("p").invocations()).isEqualTo(2);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void invalidatingUnderLoadLosesNoRequest() throws Exception {
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (Kvm kvm = KvmTestEnvironment.startGuest("p", "\"concurrency\": 2, \"queue_timeout\": 30")) {
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.List<Future<Integer>> workers = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                workers.add(pool.submit(() -> {
                    int n = 0;
                    while (!stop.get()) {
                        String url = "/w" + thread + "/" + n;
                        Result result = kvm.run("p", Request.get(url));
                        assertThat(result.bodyAsString()).as(result.toString()).isEqualTo(url + "|");
                        n++;
                    }
                    return n;
                }));
            }
            int invalidations = 0;
            for (int i = 0; i < 20; i++) {
                Thread.sleep(20);
                invalidations += kvm.invalidate(Pattern.compile("p"));
            }
            stop.set(true);
            assertThat(invalidations).as("the programs were loaded when invalidated").isPositive();
            long total = 0;
            for (Future<Integer> worker : workers) {
                total += worker.get(60, TimeUnit.SECONDS);
            }
            KvmStats.Program stats = kvm.stats().program("p");
            assertThat(stats.invocations()).as("every request counted once, across all loads").isEqualTo(total);
            assertThat(stats.failures()).isZero();
            assertThat(stats.loads()).isBetween(1L, invalidations + 1L);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void reloadPicksUpAChangedFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("program");
        install(KvmTestEnvironment.guest(), file);
        try (Kvm kvm = startOn(file, "reload-test", ", \"reload\": true")) {
            assertThat(version(kvm)).isEqualTo("v1");
            install(KvmTestEnvironment.guestVersion2(), file);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            String now = version(kvm);
            while (!now.equals("v2") && System.nanoTime() < deadline) {
                Thread.sleep(100);
                now = version(kvm);
            }
            assertThat(now).isEqualTo("v2");
        }
    }

    @Test
    void eagerStartCreatesEveryInstanceAndWarmsThemUp() {
        try (Kvm kvm = KvmTestEnvironment.startGuest("warm", "\"start\": true, \"concurrency\": 2, \"ephemeral\": false,"
                + " \"warmup_requests\": 3")) {
            KvmStats.Program stats = kvm.stats().program("warm");
            assertThat(stats.loaded()).isTrue();
            assertThat(stats.instances()).isEqualTo(2);
            assertThat(stats.loads()).isEqualTo(1);
            // Three warm-up requests ran on this (non-ephemeral) instance before the first real one.
            assertThat(kvm.run("warm", Request.get("/").withArg("count")).bodyAsString()).isEqualTo("4");
        }
    }

    @Test
    void idleInstancesGiveTheirMemoryBack() throws Exception {
        try (Kvm kvm = KvmTestEnvironment.startGuest("idle", "\"trim_idle_time\": 0.2")) {
            Result first = kvm.run("idle", Request.get("/").withArg("dirty:8"));
            assertThat(first.ok()).as(first.toString()).isTrue();
            KvmStats.Program busy = kvm.stats().program("idle");
            // Right after the request the instance holds its private copies (unless the trimmer was quicker still).
            assertThat(busy.instanceBytes() + busy.trimmedBytes()).isGreaterThanOrEqualTo(8L << 20);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            KvmStats.Program idle = kvm.stats().program("idle");
            while (idle.instanceBytes() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
                idle = kvm.stats().program("idle");
            }
            assertThat(idle.instanceBytes()).as("held after 0.2 s idle").isZero();
            assertThat(idle.trimmedBytes()).isGreaterThanOrEqualTo(8L << 20);
            assertThat(kvm.run("idle", Request.get("/after")).bodyAsString()).isEqualTo("/after|");
        }
    }

    @Test
    void warmupRequestsAreFlaggedAsWarmup() {
        try (Kvm kvm = KvmTestEnvironment.startGuest("flags", "\"main_arguments\": [\"generic\"], \"ephemeral\": false,"
                + " \"warmup_requests\": 2, \"warmup_url\": \"/warm\"")) {
            // A lazily loaded program warms up on its first request, before running it.
            assertThat(kvm.run("flags", Request.get("/real")).bodyAsString()).endsWith("warmups=2");
        }
    }

    @Test
    void startAsyncBootsInTheBackground() throws Exception {
        try (Kvm kvm = KvmTestEnvironment.startGuest("later", "\"concurrency\": 3")) {
            assertThat(kvm.stats().program("later").loaded()).isFalse();
            kvm.startAsync("later").get(30, TimeUnit.SECONDS);
            assertThat(kvm.stats().program("later").loaded()).isTrue();
            assertThat(kvm.stats().program("later").instances()).isEqualTo(3);
        }
    }

    /** An API call exits directly (one exit); a fault and a system call go through the trap stub. */
    @Test
    void exitsPerRequestAreCounted() throws Exception {
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse(KvmTestEnvironment.guestLibrary("e", ""), null))) {
            for (int i = 0; i < 3; i++) {
                kvm.run("e", Request.get("/")); // the response: 1 exit
            }
            kvm.run("e", Request.get("/").withArg("fault")); // the page fault: 1 trap exit
            kvm.run("e", Request.get("/").withArg("log:x")); // sys_log, write(1) (a trap exit), the response
            KvmStats.Program stats = kvm.stats().program("e");
            assertThat(stats.invocations()).isEqualTo(5);
            assertThat(stats.exits()).isEqualTo(3 + 1 + 3);
            assertThat(stats.trapExits()).isEqualTo(2);
            assertThat(stats.exitsPerRequest()).isEqualTo(7.0 / 5);
            assertThat(stats.instanceStats().get(0).exits()).isEqualTo(7);
            assertThat(stats.instanceStats().get(0).trapExits()).isEqualTo(2);
            JsonNode json = new ObjectMapper().readTree(kvm.statsJson("e", 0)).get("e");
            assertThat(json.get("exits").asLong()).isEqualTo(7);
            assertThat(json.get("trap_exits").asLong()).isEqualTo(2);
            assertThat(json.get("exits_per_request").asDouble()).isEqualTo(1.4);
            assertThat(json.get("instance_stats").get(0).get("exits").asLong()).isEqualTo(7);
        }
    }

    @Test
    void statisticsAsJson() throws Exception {
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse("{ \"a\": { \"filename\": \"" + KvmTestEnvironment.guest()
                + "\" }, \"b\": { \"filename\": \"" + KvmTestEnvironment.guest() + "\" } }", null))) {
            for (int i = 0; i < 3; i++) {
                kvm.run("a", Request.get("/"));
            }
            kvm.run("a", Request.get("/").withArg("fault"));
            kvm.run("a", Request.post("/", "text/plain", new byte[1000]));
            String compact = kvm.statsJson("a", 0);
            assertThat(compact).doesNotContain("\n");
            JsonNode json = new ObjectMapper().readTree(compact);
            assertThat(json.has("b")).isFalse();
            JsonNode a = json.get("a");
            assertThat(a.get("invocations").asLong()).isEqualTo(5);
            assertThat(a.get("failures").asLong()).isEqualTo(1);
            assertThat(a.get("failures_by_kind").get("MEMORY_FAULT").asLong()).isEqualTo(1);
            assertThat(a.get("bytes_in").asLong()).isEqualTo(1000);
            assertThat(a.get("loaded").asBoolean()).isTrue();
            assertThat(a.get("instance_stats").get(0).get("invocations").asLong()).isEqualTo(5);
            assertThat(kvm.statsJson(".*", 4)).contains("\n    \"a\" : {");
            assertThat(new ObjectMapper().readTree(kvm.statsJson(".*", 2)).has("b")).isTrue();
            assertThatThrownBy(() -> kvm.statsJson("(", 2)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Program pattern \"(\" is not a valid regular expression");
        }
    }

    @Test
    void jmxBeanIsRegisteredWhileRunning() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("io.kvmfilter:type=Kvm,name=jmx-test");
        Kvm kvm = Kvm.start(ProgramLibrary.parse(KvmTestEnvironment.guestLibrary("j", ""), null), "jmx-test");
        try {
            kvm.run("j", Request.get("/"));
            kvm.run("j", Request.get("/").withArg("again"));
            assertThat(server.isRegistered(name)).isTrue();
            assertThat(server.getAttribute(name, "Invocations")).isEqualTo(2L);
            assertThat(server.getAttribute(name, "Failures")).isEqualTo(0L);
            assertThat((String[]) server.getAttribute(name, "ProgramNames")).containsExactly("j");
            assertThat((String) server.invoke(name, "statsJson", new Object[] {"j", 0},
                    new String[] {String.class.getName(), int.class.getName()})).contains("\"invocations\":2");
            assertThatThrownBy(() -> Kvm.start(ProgramLibrary.parse(KvmTestEnvironment.guestLibrary("j", ""), null),
                    "jmx-test")).isInstanceOf(KvmConfigurationException.class).hasMessageContaining("already running");
            assertThat(server.invoke(name, "invalidate", new Object[] {"j"}, new String[] {String.class.getName()}))
                    .isEqualTo(1);
        } finally {
            kvm.close();
        }
        assertThat(server.isRegistered(name)).isFalse();
    }
}
