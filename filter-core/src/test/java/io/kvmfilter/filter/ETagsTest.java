package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ETagsTest {

    @Test
    void suffixKeepsStrengthUnlessWeakIsAsked() {
        assertThat(ETags.withSuffix("\"abc\"", "webp", false)).isEqualTo("\"abc--webp\"");
        assertThat(ETags.withSuffix("W/\"abc\"", "webp", false)).isEqualTo("W/\"abc--webp\"");
        assertThat(ETags.withSuffix("\"abc\"", "minify", true)).isEqualTo("W/\"abc--minify\"");
        assertThat(ETags.withSuffix("not-quoted", "webp", false)).isEqualTo("not-quoted");
    }

    @Test
    void suffixIsFoundAndRemoved() {
        assertThat(ETags.variantOf("W/\"123-456--webp\"")).isEqualTo("webp");
        assertThat(ETags.variantOf("\"abc\"")).isNull();
        assertThat(ETags.withoutSuffix("W/\"abc--minify\"", "minify")).isEqualTo("W/\"abc\"");
        assertThat(ETags.withoutSuffix("\"abc--avif\"", "webp")).isEqualTo("\"abc--avif\"");
    }

    @Test
    void weakComparisonIgnoresW() {
        assertThat(ETags.weakMatch("W/\"a\"", "\"a\"")).isTrue();
        assertThat(ETags.weakMatch("\"a\"", "\"b\"")).isFalse();
    }
}
