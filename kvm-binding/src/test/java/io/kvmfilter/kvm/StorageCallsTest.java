package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.testing.CSuiteGuests;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Storage through the Java binding ({@code "storage": true}): state kept in the storage instance across requests
 * made by four request VMs at once, a crash in storage that fails only its request and sends storage back to its
 * boot image, and a storage task. The guest is the C suite's "storage" (its test_storage.c covers every call).
 */
@ExtendWith(KvmTestEnvironment.class)
class StorageCallsTest {

    private static final int THREADS = 4;
    private static final int ADDS = 25;

    @Test
    void requestVmsShareTheStorageInstancesStateOneCallAtATime() throws Exception {
        String library = "{ \"storage\": { \"filename\": \"" + CSuiteGuests.guest("storage")
                + "\", \"storage\": true, \"concurrency\": " + THREADS + ", \"queue_timeout\": 60 } }";
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse(library, null))) {
            assertThat(body(kvm, "type")).isEqualTo("request=0 storage=1 type=storage");
            assertThat(body(kvm, "total")).isEqualTo("total=100 resumed=0");
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                runs.add(pool.submit(() -> {
                    for (int i = 0; i < ADDS; i++) {
                        assertThat(body(kvm, "add:2")).startsWith("total=");
                    }
                    return null;
                }));
            }
            for (Future<?> run : runs) {
                run.get(120, TimeUnit.SECONDS);
            }
            assertThat(body(kvm, "total")).isEqualTo("total=" + (100 + 2 * THREADS * ADDS) + " resumed=0");

            Result crash = kvm.run("storage", Request.get("/").withArg("crash"));
            assertThat(crash.failure()).hasValueSatisfying(f -> {
                assertThat(f.kind()).isEqualTo(FailureKind.MEMORY_FAULT);
                assertThat(f.message()).contains("in storage: memory fault");
            });
            assertThat(body(kvm, "total")).as("storage started again from its boot image")
                    .isEqualTo("total=100 resumed=0");

            assertThat(body(kvm, "task:11")).startsWith("id=");
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            String total = body(kvm, "total");
            while (!total.equals("total=111 resumed=0") && System.nanoTime() < until) {
                Thread.sleep(20);
                total = body(kvm, "total");
            }
            assertThat(total).as("the task ran in storage").isEqualTo("total=111 resumed=0");

            KvmStats.Program stats = kvm.stats().programs().get("storage");
            assertThat(stats.storageCalls()).as("calls that ran in storage").isGreaterThanOrEqualTo(THREADS * ADDS + 4);
            assertThat(stats.storageFailures()).as("the crash").isEqualTo(1);
            assertThat(stats.storageTasks()).isEqualTo(1);
            assertThat(stats.storageTaskFailures()).isZero();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void storageStateSurvivesAReloadThroughLiveUpdate() throws Exception {
        String library = "{ \"storage\": { \"filename\": \"" + CSuiteGuests.guest("storage") + "\", \"storage\": true } }";
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse(library, null))) {
            assertThat(body(kvm, "add:42")).isEqualTo("total=142");
            assertThat(kvm.invalidate(Pattern.compile("storage"))).isEqualTo(1);
            // The next request loads the program again; the old storage's handler 6 hands the total to the new
            // storage's handler 7.
            assertThat(body(kvm, "total")).isEqualTo("total=142 resumed=0");
            assertThat(kvm.stats().programs().get("storage").loads()).isEqualTo(2);
            assertThat(body(kvm, "add:1")).isEqualTo("total=143");
        }
    }

    @Test
    void storageKeepsItsStateFileAcrossRestarts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path libraryFile = dir.resolve("library.json");
        java.nio.file.Files.writeString(libraryFile, "{ \"storage\": { \"filename\": \"" + CSuiteGuests.guest("storage")
                + "\", \"storage\": true, \"state_file\": \"data/storage.state\" } }");
        java.nio.file.Files.createDirectories(dir.resolve("data"));
        try (Kvm kvm = Kvm.start(ProgramLibrary.load(libraryFile.toUri()))) {
            assertThat(body(kvm, "add:8")).isEqualTo("total=108");
            assertThat(body(kvm, "save")).isEqualTo("saved=9");
            assertThat(body(kvm, "write-state")).as("request VMs only read it").isEqualTo("open=-1 errno=13");
        }
        assertThat(java.nio.file.Files.readString(dir.resolve("data/storage.state"))).isEqualTo("total=108");
        try (Kvm kvm = Kvm.start(ProgramLibrary.load(libraryFile.toUri()))) {
            assertThat(body(kvm, "total")).as("storage read its state file at boot").isEqualTo("total=108 resumed=0");
        }
    }

    private static String body(Kvm kvm, String arg) {
        Result result = kvm.run("storage", Request.get("/").withArg(arg));
        assertThat(result.failure()).as(result.toString()).isEmpty();
        return result.bodyAsString();
    }

    @Test
    void storageHasItsOwnMemoryAndTimeWhenTheLibrarySetsThem() throws Exception {
        String library = "{ \"storage\": { \"filename\": \"" + CSuiteGuests.guest("storage")
                + "\", \"storage\": true, \"max_memory\": 64, \"max_request_memory\": 16, \"max_request_time\": 20,"
                + " \"max_storage_memory\": 128, \"max_storage_time\": 0.5 } }";
        try (Kvm kvm = Kvm.start(ProgramLibrary.parse(library, null))) {
            assertThat(body(kvm, "meminfo")).isEqualTo("request=64 storage=128");
            long start = System.nanoTime();
            Result loop = kvm.run("storage", Request.get("/").withArg("loop"));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(loop.failure()).hasValueSatisfying(f -> assertThat(f.kind()).isEqualTo(FailureKind.TIMEOUT));
            assertThat(millis).as("max_storage_time 0.5 s, not the request's 20 s").isLessThan(10_000);
        }
    }
}
