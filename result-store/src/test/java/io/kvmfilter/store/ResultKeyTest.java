package io.kvmfilter.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ResultKeyTest {

    @Test
    void keysDifferingInAnyPartHaveDifferentCanonicalFormsAndIds() {
        ResultKey key = new ResultKey("webp:q80", "image/png", "abc", "");
        assertThat(new ResultKey("webp:q80", "image/png", "abc", "").id()).isEqualTo(key.id());
        for (ResultKey other : new ResultKey[] {
            new ResultKey("webp:q81", "image/png", "abc", ""),
            new ResultKey("webp:q80", "image/jpeg", "abc", ""),
            new ResultKey("webp:q80", "image/png", "abd", ""),
            new ResultKey("webp:q80", "image/png", "abc", "/a?w=100"),
        }) {
            assertThat(other).isNotEqualTo(key);
            assertThat(other.canonical()).isNotEqualTo(key.canonical());
            assertThat(other.id()).isNotEqualTo(key.id());
        }
    }

    @Test
    void movingTextBetweenPartsChangesTheCanonicalForm() {
        // Plain concatenation would make these two the same string.
        ResultKey a = new ResultKey("x\n1:y", "t", "b", "");
        ResultKey b = new ResultKey("x", "y\n1:t", "b", "");
        assertThat(a.canonical()).isNotEqualTo(b.canonical());
    }
}
