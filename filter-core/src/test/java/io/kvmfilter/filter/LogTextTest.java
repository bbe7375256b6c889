package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Program and client text in log lines: no raw control characters, bounded length. */
class LogTextTest {

    @Test
    void lineBreaksAndControlsAreEscaped() {
        assertThat(LogText.escape("bad JPEG\r\n2026-12-02 WARNING forged line\u0000\u001b[31m"))
                .isEqualTo("bad JPEG\\r\\n2026-12-02 WARNING forged line\\u0000\\u001b[31m");
        assertThat(LogText.escape("a\\nb")).as("a backslash stays distinguishable").isEqualTo("a\\\\nb");
        assertThat(LogText.escape("line\u2028separator\u0085")).isEqualTo("line\\u2028separator\\u0085");
    }

    @Test
    void plainTextIsUnchangedAndNullStaysNull() {
        String plain = "variant webp failed: décodeur ✓";
        assertThat(LogText.escape(plain)).isSameAs(plain);
        assertThat(LogText.escape(null)).isNull();
    }

    @Test
    void longTextIsCut() {
        String escaped = LogText.escape("x".repeat(LogText.MAX_LENGTH + 500));
        assertThat(escaped).startsWith("x".repeat(LogText.MAX_LENGTH)).endsWith("... (500 more characters)");
    }
}
