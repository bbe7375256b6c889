package io.kvmfilter.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Requests and steps check what C strings and the chain can carry. Pure Java. */
class RequestTest {

    @Test
    void factoriesFillTheDefaults() {
        Request get = Request.get("/a");
        assertThat(get.method()).isEqualTo("GET");
        assertThat(get.arg()).isEmpty();
        assertThat(get.body()).isNull();
        Request post = Request.post("/b", "image/jpeg", new byte[] {1}).withArg("q=80").withHeaders(List.of("A: b"));
        assertThat(post.method()).isEqualTo("POST");
        assertThat(post.arg()).isEqualTo("q=80");
        assertThat(post.headers()).containsExactly("A: b");
    }

    @Test
    void nulCharactersAndLineBreaksAreRejected() {
        assertThatThrownBy(() -> Request.get("/a\0b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Request url contains a NUL character, which C strings cannot carry");
        assertThatThrownBy(() -> Request.get("/").withHeaders(List.of("A: b\nC: d")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("contains a line break or NUL; give one \"Name: value\" per list element");
        assertThatThrownBy(() -> new Request("", "/", "", "", null, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Request method is empty");
    }

    @Test
    void stepsHaveADefaultThresholdAndCheckTheirRange() {
        assertThat(Step.of("webp").errorThreshold()).isEqualTo(400);
        assertThat(Step.of("webp", "q=80").arg()).isEqualTo("q=80");
        assertThatThrownBy(() -> new Step("webp", "", 99)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Step 'webp' error threshold 99 is out of range; allowed 100..1000 (1000: no status is an error)");
    }
}
