package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Without MicroProfile Config: system properties and environment variables read directly, under the names and
 * with the precedence docs/configuration.md gives.
 */
class ParameterSourceTest {

    /** The filter's init-params as a container hands them over (no servlet context: no context-params). */
    private record InitParams(String name, Map<String, String> params) implements FilterConfig {
        @Override
        public String getFilterName() {
            return name;
        }

        @Override
        public ServletContext getServletContext() {
            return null;
        }

        @Override
        public String getInitParameter(String param) {
            return params.get(param);
        }

        @Override
        public Enumeration<String> getInitParameterNames() {
            return Collections.enumeration(params.keySet());
        }
    }

    private static ParameterSource source(Map<String, String> initParams, Map<String, String> properties,
            Map<String, String> environment) {
        Properties props = new Properties();
        props.putAll(properties);
        return new ParameterSource(new InitParams("images", initParams),
                ParameterSource.systemAndEnvironment(props, environment));
    }

    @Test
    void environmentVariablesUseTheUpperCaseUnderscoreNames() {
        ParameterSource source = source(Map.of(), Map.of(), Map.of("KVMFILTER_MAXBODYSIZE", "3MiB"));

        assertThat(source.read().maxBodySize()).isEqualTo(3L * 1024 * 1024);
        assertThat(source.lookup("maxBodySize")).hasValue(
                new ParameterSource.Value("3MiB", "environment variable KVMFILTER_MAXBODYSIZE"));
    }

    @Test
    void theExactKeyAndItsUnderscoreFormAreFoundToo() {
        assertThat(source(Map.of(), Map.of(), Map.of("kvmfilter.maxBodySize", "1MiB")).lookup("maxBodySize"))
                .hasValue(new ParameterSource.Value("1MiB", "environment variable kvmfilter.maxBodySize"));
        assertThat(source(Map.of(), Map.of(), Map.of("kvmfilter_maxBodySize", "2MiB")).lookup("maxBodySize"))
                .hasValue(new ParameterSource.Value("2MiB", "environment variable kvmfilter_maxBodySize"));
    }

    @Test
    void systemPropertyBeatsEnvironmentVariableBeatsInitParam() {
        Map<String, String> init = Map.of("cacheSize", "1MiB");
        Map<String, String> env = Map.of("KVMFILTER_CACHESIZE", "2MiB");

        assertThat(source(init, Map.of(), Map.of()).read().cacheSize()).isEqualTo(1L << 20);
        assertThat(source(init, Map.of(), env).read().cacheSize()).isEqualTo(2L << 20);
        assertThat(source(init, Map.of("kvmfilter.cacheSize", "3MiB"), env).read().cacheSize()).isEqualTo(3L << 20);
    }

    @Test
    void theFilterInstanceKeyBeatsTheKeyForAllFilters() {
        ParameterSource source = source(Map.of(), Map.of("kvmfilter.cacheSize", "3MiB"),
                Map.of("KVMFILTER_IMAGES_CACHESIZE", "4MiB"));

        assertThat(source.read().cacheSize()).isEqualTo(4L << 20);
        assertThat(source(Map.of(), Map.of(), Map.of("KVMFILTER_TEXT_CACHESIZE", "4MiB")).read().cacheSize())
                .as("another filter's key").isEqualTo(KvmFilterConfig.builder().build().cacheSize());
    }

    @Test
    void anInvalidValueNamesTheVariableItCameFrom() {
        assertThatThrownBy(() -> source(Map.of(), Map.of(), Map.of("KVMFILTER_MAXBODYSIZE", "lots")).read())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBodySize = \"lots\" is not valid")
                .hasMessageEndingWith("(from environment variable KVMFILTER_MAXBODYSIZE)");
        assertThatThrownBy(() -> source(Map.of(), Map.of("kvmfilter.images.timeout", "soon"), Map.of()).read())
                .hasMessageEndingWith("(from system property kvmfilter.images.timeout)");
    }
}
