package io.kvmfilter.kvm.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmUnavailableException;
import org.junit.jupiter.api.Assumptions;

/**
 * The one guard of every module's tests that need programs to really run in KVM: they are skipped with the
 * reason when KVM, the native library or a bundled program is missing, and fail instead when the environment
 * variable {@code REQUIRE_KVM=1} is set (as CI sets it), so a KVM machine cannot silently run nothing.
 *
 * <p>Shared through kvm-binding's test jar ({@code <type>test-jar</type>}, which holds only this package, with
 * {@link CSuiteGuests}).
 */
public final class KvmRequirement {

    /** Where the bundled programs are in kvm-binding's jar. */
    private static final String PROGRAMS = "io/kvmfilter/programs/";

    private KvmRequirement() {
    }

    /** @return true when REQUIRE_KVM=1: missing KVM pieces fail the tests instead of skipping them */
    public static boolean required() {
        return "1".equals(System.getenv("REQUIRE_KVM"));
    }

    /**
     * Requires the sandbox and the named bundled programs (none: the sandbox only); skips the test, or fails it
     * under REQUIRE_KVM=1, naming what is missing.
     */
    public static void require(String... programs) {
        try {
            Kvm.checkAvailable();
        } catch (KvmUnavailableException | LinkageError e) {
            skipOrFail("the sandbox is not usable here: " + e.getMessage());
        }
        for (String program : programs) {
            if (KvmRequirement.class.getClassLoader().getResource(PROGRAMS + program) == null) {
                skipOrFail("the bundled program '" + program + "' is not in kvm-binding's jar"
                        + " (build it: make -C src-native programs)");
            }
        }
    }

    /** Skips the current test (or fails it under REQUIRE_KVM=1) with the reason. */
    public static void skipOrFail(String reason) {
        if (required()) {
            fail("REQUIRE_KVM=1 but " + reason);
        }
        Assumptions.abort("skipped: " + reason + " (set REQUIRE_KVM=1 to make this a failure)");
    }
}
