package io.kvmfilter.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvmfilter.kvm.testing.KvmRequirement;
import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Request;
import io.kvmfilter.kvm.Result;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The meters of real sandboxes running the bundled minify program, read the way Prometheus reads them. */
class KvmMetricsTest {

    private static final byte[] CSS = "a  {  color :  red ;  }\n\n/* gone */\nb { margin : 0 }\n"
            .getBytes(StandardCharsets.UTF_8);

    @Test
    void stepsTimersAndGaugesOfARealProgramAppearInPrometheusText() {
        KvmRequirement.require("minify");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (KvmMetrics metrics = new KvmMetrics()) {
            metrics.bindTo(registry);
            try (Kvm kvm = Kvm.start(ProgramLibrary.bundled(), "metrics-test")) {
                for (int i = 0; i < 3; i++) {
                    Result result = kvm.run("minify", Request.post("/site.css", "text/css", CSS));
                    assertThat(result.ok()).as(result.toString()).isTrue();
                }
                String text = registry.scrape();
                String minify = "kvm=\"metrics-test\",outcome=\"ok\",program=\"minify\"";
                assertThat(text)
                        .contains("kvmfilter_steps_total{" + minify + "} 3")
                        .contains("kvmfilter_step_duration_seconds_count{" + minify + "} 3")
                        .containsPattern("kvmfilter_step_duration_seconds_bucket\\{" + minify + ",le=\"[0-9.]+\"} 3")
                        .contains("kvmfilter_queue_wait_seconds_count{kvm=\"metrics-test\",program=\"minify\"} 3")
                        .contains("kvmfilter_program_loaded{kvm=\"metrics-test\",program=\"minify\"} 1")
                        .contains("kvmfilter_program_loaded{kvm=\"metrics-test\",program=\"webp\"} 0")
                        .containsPattern("kvmfilter_instances\\{kvm=\"metrics-test\",program=\"minify\"} [1-9]")
                        .containsPattern("kvmfilter_memory_frozen_bytes\\{kvm=\"metrics-test\",program=\"minify\"} [1-9]")
                        .contains("kvmfilter_bytes_in_bytes_total{kvm=\"metrics-test\",program=\"minify\"} "
                                + (3.0 * CSS.length));
            }
            assertThat(registry.scrape()).as("a closed sandbox's meters are removed").doesNotContain("metrics-test");
        }
    }

    @Test
    void aBinderBoundAfterTheSandboxStartedFindsIt() {
        KvmRequirement.require("minify");
        try (Kvm kvm = Kvm.start(ProgramLibrary.bundled(), "metrics-late")) {
            KvmMetrics metrics = new KvmMetrics();
            try {
                SimpleMeterRegistry registry = new SimpleMeterRegistry();
                metrics.bindTo(registry);
                metrics.bindTo(registry); // again: must not count twice
                assertThat(registry.find("kvmfilter.instances").tag(KvmMetrics.TAG_KVM, "metrics-late")
                        .tag(KvmMetrics.TAG_PROGRAM, "minify").gauge()).isNotNull();
                assertThat(kvm.run("minify", Request.post("/a.css", "text/css", CSS)).ok()).isTrue();
                assertThat(registry.get("kvmfilter.steps").tag(KvmMetrics.TAG_KVM, "metrics-late")
                        .tag(KvmMetrics.TAG_OUTCOME, "ok").counter().count()).isEqualTo(1.0);

                metrics.close();
                assertThat(kvm.run("minify", Request.post("/b.css", "text/css", CSS)).ok()).isTrue();
                assertThat(registry.find("kvmfilter.steps").meters()).as("closed: nothing registered").isEmpty();
                assertThat(registry.getMeters()).isEmpty();
            } finally {
                metrics.close(); // idempotent
            }
        }
    }

    @Test
    void cacheTiersBecomeMetersUntilRemoved() {
        AtomicLong hits = new AtomicLong(7);
        CacheTierStats memory = new CacheTierStats() {
            @Override public long hits() { return hits.get(); }
            @Override public long misses() { return 3; }
            @Override public long coalescedWaits() { return 2; }
            @Override public long negativeHits() { return 1; }
            @Override public long evictions() { return 4; }
            @Override public long entries() { return 5; }
            @Override public long sizeBytes() { return 4096; }
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (KvmMetrics metrics = new KvmMetrics()) {
            metrics.addCacheTier("memory", memory);
            metrics.bindTo(registry);
            hits.set(9);
            assertThat(registry.get("kvmfilter.cache.gets").tags("tier", "memory", "result", "hit").functionCounter()
                    .count()).isEqualTo(9.0);
            assertThat(registry.get("kvmfilter.cache.gets").tags("tier", "memory", "result", "coalesced")
                    .functionCounter().count()).isEqualTo(2.0);
            assertThat(registry.get("kvmfilter.cache.size").tag("tier", "memory").gauge().value()).isEqualTo(4096.0);
            assertThatThrownBy(() -> metrics.addCacheTier("memory", memory))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'memory' was added already");

            metrics.removeCacheTier("memory");
            assertThat(registry.find("kvmfilter.cache.gets").meters()).isEmpty();
        }
    }
}
