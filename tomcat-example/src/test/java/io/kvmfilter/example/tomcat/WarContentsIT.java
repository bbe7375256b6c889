package io.kvmfilter.example.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;

/**
 * The two wars carry what a user deploys: the filter's jars in WEB-INF/lib (kvm-binding's jar holds the native
 * library and the programs), and only the MicroProfile Config war has MicroProfile Config and its properties.
 */
class WarContentsIT {

    private static final List<String> FILTER_JARS = List.of("filter-core-", "kvm-binding-", "jna-", "jackson-databind-");
    private static final List<String> MPCONFIG_JARS = List.of("microprofile-config-api-", "smallrye-config-");
    private static final String PROPERTIES = "WEB-INF/classes/META-INF/microprofile-config.properties";

    @Test
    void plainWarHasTheFilterAndNoMicroProfileConfig() throws IOException {
        try (ZipFile war = new ZipFile(EmbeddedTomcat.WAR.toFile())) {
            List<String> libs = libs(war);
            FILTER_JARS.forEach(jar -> assertThat(libs).as("WEB-INF/lib").anyMatch(name -> name.startsWith(jar)));
            MPCONFIG_JARS.forEach(jar -> assertThat(libs).as("WEB-INF/lib").noneMatch(name -> name.startsWith(jar)));
            assertThat(war.getEntry(PROPERTIES)).isNull();
            assertThat(text(war, "WEB-INF/web.xml")).contains("<param-name>rules</param-name>");
            assertKvmBindingCarriesNativeCode(war, libs);
        }
    }

    @Test
    void mpconfigWarHasMicroProfileConfigAndNoInitParams() throws IOException {
        try (ZipFile war = new ZipFile(EmbeddedTomcat.MPCONFIG_WAR.toFile())) {
            List<String> libs = libs(war);
            FILTER_JARS.forEach(jar -> assertThat(libs).as("WEB-INF/lib").anyMatch(name -> name.startsWith(jar)));
            MPCONFIG_JARS.forEach(jar -> assertThat(libs).as("WEB-INF/lib").anyMatch(name -> name.startsWith(jar)));
            assertThat(text(war, PROPERTIES)).contains("kvmfilter.images.rules").contains("kvmfilter.text.rules");
            assertThat(text(war, "WEB-INF/web.xml")).doesNotContain("<init-param>");
        }
    }

    private static void assertKvmBindingCarriesNativeCode(ZipFile war, List<String> libs) throws IOException {
        String binding = libs.stream().filter(name -> name.startsWith("kvm-binding-")).findFirst().orElseThrow();
        Path copy = Path.of(EmbeddedTomcat.BUILD.toString(), binding);
        try (var in = war.getInputStream(war.getEntry("WEB-INF/lib/" + binding))) {
            Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
        }
        try (ZipFile jar = new ZipFile(copy.toFile())) {
            assertThat(jar.getEntry("linux-x86-64/libkvmfilter.so")).as("native library in " + binding).isNotNull();
            for (String program : List.of("webp", "avif")) {
                assertThat(jar.getEntry("io/kvmfilter/programs/" + program)).as(program + " in " + binding).isNotNull();
            }
        }
    }

    private static List<String> libs(ZipFile war) {
        return war.stream().map(ZipEntry::getName).filter(name -> name.startsWith("WEB-INF/lib/") && name.endsWith(".jar"))
                .map(name -> name.substring("WEB-INF/lib/".length())).toList();
    }

    private static String text(ZipFile war, String entry) throws IOException {
        ZipEntry found = war.getEntry(entry);
        assertThat(found).as(entry + " in the war").isNotNull();
        try (var in = war.getInputStream(found)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
