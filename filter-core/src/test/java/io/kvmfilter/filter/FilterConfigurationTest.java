package io.kvmfilter.filter;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvmfilter.kvm.testing.KvmRequirement;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.spi.ConfigProviderResolver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Configuration as a web application gives it: init-params, context-params and MicroProfile Config (SmallRye on
 * the test class path, fed by system properties), read by the filter's init() inside Tomcat.
 */
class FilterConfigurationTest {

    /** Keeps the exception init() threw, so the test can read its message (the container only logs it). */
    static final class RecordingFilter extends KvmFilter {
        volatile ServletException failure;

        @Override
        public void init(FilterConfig filterConfig) throws ServletException {
            try {
                super.init(filterConfig);
            } catch (ServletException e) {
                failure = e;
                throw e;
            }
        }
    }

    private ServletContainer container;

    @AfterEach
    void stop() throws Exception {
        if (container != null) {
            container.close();
        }
        System.clearProperty("kvmfilter.maxBodySize");
        System.clearProperty("kvmfilter.images.maxBodySize");
        ConfigProviderResolver.instance().releaseConfig(ConfigProvider.getConfig());
    }

    private RecordingFilter deploy(Map<String, String> initParams, Map<String, String> contextParams)
            throws Exception {
        RecordingFilter filter = new RecordingFilter();
        Deployment deployment = new Deployment();
        deployment.filter("images", filter, "/*", initParams);
        contextParams.forEach(deployment::contextParam);
        deployment.servlet("/public/*", TestServlets.servlet((req, res) -> {
            res.setContentType("text/css");
            res.getWriter().print("body { color : red ; }   /* a comment that minify removes */");
        }));
        deployment.servlet("/private/*", TestServlets.servlet((req, res) -> {
            res.setContentType("text/css");
            res.getWriter().print("body { color : red ; }   /* a comment that minify removes */");
        }));
        container = new TomcatContainer();
        container.start(deployment);
        return filter;
    }

    private static Map<String, String> params(String... pairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return map;
    }

    @Test
    void initParamsConfigureTheFilter() throws Exception {
        KvmFilter filter = deploy(params("rules", "text/css -> minify", "maxBodySize", "1MiB",
                "excludedPaths", "/private/*", "diagnosticHeader", "X-Test"), Map.of());
        assertThat(filter.config().maxBodySize()).isEqualTo(1024 * 1024);
        assertThat(filter.config().rules()).isEqualTo("text/css -> minify");
        int port = container.port();
        assertThat(given().port(port).get("/public/a.css").header("X-Test")).isNotNull();
        assertThat(given().port(port).get("/private/a.css").header("X-Test")).isNull();
        assertThat(given().port(port).get("/public/a.css").header("X-KVM-Transform")).isNull();
    }

    @Test
    void contextParamsApplyWhenNoInitParamIsGiven() throws Exception {
        KvmFilter filter = deploy(params("minBodySize", "10"),
                params("kvmfilter.maxBodySize", "2MiB", "kvmfilter.minBodySize", "20"));
        assertThat(filter.config().maxBodySize()).isEqualTo(2 * 1024 * 1024);
        assertThat(filter.config().minBodySize()).isEqualTo(10); // the init-param wins
    }

    @Test
    void microProfileConfigWinsOverInitParamsAndPerFilterKeysWinOverGeneralOnes() throws Exception {
        System.setProperty("kvmfilter.maxBodySize", "3MiB");
        KvmFilter filter = deploy(params("maxBodySize", "1MiB"), params("kvmfilter.maxBodySize", "2MiB"));
        assertThat(filter.config().maxBodySize()).isEqualTo(3 * 1024 * 1024);
        container.close();
        container = null;

        System.setProperty("kvmfilter.images.maxBodySize", "4MiB");
        ConfigProviderResolver.instance().releaseConfig(ConfigProvider.getConfig());
        filter = deploy(params("maxBodySize", "1MiB"), Map.of());
        assertThat(filter.config().maxBodySize()).isEqualTo(4 * 1024 * 1024);
    }

    @Test
    void environmentVariablesAreFoundByTheirUpperCaseName() throws Exception {
        // The pom sets KVMFILTER_ENVTEST_DIAGNOSTICHEADER for this test run: kvmfilter.envtest.diagnosticHeader.
        RecordingFilter filter = new RecordingFilter();
        Deployment deployment = new Deployment();
        deployment.filter("envtest", filter, "/*", params("diagnosticHeader", "X-From-Init-Param"));
        container = new TomcatContainer();
        container.start(deployment);
        assertThat(filter.config().diagnosticHeader()).contains("X-From-Environment");
    }

    @Test
    void invalidValueFailsInitNamingParameterValueOriginAndAllowedValues() throws Exception {
        RecordingFilter filter = new RecordingFilter();
        Deployment deployment = new Deployment();
        deployment.filter("images", filter, "/*", params("maxBodySize", "lots"));
        container = new TomcatContainer();
        assertThatThrownBy(() -> container.start(deployment)).hasMessageContaining("failed to start");
        assertThat(filter.failure).hasMessage("KvmFilter 'images': kvmfilter parameter maxBodySize = \"lots\" is not"
                + " valid: a byte count with an optional unit: 65536, 512KiB, 8MiB, 1GiB"
                + " (from init-param maxBodySize of filter 'images')");
    }

    @Test
    void invalidMicroProfileValueNamesItsKey() throws Exception {
        System.setProperty("kvmfilter.maxBodySize", "-5");
        RecordingFilter filter = new RecordingFilter();
        Deployment deployment = new Deployment();
        deployment.filter("images", filter, "/*", Map.of());
        container = new TomcatContainer();
        assertThatThrownBy(() -> container.start(deployment)).hasMessageContaining("failed to start");
        assertThat(filter.failure.getMessage()).contains("maxBodySize = \"-5\"")
                .contains("(from MicroProfile Config kvmfilter.maxBodySize)");
    }

    @Test
    void unknownInitParamFailsInit() throws Exception {
        RecordingFilter filter = new RecordingFilter();
        Deployment deployment = new Deployment();
        deployment.filter("images", filter, "/*", params("maxBodySise", "1MiB"));
        container = new TomcatContainer();
        assertThatThrownBy(() -> container.start(deployment)).hasMessageContaining("failed to start");
        assertThat(filter.failure.getMessage()).contains("unknown init-param 'maxBodySise'")
                .contains("allowed are rules, includedPaths");
    }

    @Test
    void ruleNamingAProgramOutsideTheLibraryFailsInit() throws Exception {
        RecordingFilter filter = new RecordingFilter();
        Deployment deployment = new Deployment();
        deployment.filter("images", filter, "/*", params("rules", "image/png -> image/jxl: jxl"));
        container = new TomcatContainer();
        assertThatThrownBy(() -> container.start(deployment)).hasMessageContaining("failed to start");
        assertThat(filter.failure.getMessage()).contains("rules = \"image/png -> image/jxl: jxl\"")
                .contains("[jxl] are not in the program library").contains("avif, image, minify, webp");
    }

    @Test
    void programsOfALibraryFileCanBeUsedInRules() throws Exception {
        KvmRequirement.require("webp", "avif", "minify");
        RecordingFilter filter = new RecordingFilter();
        Deployment deployment = new Deployment();
        deployment.filter("images", filter, "/*", params("library", "classpath:test-library.json",
                "rules", "image/png -> image/webp: thumbs"));
        deployment.servlet("/logo.png", TestServlets.servlet((req, res) -> {
            res.setContentType("image/png");
            try (var in = FilterConfigurationTest.class.getClassLoader()
                    .getResourceAsStream("corpus/palette_color.png")) {
                in.transferTo(res.getOutputStream());
            }
        }));
        container = new TomcatContainer();
        container.start(deployment);
        var response = given().port(container.port()).header("Accept", "image/webp").get("/logo.png");
        assertThat(response.header("X-KVM-Transform")).isIn("applied=webp", "fallback=webp:larger");
        assertThat(filter.counters().keySet()).noneMatch(key -> key.contains("unavailable") || key.contains("boot"));
    }

    @Test
    void missingLibraryFileFailsInitNamingIt() throws Exception {
        RecordingFilter filter = new RecordingFilter();
        Deployment deployment = new Deployment();
        deployment.filter("images", filter, "/*", params("library", "file:/nonexistent/library.json"));
        container = new TomcatContainer();
        assertThatThrownBy(() -> container.start(deployment)).hasMessageContaining("failed to start");
        assertThat(filter.failure.getMessage()).contains("library = \"file:/nonexistent/library.json\"");
    }

    @Test
    void invalidProgramSettingNamesTheParameterAndTheLibrarysReason() throws Exception {
        RecordingFilter filter = new RecordingFilter();
        Deployment deployment = new Deployment();
        deployment.filter("images", filter, "/*", params("programSettings", "webp.concurrency=0"));
        container = new TomcatContainer();
        assertThatThrownBy(() -> container.start(deployment)).hasMessageContaining("failed to start");
        assertThat(filter.failure.getMessage()).contains("programSettings").contains("concurrency");
    }
}
