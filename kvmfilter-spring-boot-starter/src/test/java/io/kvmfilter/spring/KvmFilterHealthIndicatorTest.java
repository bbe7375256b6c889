package io.kvmfilter.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.filter.KvmFilter;
import io.kvmfilter.filter.KvmFilterConfig;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/** The health component without a running sandbox: DOWN, saying why (the UP case runs in KvmFilterStarterTest). */
class KvmFilterHealthIndicatorTest {

    @Test
    void isDownWithoutAFilter() {
        Health health = new KvmFilterHealthIndicator(List::of).health(true);

        assertThat(health.getStatus()).isEqualTo(Status.DOWN);
        assertThat(health.getDetails()).containsEntry("sandbox", "unavailable")
                .containsEntry("reason", "no KvmFilter is registered");
    }

    @Test
    void isDownWhileTheFilterHasNoSandbox() {
        KvmFilter notStarted = new KvmFilter(KvmFilterConfig.builder().build());

        Health health = new KvmFilterHealthIndicator(() -> List.of(notStarted)).health(true);

        assertThat(health.getStatus()).isEqualTo(Status.DOWN);
        assertThat(health.getDetails()).containsEntry("sandbox", "unavailable");
        assertThat(health.getDetails().get("reason").toString()).isNotBlank();
    }
}
