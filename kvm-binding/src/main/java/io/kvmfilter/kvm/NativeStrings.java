package io.kvmfilter.kvm;

import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Conversions between Java text and the C strings of kvmfilter.h (always UTF-8). */
final class NativeStrings {
    private NativeStrings() {
    }

    private static final byte[] EMPTY_C_STRING = {0};

    /** @return s as UTF-8 with a terminating NUL */
    static byte[] cString(String s) {
        if (s.isEmpty()) {
            return EMPTY_C_STRING;
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        byte[] c = new byte[utf8.length + 1];
        System.arraycopy(utf8, 0, c, 0, utf8.length);
        return c;
    }

    /** @return the NUL-terminated UTF-8 string at address, "" for NULL */
    static String fromCString(long address) {
        return address == 0 ? "" : new Pointer(address).getString(0, "UTF-8");
    }

    /** @return the len bytes at address decoded as UTF-8, "" for NULL or 0 */
    static String fromBytes(long address, long len) {
        if (address == 0 || len <= 0) {
            return "";
        }
        return new String(new Pointer(address).getByteArray(0, Math.toIntExact(len)), StandardCharsets.UTF_8);
    }

    /** @return the strings each followed by a NUL, back to back (the config's arguments/environment) */
    static byte[] packed(List<String> strings) {
        StringBuilder all = new StringBuilder();
        for (String s : strings) {
            all.append(s).append('\0');
        }
        return all.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** @return header lines joined by '\n' as the core expects ("Name: value" each), or null when none */
    static byte[] headerBlock(List<String> headers) {
        if (headers.isEmpty()) {
            return null;
        }
        return (String.join("\n", headers)).getBytes(StandardCharsets.UTF_8);
    }

    /** @return the "Name: value\n" lines of a response header block as a list, blank lines dropped */
    static List<String> headerLines(String block) {
        List<String> lines = new ArrayList<>();
        for (String line : block.split("\n")) {
            String trimmed = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (!trimmed.isEmpty()) {
                lines.add(trimmed);
            }
        }
        return lines;
    }

    /** @return the message of the last failure on this thread */
    static String lastError() {
        return fromCString(KvmNative.kvmf_last_error());
    }
}
