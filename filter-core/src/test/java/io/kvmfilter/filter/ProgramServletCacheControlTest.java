package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.CacheHint;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What a program's sys_set_cacheable becomes in ProgramServlet's Cache-Control. */
class ProgramServletCacheControlTest {

    private static CacheHint hint(boolean cacheable, long ttlMs, long graceMs) {
        return new CacheHint(cacheable, Duration.ofMillis(ttlMs), Duration.ofMillis(graceMs), Duration.ofMillis(2000));
    }

    @Test
    void anUncacheableAnswerIsNoStore() {
        assertThat(ProgramServlet.cacheControl(hint(false, 5000, 0))).contains("no-store");
    }

    @Test
    void ttlAndGraceBecomeMaxAgeAndStaleWhileRevalidateInWholeSecondsRoundedUp() {
        assertThat(ProgramServlet.cacheControl(hint(true, 5000, 1000)))
                .contains("max-age=5, stale-while-revalidate=1");
        assertThat(ProgramServlet.cacheControl(hint(true, 1500, 0))).contains("max-age=2");
        assertThat(ProgramServlet.cacheControl(hint(true, 1, 1))).contains("max-age=1, stale-while-revalidate=1");
    }

    @Test
    void aCacheableAnswerWithoutTtlSaysNothing() {
        assertThat(ProgramServlet.cacheControl(hint(true, 0, 1000))).isEmpty();
    }
}
