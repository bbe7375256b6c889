package io.kvmfilter.kvm.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The C suite's test guests (src-native/tests/guests/NAME.c) for tests of API calls through Java and through a
 * container, built through the C suite's make rules when missing. Shared through kvm-binding's test jar.
 */
public final class CSuiteGuests {

    private CSuiteGuests() {
    }

    /**
     * The guest NAME, built with make when missing; the test is skipped (or fails, with {@code REQUIRE_KVM=1}) when
     * it cannot be built.
     */
    public static Path guest(String name) throws IOException, InterruptedException {
        Path nativeDir = Files.isDirectory(Path.of("../src-native")) ? Path.of("../src-native") : Path.of("src-native");
        Path guest = nativeDir.resolve("build/tests/guests/" + name);
        if (!Files.isRegularFile(guest)) {
            Process make = new ProcessBuilder("make", "-C", nativeDir.toString(), "build/tests/guests/" + name)
                    .redirectErrorStream(true).start();
            String log = new String(make.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!make.waitFor(120, TimeUnit.SECONDS) || make.exitValue() != 0 || !Files.isRegularFile(guest)) {
                String reason = "the test guest " + guest + " could not be built with make:\n" + log;
                if (KvmRequirement.required()) {
                    fail(reason);
                }
                Assumptions.abort(reason);
            }
        }
        return guest.toAbsolutePath();
    }

    /** A program library file in {@code dir} holding the guest NAME as the program NAME. */
    public static Path library(Path dir, String name) throws IOException, InterruptedException {
        return library(dir, name, "");
    }

    /**
     * The same with more settings for the program, as JSON members (e.g. {@code "\"concurrency\": 2"}); the file is
     * named after the program.
     */
    public static Path library(Path dir, String name, String settings) throws IOException, InterruptedException {
        Path file = dir.resolve(name + "-library.json");
        Files.writeString(file, "{ \"" + name + "\": { \"filename\": \"" + guest(name) + "\""
                + (settings.isEmpty() ? "" : ", " + settings) + " } }");
        return file;
    }
}
