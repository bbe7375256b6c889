package io.kvmfilter.micrometer;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmUnavailableException;

/**
 * Guards tests that need programs to really run: they skip with the reason when KVM, the native library or a
 * bundled program is missing, and fail instead when REQUIRE_KVM=1 (as CI sets it).
 */
final class KvmRequirement {

    private KvmRequirement() {
    }

    /** Requires the sandbox and the named bundled programs (none: the sandbox only). */
    static void require(String... programs) {
        String missing = null;
        try {
            Kvm.checkAvailable();
        } catch (KvmUnavailableException | LinkageError e) {
            missing = "the sandbox is not usable here: " + e.getMessage();
        }
        for (String program : programs) {
            if (missing == null
                    && KvmRequirement.class.getClassLoader().getResource("io/kvmfilter/programs/" + program) == null) {
                missing = "the bundled program '" + program + "' is not in kvm-binding's jar";
            }
        }
        if (missing != null) {
            if ("1".equals(System.getenv("REQUIRE_KVM"))) {
                fail("REQUIRE_KVM=1 but " + missing);
            }
            assumeTrue(false, "skipped: " + missing);
        }
    }
}
