package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The messages of a native library that cannot be found or loaded. Pure Java: never binds anything. */
class NativeLoaderTest {
    private String saved;

    @BeforeEach
    void save() {
        saved = System.getProperty(NativeLoader.PATH_PROPERTY);
    }

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty(NativeLoader.PATH_PROPERTY);
        } else {
            System.setProperty(NativeLoader.PATH_PROPERTY, saved);
        }
    }

    @Test
    void missingOverrideNamesThePropertyAndThePath(@TempDir Path dir) {
        System.setProperty(NativeLoader.PATH_PROPERTY, dir.resolve("nowhere/libkvmfilter.so").toString());
        assertThatThrownBy(NativeLoader::find)
                .isInstanceOf(KvmUnavailableException.class)
                .hasMessageContaining("system property kvmfilter.library.path=")
                .hasMessageContaining(dir.resolve("nowhere/libkvmfilter.so") + ", which does not exist");
    }

    @Test
    void directoryOverrideLooksForTheFileInside(@TempDir Path dir) {
        System.setProperty(NativeLoader.PATH_PROPERTY, dir.toString());
        assertThatThrownBy(NativeLoader::find)
                .isInstanceOf(KvmUnavailableException.class)
                .hasMessageContaining(dir.resolve("libkvmfilter.so") + ", which does not exist");
    }

    @Test
    void aFileThatIsNotALibraryIsNamed(@TempDir Path dir) throws Exception {
        Path notALibrary = Files.writeString(dir.resolve("libkvmfilter.so"), "not an ELF");
        System.setProperty(NativeLoader.PATH_PROPERTY, notALibrary.toString());
        assertThatThrownBy(NativeLoader::find)
                .isInstanceOf(KvmUnavailableException.class)
                .hasMessageContaining("Native library " + notALibrary + " (from system property kvmfilter.library.path)"
                        + " cannot be loaded");
    }
}
