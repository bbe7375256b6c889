package io.kvmfilter.kvm;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit extension for tests that need the real native core and KVM, plus the test guest programs.
 * Without them the tests are skipped with the reason, except when the environment variable
 * REQUIRE_KVM=1 is set: then they fail, so CI on a KVM machine cannot silently run nothing.
 *
 * <p>Where things are looked for: the native library as {@link NativeLoader} does, after defaulting
 * kvmfilter.library.path to src-native/build/lib of this checkout when that file exists; test guests in
 * the directory of the system property kvmfilter.testGuests (default ../src-native/build/tests/guests),
 * else built with gcc from src/test/guests into target/test-guests.
 */
public final class KvmTestEnvironment implements BeforeAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        requireKvm();
    }

    /** @return true when REQUIRE_KVM=1: missing KVM pieces fail the tests instead of skipping them */
    static boolean kvmRequired() {
        return "1".equals(System.getenv("REQUIRE_KVM"));
    }

    /** Skips the current test (or fails it under REQUIRE_KVM=1) with the reason. */
    static void skipOrFail(String reason) {
        if (kvmRequired()) {
            fail("REQUIRE_KVM=1 but " + reason);
        }
        Assumptions.abort("skipped: " + reason + " (set REQUIRE_KVM=1 to make this a failure)");
    }

    /** Makes sure the native library loads and KVM is usable, or skips/fails. */
    static void requireKvm() {
        defaultLibraryPath();
        try {
            Kvm.checkAvailable();
        } catch (KvmUnavailableException e) {
            skipOrFail("the sandbox is not usable here: " + e.getMessage());
        }
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

    private static synchronized Path guest(String name, int version) {
        Path prebuilt = Path.of(System.getProperty("kvmfilter.testGuests", "../src-native/build/tests/guests"), name);
        if (Files.isRegularFile(prebuilt)) {
            return prebuilt.toAbsolutePath();
        }
        Path source = Path.of("src/test/guests/jt-guest.c");
        if (!Files.isRegularFile(source)) {
            source = Path.of("kvm-binding/src/test/guests/jt-guest.c");
        }
        Path output = Path.of("target/test-guests", name).toAbsolutePath();
        try {
            if (Files.isRegularFile(output) && Files.getLastModifiedTime(output).compareTo(
                    Files.getLastModifiedTime(source)) >= 0) {
                return output;
            }
            Files.createDirectories(output.getParent());
            List<String> command = new ArrayList<>(List.of("gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-static",
                    "-nostdlib", "-ffreestanding", "-fno-stack-protector", "-fno-pie", "-no-pie", "-fno-builtin",
                    "-DGUEST_VERSION=" + version, "-o", output.toString(), source.toString()));
            Process gcc = new ProcessBuilder(command).redirectErrorStream(true).start();
            String log = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!gcc.waitFor(60, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
                skipOrFail("the test guest " + name + " could not be built: " + String.join(" ", command) + "\n" + log);
            }
            return output;
        } catch (IOException e) {
            skipOrFail("the test guest " + name + " is not in " + prebuilt.toAbsolutePath()
                    + " and gcc could not build it from " + source + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted while building the test guest");
        }
        throw new AssertionError("unreachable");
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
