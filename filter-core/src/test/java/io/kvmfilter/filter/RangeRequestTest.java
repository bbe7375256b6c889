package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.filter.RangeRequest.Part;
import io.kvmfilter.filter.RangeRequest.Unsatisfiable;
import io.kvmfilter.filter.RangeRequest.Whole;
import org.junit.jupiter.api.Test;

/** One byte range of a complete representation; anything else is the whole representation. */
class RangeRequestTest {

    private static RangeRequest.Answer answer(String range, String ifRange) {
        return RangeRequest.of(range, ifRange).answer(100, "\"v1\"", "Wed, 02 Dec 2026 07:00:00 GMT");
    }

    @Test
    void theThreeFormsOfOneRange() {
        assertThat(answer("bytes=0-9", null)).isEqualTo(new Part(0, 9, 100));
        assertThat(answer("bytes=90-", null)).isEqualTo(new Part(90, 99, 100));
        assertThat(answer("bytes=-5", null)).isEqualTo(new Part(95, 99, 100));
        assertThat(answer("bytes=-500", null)).isEqualTo(new Part(0, 99, 100));
        assertThat(answer("bytes=50-5000", null)).as("the end is cut to the length").isEqualTo(new Part(50, 99, 100));
        assertThat(answer("Bytes=1-2", null)).as("the unit in any case").isEqualTo(new Part(1, 2, 100));
        assertThat(new Part(0, 9, 100).contentRange()).isEqualTo("bytes 0-9/100");
    }

    @Test
    void unsatisfiableRanges() {
        assertThat(answer("bytes=100-", null)).isEqualTo(new Unsatisfiable(100));
        assertThat(answer("bytes=-0", null)).isEqualTo(new Unsatisfiable(100));
        assertThat(new Unsatisfiable(100).contentRange()).isEqualTo("bytes */100");
    }

    @Test
    void whatIsNotOneValidByteRangeGetsTheWhole() {
        for (String range : new String[] {"bytes=0-1,5-6", "items=0-9", "bytes=9-1", "bytes=a-b", "bytes=", "bytes=-",
            "0-9", "bytes=99999999999999999999-"}) {
            assertThat(answer(range, null)).as(range).isInstanceOf(Whole.class);
        }
    }

    @Test
    void ifRangeMustNameThisVersionStrongly() {
        assertThat(answer("bytes=0-9", "\"v1\"")).isInstanceOf(Part.class);
        assertThat(answer("bytes=0-9", "\"v2\"")).isInstanceOf(Whole.class);
        assertThat(answer("bytes=0-9", "W/\"v1\"")).isInstanceOf(Whole.class);
        assertThat(answer("bytes=0-9", "Wed, 02 Dec 2026 07:00:00 GMT")).isInstanceOf(Part.class);
        assertThat(answer("bytes=0-9", "Wed, 02 Dec 2026 06:00:00 GMT")).isInstanceOf(Whole.class);
        assertThat(answer("bytes=0-9", "yesterday")).isInstanceOf(Whole.class);
        assertThat(RangeRequest.of("bytes=0-9", "\"v1\"").answer(100, "W/\"v1\"", null)).as("a weak ETag")
                .isInstanceOf(Whole.class);
        assertThat(RangeRequest.of(null, "\"v1\"")).isNull();
    }
}
