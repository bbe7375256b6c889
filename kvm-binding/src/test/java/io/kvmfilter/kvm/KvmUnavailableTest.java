package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Without access to /dev/kvm, start-up (not the first request) fails with an actionable message from the
 * real core. Runs a child JVM as the user nobody, which cannot open the root-only /dev/kvm of this machine;
 * needs root and setpriv, and is skipped otherwise (whatever REQUIRE_KVM says: it is not about KVM).
 */
@ExtendWith(KvmTestEnvironment.class)
class KvmUnavailableTest {

    @Test
    void startWithoutAccessToDevKvmSaysWhyAndHowToFix() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "skipped: needs root to drop to nobody");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "skipped: needs /usr/bin/setpriv");
        Path dir = Files.createTempDirectory("kvmfilter-unavailable");
        try {
            // Everything the child needs, readable by nobody: classes, JNA, Jackson, the native library.
            List<String> classpath = new ArrayList<>();
            for (Class<?> c : List.of(Kvm.class, UnavailableProbe.class, com.sun.jna.Native.class,
                    com.fasterxml.jackson.databind.ObjectMapper.class, com.fasterxml.jackson.core.JsonParser.class,
                    com.fasterxml.jackson.annotation.JsonProperty.class)) {
                classpath.add(copyCodeSource(c, dir).toString());
            }
            Path library = dir.resolve("libkvmfilter.so");
            Files.copy(nativeLibrary(), library);
            Path jnaTmp = Files.createDirectories(dir.resolve("jna"));
            makeReadable(dir);
            Files.setPosixFilePermissions(jnaTmp, PosixFilePermissions.fromString("rwxrwxrwx"));
            String java = ProcessHandle.current().info().command().orElse("java");
            Process child = new ProcessBuilder("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    java, "-cp", String.join(":", classpath), "-Djna.tmpdir=" + jnaTmp,
                    "-D" + NativeLoader.PATH_PROPERTY + "=" + library, UnavailableProbe.class.getName())
                    .redirectErrorStream(true).start();
            String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(output).as(output)
                    .contains("checkAvailable: KvmUnavailableException: /dev/kvm: permission denied for uid 65534")
                    .contains("start: KvmUnavailableException: /dev/kvm: permission denied")
                    .contains("--device /dev/kvm");
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static Path copyCodeSource(Class<?> c, Path dir) throws IOException, URISyntaxException {
        Path source = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path target = dir.resolve("cp" + source.toString().hashCode() + (Files.isDirectory(source) ? "" : ".jar"));
        if (Files.exists(target)) {
            return target;
        }
        if (Files.isDirectory(source)) {
            try (Stream<Path> files = Files.walk(source)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Path to = target.resolve(source.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        } else {
            Files.copy(source, target);
        }
        return target;
    }

    private static Path nativeLibrary() throws Exception {
        String property = System.getProperty(NativeLoader.PATH_PROPERTY);
        if (property != null) {
            Path p = Path.of(property);
            return Files.isDirectory(p) ? p.resolve(NativeLoader.FILE_NAME) : p;
        }
        return Path.of(KvmUnavailableTest.class.getClassLoader().getResource("linux-x86-64/libkvmfilter.so").toURI());
    }

    private static void makeReadable(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }
}
