package io.kvmfilter.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.testing.KvmRequirement;
import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Request;
import io.kvmfilter.kvm.Result;
import io.kvmfilter.store.ResultKey;
import io.kvmfilter.store.ResultStore;
import io.kvmfilter.store.StoredResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void everyOpenResultStoreHasMetersPerTierUntilItCloses(@TempDir Path dir) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ResultKey key = new ResultKey("webp", "image/png", "digest-1", "/a.png");
        try (KvmMetrics metrics = new KvmMetrics()) {
            ResultStore before = ResultStore.builder().name("opened-before").build();
            metrics.bindTo(registry);
            try (ResultStore store = ResultStore.builder().name("metrics-store").directory(dir, 1 << 20).build()) {
                StoredResult webp = StoredResult.success(new byte[1000], "image/webp");
                store.get(key, () -> CompletableFuture.completedFuture(webp)).get(); // a miss: runs, then stored
                store.get(key, () -> CompletableFuture.completedFuture(webp)).get(); // a hit in memory

                String text = registry.scrape();
                String memory = "store=\"metrics-store\",tier=\"memory\"";
                String disk = "store=\"metrics-store\",tier=\"disk\"";
                assertThat(text)
                        .contains("kvmfilter_cache_gets_total{result=\"hit\"," + memory + "} 1")
                        .contains("kvmfilter_cache_gets_total{result=\"miss\"," + memory + "} 1")
                        .contains("kvmfilter_cache_gets_total{result=\"miss\"," + disk + "} 1")
                        .contains("kvmfilter_cache_puts_total{" + disk + "} 1")
                        .contains("kvmfilter_cache_entries{" + memory + "} 1")
                        .contains("kvmfilter_cache_available{" + disk + "} 1")
                        .containsPattern("kvmfilter_cache_size_bytes\\{" + disk + "} [1-9][0-9]{3,}")
                        .as("a store opened before bindTo is followed too")
                        .contains("kvmfilter_cache_entries{store=\"opened-before\",tier=\"memory\"} 0");
            }
            before.close();
            assertThat(registry.scrape()).as("a closed store's meters are removed").doesNotContain("kvmfilter_cache");
        }
    }
}
