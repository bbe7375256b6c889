package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvmfilter.kvm.testing.CSuiteGuests;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * allowed_paths through a library: read-only host files a program opens (the C suite's "files" guest), named by
 * the library relative to its own directory, under the path the program uses; writing refused, unlisted paths
 * absent; bad entries refused when the library is read, a missing file when the program loads.
 */
@ExtendWith(KvmTestEnvironment.class)
class AllowedPathsTest {

    private static String body(Kvm kvm, String arg) {
        Result result = kvm.run("files", Request.get("/").withArg(arg));
        assertThat(result.ok()).as("%s: %s", arg, result).isTrue();
        return result.bodyAsString();
    }

    @Test
    void aProgramReadsTheFilesTheLibraryAllowsAndNoOther(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("secret.txt"), "super_secret!");
        Path other = Files.writeString(dir.resolve("other.txt"), "other file");
        Path library = Files.writeString(dir.resolve("library.json"), "{ \"files\": { \"filename\": \""
                + CSuiteGuests.guest("files") + "\", \"allowed_paths\": [ { \"real\": \"secret.txt\", \"virtual\": "
                + "\"/data/secret.txt\", \"prefix\": false }, \"" + other + "\" ] } }");
        try (Kvm kvm = Kvm.start(ProgramLibrary.load(library.toUri()))) {
            assertThat(body(kvm, "fopen:/data/secret.txt")).isEqualTo("super_secret!");
            assertThat(body(kvm, "read:" + other)).as("a path that is its own host file").isEqualTo("other file");
            assertThat(body(kvm, "write:/data/secret.txt")).as("read-only: EACCES").isEqualTo("errno=13");
            assertThat(body(kvm, "read:" + dir.resolve("secret.txt"))).as("the host path is not the program's")
                    .isEqualTo("errno=2");
            assertThat(body(kvm, "read:" + dir.resolve("library.json"))).isEqualTo("errno=2");
        }
    }

    @Test
    void entriesThatCannotWorkAreRefusedWithTheReason(@TempDir Path dir) throws Exception {
        String guest = CSuiteGuests.guest("files").toString();
        assertThatThrownBy(() -> ProgramLibrary.parse("{ \"files\": { \"filename\": \"" + guest + "\", \"allowed_paths\": "
                + "[ { \"real\": \"/srv/data\", \"virtual\": \"/data\", \"prefix\": true } ] } }", null))
                .isInstanceOf(KvmConfigurationException.class).hasMessageContaining("\"allowed_paths\"")
                .hasMessageContaining("\"prefix\" directories and \"writable\" files are not supported");
        assertThatThrownBy(() -> ProgramLibrary.parse("{ \"files\": { \"filename\": \"" + guest + "\", \"allowed_paths\": "
                + "[ { \"real\": \"/srv/a\", \"virtual\": \"data/a\" } ] } }", null))
                .isInstanceOf(KvmConfigurationException.class).hasMessageContaining("\"/path the program opens\"");
        assertThatThrownBy(() -> ProgramLibrary.parse("{ \"files\": { \"filename\": \"" + guest + "\", \"allowed_paths\": "
                + "[ \"/srv/a\", { \"real\": \"/srv/b\", \"virtual\": \"/srv/a\" } ] } }", null))
                .isInstanceOf(KvmConfigurationException.class).hasMessageContaining("names \"/srv/a\" twice");

        ProgramLibrary missing = ProgramLibrary.parse("{ \"files\": { \"filename\": \"" + guest + "\", \"allowed_paths\": "
                + "[ \"" + dir.resolve("absent.txt") + "\" ] } }", null);
        try (Kvm kvm = Kvm.start(missing)) {
            Result result = kvm.run("files", Request.get("/").withArg("read:/x"));
            assertThat(result.failure()).hasValueSatisfying(f -> assertThat(f.message())
                    .contains("allowed path \"" + dir.resolve("absent.txt") + "\" cannot be opened for reading"));
        }
    }
}
