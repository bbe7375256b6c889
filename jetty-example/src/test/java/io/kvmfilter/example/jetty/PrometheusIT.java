package io.kvmfilter.example.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.kvm.testing.KvmRequirement;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --prometheus PATH}: the packaged server's metrics as Prometheus text, and only when asked for. */
class PrometheusIT {

    @TempDir
    Path temp;

    @Test
    void servesTheSandboxMetricsOfRealConversionsAtTheGivenPath() throws Exception {
        KvmRequirement.require("webp");
        try (JarServer server = JarServer.start(temp, "--port", "0", "--prometheus", "/metrics")) {
            for (int i = 0; i < 2; i++) {
                HttpResponse<byte[]> image = server.get("grace_hopper.jpg", "Accept", "image/webp");
                assertThat(image.headers().firstValue("X-KVM-Transform")).as(server::log).hasValue("applied=webp");
            }

            HttpResponse<byte[]> metrics = server.get("metrics");

            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("text/plain").contains("version=0.0.4"));
            String text = new String(metrics.body(), StandardCharsets.UTF_8);
            // The second request is answered from the filter's result cache: one program run.
            String mainWebp = "kvm=\"filter-[^\"]*main-[0-9]+\",outcome=\"ok\",program=\"webp\"";
            assertThat(text)
                    .containsPattern("kvmfilter_steps_total\\{" + mainWebp + "} 1\\.0")
                    .containsPattern("kvmfilter_step_duration_seconds_bucket\\{" + mainWebp + ",le=\"\\+Inf\"} 1")
                    .containsPattern("kvmfilter_queue_wait_seconds_count\\{kvm=\"filter-[^\"]*main-[0-9]+\","
                            + "program=\"webp\"} 1")
                    .containsPattern("kvmfilter_instances\\{kvm=\"filter-[^\"]*main-[0-9]+\",program=\"webp\"} [1-9]")
                    .as("the filter's result store, whose memory tier answered the second request")
                    .containsPattern("kvmfilter_cache_gets_total\\{result=\"hit\",store=\"[^\"]+\","
                            + "tier=\"memory\"} 1\\.0")
                    .containsPattern("kvmfilter_cache_entries\\{store=\"[^\"]+\",tier=\"memory\"} [1-9]")
                    .as("what the filter served: two conversions, the second from the result store")
                    .containsPattern("kvmfilter_responses_total\\{filter=\"ROOT-main\",outcome=\"applied\","
                            + "reason=\"none\",variant=\"webp\"} 2\\.0")
                    .containsPattern("kvmfilter_responses_total\\{filter=\"ROOT-main\",outcome=\"cache-hit\","
                            + "reason=\"none\",variant=\"webp\"} 1\\.0")
                    .contains("jvm_memory_used_bytes{");
        }
    }

    @Test
    void isNotServedUnlessAskedFor() throws Exception {
        try (JarServer server = JarServer.start(temp, "--port", "0")) {
            assertThat(server.get("metrics").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void rejectsAPathThatIsNotOneExactPath() throws Exception {
        Path log = Files.createTempFile(temp, "stderr", ".log");
        Process process = JarServer.launch(List.of("--prometheus", "metrics/*"), log);
        try {
            assertThat(process.waitFor(JarServer.TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("exited").isTrue();
            assertThat(process.exitValue()).isEqualTo(1);
            assertThat(Files.readString(log)).contains("jetty-example: --prometheus 'metrics/*' is not allowed; give an"
                    + " exact path such as /metrics");
        } finally {
            process.destroyForcibly();
        }
    }
}
