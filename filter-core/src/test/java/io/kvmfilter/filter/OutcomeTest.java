package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The outcome's text is what the diagnostic header and the counters show. */
class OutcomeTest {

    @Test
    void textOfEachKind() {
        assertThat(Outcome.applied("webp").text()).isEqualTo("applied=webp");
        assertThat(Outcome.cacheHit("avif").text()).isEqualTo("cache-hit=avif");
        assertThat(Outcome.fallback("webp", "timeout").text()).isEqualTo("fallback=webp:timeout");
        assertThat(Outcome.untouched(true, "too-large").text()).isEqualTo("skipped=too-large");
        assertThat(Outcome.untouched(false, "no-rule").text()).isEqualTo("passed=no-rule");
    }

    @Test
    void aKindTakesExactlyItsParts() {
        assertThatThrownBy(() -> new Outcome(Outcome.Kind.APPLIED, "webp", "why"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Outcome(Outcome.Kind.FALLBACK, null, "timeout"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Outcome(Outcome.Kind.SKIPPED, "webp", "too-large"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
