package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    private final AtomicLong now = new AtomicLong();
    private final CircuitBreaker breaker = new CircuitBreaker(3, Duration.ofSeconds(30), now::get);

    @Test
    void opensAfterTheThresholdOfFailuresInARow() {
        breaker.failed();
        breaker.failed();
        breaker.succeeded(); // a success in between: the count starts again
        breaker.failed();
        breaker.failed();
        assertThat(breaker.allow()).isTrue();
        breaker.failed();
        assertThat(breaker.isOpen()).isTrue();
        assertThat(breaker.allow()).isFalse();
        assertThat(breaker.pauses()).isEqualTo(1);
    }

    @Test
    void afterThePauseOneTrialRunDecides() {
        for (int i = 0; i < 3; i++) {
            breaker.failed();
        }
        now.addAndGet(Duration.ofSeconds(31).toNanos());
        assertThat(breaker.allow()).as("the trial").isTrue();
        assertThat(breaker.allow()).as("while the trial runs").isFalse();
        breaker.failed();
        assertThat(breaker.allow()).as("the trial failed: paused again").isFalse();
        assertThat(breaker.pauses()).isEqualTo(2);
        now.addAndGet(Duration.ofSeconds(31).toNanos());
        assertThat(breaker.allow()).isTrue();
        breaker.succeeded();
        assertThat(breaker.isOpen()).isFalse();
        assertThat(breaker.allow()).isTrue();
        assertThat(breaker.allow()).isTrue();
    }

    @Test
    void anAbandonedTrialLetsTheNextRequestTry() {
        for (int i = 0; i < 3; i++) {
            breaker.failed();
        }
        now.addAndGet(Duration.ofSeconds(31).toNanos());
        assertThat(breaker.allow()).isTrue();
        breaker.abandoned();
        assertThat(breaker.allow()).isTrue();
    }

    @Test
    void aThresholdOfZeroNeverPauses() {
        CircuitBreaker never = new CircuitBreaker(0, Duration.ofSeconds(30), now::get);
        for (int i = 0; i < 100; i++) {
            never.failed();
        }
        assertThat(never.allow()).isTrue();
    }
}
