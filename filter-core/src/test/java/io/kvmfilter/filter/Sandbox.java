package io.kvmfilter.filter;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmUnavailableException;
import java.util.List;

/**
 * Guards tests that need the real sandbox: they skip with the reason when KVM, the native library or the bundled
 * programs are missing, and fail instead when REQUIRE_KVM=1 (as CI sets it).
 */
final class Sandbox {

    /** The programs the sandbox tests run, bundled in kvm-binding's jar under io/kvmfilter/programs/. */
    static final List<String> PROGRAMS = List.of("webp", "avif", "minify");

    private Sandbox() {
    }

    static void require() {
        String missing = null;
        try {
            Kvm.checkAvailable();
        } catch (KvmUnavailableException | LinkageError e) {
            missing = "the sandbox is not usable here: " + e.getMessage();
        }
        if (missing == null) {
            for (String program : PROGRAMS) {
                if (Sandbox.class.getClassLoader().getResource("io/kvmfilter/programs/" + program) == null) {
                    missing = "the bundled program '" + program + "' is not in kvm-binding's jar"
                            + " (build it: make -C src-native programs)";
                    break;
                }
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
