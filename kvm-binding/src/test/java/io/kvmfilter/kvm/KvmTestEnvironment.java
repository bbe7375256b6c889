package io.kvmfilter.kvm;

import io.kvmfilter.kvm.testing.KvmRequirement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit extension for tests that need the real native core and KVM, plus the test guest programs.
 * Without them the tests are skipped with the reason, except when the environment variable
 * REQUIRE_KVM=1 is set: then they fail, so CI on a KVM machine cannot silently run nothing.
 *
 * <p>Where things are looked for: the native library as {@link NativeLoader} does, after defaulting
 * kvmfilter.library.path to src-native/build/lib of this checkout when that file exists; the test guest in
 * the directory of the system property kvmfilter.testGuests (target/test-guests, where Maven has make build
 * it from src/test/guests before the tests). The skip-or-fail rule is {@link KvmRequirement}'s.
 */
public final class KvmTestEnvironment implements BeforeAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        requireKvm();
    }

    /** Skips the current test (or fails it under REQUIRE_KVM=1) with the reason. */
    static void skipOrFail(String reason) {
        KvmRequirement.skipOrFail(reason);
    }

    /** Makes sure the native library loads and KVM is usable, or skips/fails. */
    static void requireKvm() {
        defaultLibraryPath();
        KvmRequirement.require();
    }

    private static void defaultLibraryPath() {
        if (System.getProperty(NativeLoader.PATH_PROPERTY) != null
                || KvmTestEnvironment.class.getClassLoader().getResource("linux-x86-64/libkvmfilter.so") != null) {
            return;
        }
        for (String candidate : List.of("../src-native/build/lib/libkvmfilter.so", "src-native/build/lib/libkvmfilter.so")) {
            if (Files.isRegularFile(Path.of(candidate))) {
                System.setProperty(NativeLoader.PATH_PROPERTY, Path.of(candidate).toAbsolutePath().normalize().toString());
                return;
            }
        }
    }

    /** The test guest built from src/test/guests/jt-guest.c (see that file for its behaviours). */
    static Path guest() {
        return guest("jt-guest", 1);
    }

    /** The same guest answering "v2" to the arg "version" (for reload tests). */
    static Path guestVersion2() {
        return guest("jt-guest-v2", 2);
    }

    private static Path guest(String name, int version) {
        Path built = Path.of(System.getProperty("kvmfilter.testGuests", "target/test-guests"), name);
        if (!Files.isRegularFile(built)) {
            skipOrFail("the test guest " + built.toAbsolutePath() + " (version " + version + ") was not built:"
                    + " Maven builds it with make -C kvm-binding/src/test/guests before the tests");
        }
        return built.toAbsolutePath();
    }

    /** @return a library document of one program on the test guest with extra settings (JSON members) */
    static String guestLibrary(String program, String settings) {
        return "{ \"" + program + "\": { \"filename\": \"" + guest() + "\"" + (settings.isBlank() ? "" : ", " + settings)
                + " } }";
    }

    /** @return a started Kvm of one program on the test guest */
    static Kvm startGuest(String program, String settings) {
        return Kvm.start(ProgramLibrary.parse(guestLibrary(program, settings), null));
    }
}
