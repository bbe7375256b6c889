package io.kvmfilter.filter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Test guests of the C suite (src-native/tests/guests), for tests of API calls through a container. */
final class CSuiteGuests {

    private CSuiteGuests() {
    }

    /** The guest NAME, built through the C suite's make rule when missing. */
    static Path guest(String name) throws IOException, InterruptedException {
        Path nativeDir = Files.isDirectory(Path.of("../src-native")) ? Path.of("../src-native") : Path.of("src-native");
        Path guest = nativeDir.resolve("build/tests/guests/" + name);
        if (!Files.isRegularFile(guest)) {
            Process make = new ProcessBuilder("make", "-C", nativeDir.toString(), "build/tests/guests/" + name)
                    .redirectErrorStream(true).start();
            String log = new String(make.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!make.waitFor(120, TimeUnit.SECONDS) || make.exitValue() != 0 || !Files.isRegularFile(guest)) {
                throw new IllegalStateException("the test guest " + guest + " could not be built with make:\n" + log);
            }
        }
        return guest.toAbsolutePath();
    }

    /** A program library file (in dir) with the guest NAME as program NAME. */
    static Path library(Path dir, String name) throws IOException, InterruptedException {
        Path file = dir.resolve(name + "-library.json");
        Files.writeString(file, "{ \"" + name + "\": { \"filename\": \"" + guest(name) + "\" } }");
        return file;
    }
}
