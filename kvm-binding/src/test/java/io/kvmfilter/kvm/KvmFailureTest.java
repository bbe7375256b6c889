package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every failure kind of the core comes back as a Result naming the step and kind, is counted exactly,
 * and leaves the program usable (the instance is reset).
 */
@ExtendWith(KvmTestEnvironment.class)
class KvmFailureTest {
    private static Kvm kvm;

    @BeforeAll
    static void start() {
        kvm = KvmTestEnvironment.startGuest("hostile", "\"max_request_time\": 0.5, \"max_memory\": 256,"
                + " \"max_request_memory\": 8, \"max_response_size\": 1");
    }

    @AfterAll
    static void stop() {
        if (kvm != null) {
            kvm.close();
        }
    }

    private static void assertFailure(String arg, FailureKind kind) {
        long before = kvm.stats().program("hostile").failures(kind);
        Result result = kvm.run("hostile", Request.get("/x").withArg(arg));
        assertThat(result.ok()).as("arg %s: %s", arg, result).isFalse();
        assertThat(result.failure()).hasValueSatisfying(f -> {
            assertThat(f.kind()).as("arg %s: %s", arg, f).isEqualTo(kind);
            assertThat(f.step()).isEqualTo("hostile");
            assertThat(f.message()).isNotBlank();
        });
        assertThat(kvm.stats().program("hostile").failures(kind)).isEqualTo(before + 1);
        // The instance was reset: the next request is answered normally.
        Result next = kvm.run("hostile", Request.get("/after").withArg("after:" + arg));
        assertThat(next.bodyAsString()).isEqualTo("/after|after:" + arg);
    }

    @Test
    void timeout() {
        long start = System.nanoTime();
        assertFailure("spin", FailureKind.TIMEOUT);
        assertThat(System.nanoTime() - start).as("stopped near max_request_time").isLessThan(5_000_000_000L);
    }

    @Test
    void memoryFault() {
        assertFailure("fault", FailureKind.MEMORY_FAULT);
    }

    @Test
    void cpuException() {
        assertFailure("ud2", FailureKind.CPU_EXCEPTION);
    }

    @Test
    void programExit() {
        assertFailure("exit", FailureKind.PROGRAM_EXIT);
    }

    @Test
    void noResponse() {
        assertFailure("none", FailureKind.NO_RESPONSE);
    }

    @Test
    void badApiCall() {
        assertFailure("badcall", FailureKind.BAD_API_CALL);
    }

    @Test
    void outOfMemoryWhenAnAllocationIsRefused() {
        assertFailure("oom:32", FailureKind.OUT_OF_MEMORY);
    }

    @Test
    void outOfMemoryWhenARequestWritesMoreThanItsLimit() {
        assertFailure("dirty:12", FailureKind.OUT_OF_MEMORY);
        assertThat(kvm.run("hostile", Request.get("/").withArg("dirty:4")).bodyAsString()).isEqualTo("dirtied");
    }

    @Test
    void responseTooLarge() {
        assertFailure("big:2048", FailureKind.RESPONSE_TOO_LARGE);
        assertThat(kvm.run("hostile", Request.get("/").withArg("big:512")).body()).hasSize(512 * 1024);
    }

    @Test
    void errorStatus() {
        Result result = kvm.run("hostile", Request.get("/").withArg("status:503"));
        assertThat(result.status()).isEqualTo(503);
        assertThat(result.bodyAsString()).isEqualTo("status 503");
        assertThat(result.failure()).hasValueSatisfying(f -> {
            assertThat(f.kind()).isEqualTo(FailureKind.ERROR_STATUS);
            assertThat(f.message()).contains("answered status 503", "threshold 400");
        });
    }

    @Test
    void bootFailure() {
        try (Kvm broken = KvmTestEnvironment.startGuest("broken", "\"main_arguments\": [\"fail-boot\"]")) {
            Result result = broken.run("broken", Request.get("/"));
            assertThat(result.failure()).hasValueSatisfying(f -> {
                assertThat(f.kind()).isEqualTo(FailureKind.BOOT_FAILED);
                assertThat(f.step()).isEqualTo("broken");
            });
            // The failure is remembered for a while instead of booting again on every request.
            assertThat(broken.run("broken", Request.get("/")).failure().orElseThrow().kind())
                    .isEqualTo(FailureKind.BOOT_FAILED);
            KvmStats.Program stats = broken.stats().program("broken");
            assertThat(stats.loadFailures()).isEqualTo(1);
            assertThat(stats.loads()).isZero();
            assertThat(stats.loaded()).isFalse();
        }
    }

    @Test
    void bootTimeout() {
        try (Kvm stuck = KvmTestEnvironment.startGuest("stuck", "\"main_arguments\": [\"spin-boot\"], \"max_boot_time\": 0.3")) {
            Result result = stuck.run("stuck", Request.get("/"));
            assertThat(result.failure().orElseThrow().kind()).isEqualTo(FailureKind.BOOT_FAILED);
        }
    }

    @Test
    void eagerStartFailureIsAConfigurationErrorAtStart() {
        assertThatThrownBy(() -> KvmTestEnvironment.startGuest("eager", "\"main_arguments\": [\"fail-boot\"], \"start\": true"))
                .isInstanceOf(KvmConfigurationException.class)
                .hasMessageContaining("program 'eager'")
                .hasMessageContaining("BOOT_FAILED");
    }

    @Test
    void missingFileIsABootFailureNamingThePath(@TempDir Path dir) {
        Path missing = dir.resolve("not-there");
        try (Kvm k = Kvm.start(ProgramLibrary.parse("{ \"m\": { \"filename\": \"" + missing + "\" } }", null))) {
            Failure f = k.run("m", Request.get("/")).failure().orElseThrow();
            assertThat(f.kind()).isEqualTo(FailureKind.BOOT_FAILED);
            assertThat(f.message()).contains(missing.toString(), "does not exist");
        }
    }

    @Test
    void sha256IsChecked() throws Exception {
        String actual = ProgramFiles.sha256(Files.readAllBytes(KvmTestEnvironment.guest()));
        try (Kvm good = KvmTestEnvironment.startGuest("sum", "\"sha256\": \"" + actual + "\"")) {
            assertThat(good.run("sum", Request.get("/")).ok()).isTrue();
        }
        try (Kvm bad = KvmTestEnvironment.startGuest("sum", "\"sha256\": \"" + "0".repeat(64) + "\"")) {
            Failure f = bad.run("sum", Request.get("/")).failure().orElseThrow();
            assertThat(f.kind()).isEqualTo(FailureKind.BOOT_FAILED);
            assertThat(f.message()).contains("SHA-256 " + actual, "expects " + "0".repeat(64));
        }
    }

    @Test
    void onErrorAnswersAfterACrash() {
        try (Kvm k = KvmTestEnvironment.startGuest("second", "\"main_arguments\": [\"on-error\"]")) {
            Result result = k.run("second", Request.get("/").withArg("fault"));
            assertThat(result.onErrorUsed()).isTrue();
            assertThat(result.failure().orElseThrow().kind()).isEqualTo(FailureKind.MEMORY_FAULT);
            assertThat(result.status()).isEqualTo(200);
            assertThat(result.bodyAsString()).startsWith("recovered: ");
            assertThat(k.stats().program("second").onErrorAnswers()).isEqualTo(1);
        }
    }

    @Test
    void closedKvmAnswersUnavailable() {
        Kvm k = KvmTestEnvironment.startGuest("gone", "");
        assertThat(k.run("gone", Request.get("/")).ok()).isTrue();
        k.close();
        k.close();
        Failure f = k.run("gone", Request.get("/")).failure().orElseThrow();
        assertThat(f.kind()).isEqualTo(FailureKind.UNAVAILABLE);
        assertThat(f.message()).contains("closed");
    }
}
