package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The struct sizes in {@link NativeLayout} against src-native/include/kvmfilter.h: the core clears and fills whole
 * structs, so a struct that grew in the header but not here corrupts the Java side's memory.
 */
class NativeLayoutTest {

    /** @return the number of 8-byte fields of struct NAME in the header (every field there is 8 bytes) */
    private static long fields(String header, String name) {
        Matcher m = Pattern.compile("struct " + name + " \\{(.*?)\\n\\};", Pattern.DOTALL).matcher(header);
        assertThat(m.find()).as("struct %s in kvmfilter.h", name).isTrue();
        String body = m.group(1).replaceAll("(?s)/\\*.*?\\*/", "");
        long count = 0;
        for (String declaration : body.split(";")) {
            if (declaration.isBlank()) {
                continue;
            }
            count += declaration.contains("[KVMF_ERROR_KIND_COUNT]") ? NativeLayout.ERROR_KIND_COUNT : 1;
        }
        return count;
    }

    @Test
    void structSizesMatchTheHeader() throws Exception {
        Path path = Path.of("../src-native/include/kvmfilter.h");
        if (!Files.isRegularFile(path)) {
            path = Path.of("src-native/include/kvmfilter.h");
        }
        String header = Files.readString(path);
        assertThat(8 * fields(header, "kvmf_config")).isEqualTo(NativeLayout.CONFIG_SIZE);
        assertThat(8 * fields(header, "kvmf_response")).isEqualTo(NativeLayout.RESPONSE_SIZE);
        assertThat(8 * fields(header, "kvmf_program_stats")).isEqualTo(NativeLayout.PSTATS_SIZE);
        assertThat(8 * fields(header, "kvmf_instance_stats")).isEqualTo(NativeLayout.ISTATS_SIZE);
        assertThat(8 * fields(header, "kvmf_socket_result")).isEqualTo(NativeLayout.SOCKET_RESULT_SIZE);
        assertThat(header).contains("KVMF_LAYOUT_SOCKET_RESULT = " + KvmNative.LAYOUT_SOCKET_RESULT);
        assertThat(header).contains("KVMF_ERROR_KIND_COUNT = " + NativeLayout.ERROR_KIND_COUNT);
    }
}
