package io.kvmfilter.filter;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.restassured.response.Response;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Where KVM is unusable the filter runs with {@link UnavailableTransform} (what init() installs on
 * KvmUnavailableException): originals are served, with Vary and {@code fallback=<variant>:unavailable}.
 */
class UnavailableSandboxTest {

    @Test
    void originalsAreServedWithTheReason() throws Exception {
        KvmFilter filter = new KvmFilter(KvmFilterConfig.builder().minBodySize(1).build(),
                new UnavailableTransform("/dev/kvm: no such device"));
        Deployment deployment = new Deployment();
        deployment.filter("kvm", filter, "/*", Map.of());
        TestServlets.deploy(deployment);
        try (ServletContainer container = new TomcatContainer()) {
            container.start(deployment);
            Response response = given().port(container.port()).header("Accept", "image/avif").get("/image");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.contentType()).isEqualTo("image/png");
            assertThat(response.asByteArray()).hasSize(2048);
            assertThat(response.header("ETag")).isEqualTo("\"img1\"");
            assertThat(response.header("Vary")).isEqualTo("Accept");
            assertThat(response.header("X-KVM-Transform")).isEqualTo("fallback=avif:unavailable");
            assertThat(filter.counters()).containsEntry("fallback=avif:unavailable", 1L);
        }
    }
}
