package io.kvmfilter.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvmfilter.kvm.testing.KvmRequirement;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvmfilter.filter.KvmFilter;
import io.kvmfilter.filter.KvmFilterConfig;
import io.kvmfilter.spring.app.TestApplication;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * A real Spring Boot 4 application on embedded Tomcat, configured only through properties and environment
 * variables, answering real HTTP requests with a real program in the real sandbox.
 */
class KvmFilterStarterTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static ConfigurableApplicationContext app;
    private static String base;

    @BeforeAll
    static void startApplication() {
        KvmRequirement.require("minify");
        app = application(Map.of(
                        "kvmfilter.rules", "text/css -> minify",
                        "kvmfilter.excluded-paths", "/raw/*",
                        "kvmfilter.stats-path", "/_kvm/stats",
                        "kvmfilter.servlets.shrink.url-patterns", "/shrink",
                        "kvmfilter.servlets.shrink.program", "minify"),
                // The names docs/configuration.md gives for environment variables.
                Map.of("KVMFILTER_MAXBODYSIZE", "3MiB", "KVMFILTER_CACHESIZE", "0"));
        base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
    }

    @AfterAll
    static void stopApplication() {
        if (app != null) {
            app.close();
        }
    }

    /** Starts the test application on a free port with the given properties and environment variables. */
    static ConfigurableApplicationContext application(Map<String, Object> properties, Map<String, Object> environment) {
        return new SpringApplicationBuilder(TestApplication.class)
                .properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
                        "logging.level.root=WARN", "spring.jmx.enabled=false",
                        "management.endpoints.web.exposure.include=health,prometheus",
                        "management.endpoint.health.show-details=always")
                .properties(properties)
                .initializers(context -> context.getEnvironment().getPropertySources()
                        .addLast(new SystemEnvironmentPropertySource("test-systemEnvironment", environment)))
                .run();
    }

    @Test
    void minifiesAStaticFileThatSpringMvcServes() throws Exception {
        HttpResponse<String> response = get("/site.css");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("X-KVM-Transform")).hasValue("applied=minify");
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/css"));
        assertThat(response.body()).contains("margin:0").doesNotContain("/*").hasSizeLessThan(original().length());
    }

    @Test
    void relaxedPropertyNamesAndEnvironmentVariablesConfigureTheFilter() throws Exception {
        HttpResponse<String> excluded = get("/raw/site.css");
        assertThat(excluded.headers().firstValue("X-KVM-Transform")).as("kvmfilter.excluded-paths").isEmpty();
        assertThat(excluded.body()).isEqualTo(original());

        KvmFilterConfig config = filter().config();
        assertThat(config.maxBodySize()).as("KVMFILTER_MAXBODYSIZE").isEqualTo(3L * 1024 * 1024);
        assertThat(config.cacheSize()).as("KVMFILTER_CACHESIZE").isZero();
    }

    @Test
    void mountsProgramServletsFromProperties() throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/shrink"))
                .header("Content-Type", "text/css")
                .POST(HttpRequest.BodyPublishers.ofString(original())).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("margin:0").doesNotContain("/*");
    }

    @Test
    void reportsHealthAndStatistics() throws Exception {
        assertThat(get("/site.css").headers().firstValue("X-KVM-Transform")).hasValue("applied=minify");

        HttpResponse<String> health = get("/actuator/health");
        assertThat(health.statusCode()).isEqualTo(200);
        JsonNode kvmfilter = new ObjectMapper().readTree(health.body()).path("components").path("kvmfilter");
        assertThat(kvmfilter.path("status").asText()).as(health.body()).isEqualTo("UP");
        assertThat(kvmfilter.path("details").path("sandbox").asText()).isEqualTo("available");
        JsonNode minify = kvmfilter.path("details").path("sandboxes").path(filterSandbox()).path("minify");
        assertThat(minify.path("loaded").asBoolean()).as(health.body()).isTrue();
        assertThat(minify.path("loadFailures").asLong()).isZero();

        HttpResponse<String> stats = get("/_kvm/stats");
        assertThat(stats.statusCode()).isEqualTo(200);
        assertThat(stats.body()).contains("applied=minify");
    }

    @Test
    void exportsTheSandboxMetricsToPrometheus() throws Exception {
        double before = stepsOk();
        assertThat(get("/site.css").headers().firstValue("X-KVM-Transform")).hasValue("applied=minify");
        assertThat(stepsOk()).as("one more program step (the cache is off)").isEqualTo(before + 1);

        assertThat(get("/actuator/prometheus").body()).containsPattern("kvmfilter_step_duration_seconds_bucket\\{kvm=\""
                + filterSandbox() + "\",outcome=\"ok\",program=\"minify\",le=\"\\+Inf\"}");
        // Gauges read the sandbox's statistics at most once a second: wait for a read after the program loaded.
        // The bundled minify warms up all its instances (concurrency 2) before its first request.
        String instances = "kvmfilter_instances{kvm=\"" + filterSandbox() + "\",program=\"minify\"} 2.0";
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!get("/actuator/prometheus").body().contains(instances) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(get("/actuator/prometheus").body()).contains(instances);
    }

    @Test
    void anInvalidPropertyFailsTheStartNamingIt() {
        assertThatThrownBy(() -> application(Map.of("kvmfilter.max-body-size", "lots",
                        // The failure is expected: keep Spring's report of it out of the build log.
                        "logging.level.root", "OFF"), Map.of()).close())
                .hasStackTraceContaining("maxBodySize = \"lots\" is not valid")
                .hasStackTraceContaining("(from property kvmfilter.max-body-size)");
    }

    @Test
    void enabledFalseSetsUpNothing() {
        try (ConfigurableApplicationContext off = application(Map.of("kvmfilter.enabled", "false"), Map.of())) {
            assertThat(off.containsBean(KvmFilterAutoConfiguration.FILTER_REGISTRATION_BEAN)).isFalse();
            assertThat(off.getBeansOfType(KvmFilterHealthIndicator.class)).isEmpty();
            assertThat(off.getBeansOfType(io.kvmfilter.micrometer.KvmMetrics.class)).isEmpty();
        }
    }

    private static double stepsOk() throws Exception {
        String text = get("/actuator/prometheus").body();
        java.util.regex.Matcher matcher = java.util.regex.Pattern.compile(
                "kvmfilter_steps_total\\{kvm=\"" + filterSandbox() + "\",outcome=\"ok\",program=\"minify\"} ([0-9.]+)")
                .matcher(text);
        return matcher.find() ? Double.parseDouble(matcher.group(1)) : 0;
    }

    /** The filter's sandbox, named after the application and the filter: the one Kvm whose name says so. */
    private static String filterSandbox() {
        return io.kvmfilter.kvm.Kvm.running().stream().map(io.kvmfilter.kvm.Kvm::name)
                .filter(name -> name.startsWith("filter-ROOT-" + KvmFilterAutoConfiguration.FILTER_NAME + "-"))
                .findFirst().orElseThrow();
    }

    private static KvmFilter filter() {
        FilterRegistrationBean<?> registration = app.getBean(KvmFilterAutoConfiguration.FILTER_REGISTRATION_BEAN,
                FilterRegistrationBean.class);
        return (KvmFilter) registration.getFilter();
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String original() throws IOException {
        try (InputStream in = KvmFilterStarterTest.class.getResourceAsStream("/static/site.css")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
