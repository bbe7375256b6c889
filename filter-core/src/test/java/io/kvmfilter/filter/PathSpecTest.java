package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PathSpecTest {

    @Test
    void servletMappingForms() {
        assertThat(PathSpec.parse("/images/*").matches("/images/a.png")).isTrue();
        assertThat(PathSpec.parse("/images/*").matches("/images")).isTrue();
        assertThat(PathSpec.parse("/images/*").matches("/imagesx/a.png")).isFalse();
        assertThat(PathSpec.parse("*.png").matches("/a/b.png")).isTrue();
        assertThat(PathSpec.parse("*.png").matches("/a/b.jpg")).isFalse();
        assertThat(PathSpec.parse("/exact").matches("/exact")).isTrue();
        assertThat(PathSpec.parse("/exact").matches("/exact/more")).isFalse();
        assertThat(PathSpec.parse("/").matches("/anything")).isTrue();
        assertThat(PathSpec.parse("^/v[0-9]+/.*").matches("/v2/x")).isTrue();
    }

    @Test
    void invalidSpecsAreRejectedWithTheAllowedForms() {
        assertThatThrownBy(() -> PathSpec.parse("images/*")).hasMessageContaining("/prefix/*, *.suffix");
        assertThatThrownBy(() -> PathSpec.parse("/a/*/b")).hasMessageContaining("is not a path spec");
        assertThatThrownBy(() -> PathSpec.parse("^[")).hasMessageContaining("regular expression");
    }
}
