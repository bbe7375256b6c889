package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.filter.AcceptHeader.Range;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Every lenient case of the Accept parser (as documented in AcceptHeader and docs/configuration.md), and a fuzz run. */
class AcceptHeaderTest {

    private static final Rule IMAGES = RuleParser.parse("image/jpeg -> image/avif: avif, image/webp: webp").get(0);

    @Test
    void wellFormedHeaders() {
        assertThat(AcceptHeader.parse("image/avif,image/webp;q=0.9, */*;q=0.8")).containsExactly(
                new Range("image/avif", 1.0), new Range("image/webp", 0.9), new Range("*/*", 0.8));
        assertThat(AcceptHeader.parse("Image/WEBP ; Q = 0.5")).containsExactly(new Range("image/webp", 0.5));
        assertThat(AcceptHeader.parse("text/html;level=1;q=0.3")).containsExactly(new Range("text/html", 0.3));
    }

    @Test
    void emptyElementsAndParametersAreSkipped() {
        assertThat(AcceptHeader.parse(";")).isEmpty();
        assertThat(AcceptHeader.parse("")).isEmpty();
        assertThat(AcceptHeader.parse(" , ,, ")).isEmpty();
        assertThat(AcceptHeader.parse("image/webp;q=,,;")).as("the range with the empty weight goes").isEmpty();
        assertThat(AcceptHeader.parse(",image/webp;;q=0.5;, ;")).containsExactly(new Range("image/webp", 0.5));
    }

    @Test
    void malformedRangesAndWeightsAreSkippedTheRestCounts() {
        for (String weight : List.of("q=", "q=abc", "q=-1", "q=2", "q=1.5", "q=1e3", "q=NaN", "q=Infinity",
                "q=0x1p-2", "q=\"0.5\"", "q=0.5.5", "q=.", "q=+0.5")) {
            assertThat(AcceptHeader.parse("image/webp;" + weight + ", image/avif")).as(weight)
                    .containsExactly(new Range("image/avif", 1.0));
        }
        for (String type : List.of("nonsense", "image/", "/webp", "image/webp/x", "im age/webp", "*/webp", ";q=1")) {
            assertThat(AcceptHeader.parse(type + ", image/avif")).as(type)
                    .containsExactly(new Range("image/avif", 1.0));
        }
    }

    @Test
    void commonDeviationsAreUnderstood() {
        // Old Java clients: "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2".
        assertThat(AcceptHeader.parse("image/jpeg, *; q=.2")).containsExactly(new Range("image/jpeg", 1.0),
                new Range("*/*", 0.2));
        assertThat(AcceptHeader.parse("image/webp;q=0.12345")).containsExactly(new Range("image/webp", 0.12345));
        assertThat(AcceptHeader.parse("text/plain;format=\"a,b;c\";q=0.4, image/webp"))
                .containsExactly(new Range("text/plain", 0.4), new Range("image/webp", 1.0));
        assertThat(AcceptHeader.parse("text/plain;x=\"unterminated, image/webp")).as("quote runs to the end")
                .containsExactly(new Range("text/plain", 1.0));
    }

    @Test
    void hugeHeadersAreReadUpToTheirBounds() {
        String many = "image/png, ".repeat(AcceptHeader.MAX_RANGES) + "image/webp";
        assertThat(AcceptHeader.parse(many)).hasSize(AcceptHeader.MAX_RANGES)
                .doesNotContain(new Range("image/webp", 1.0));
        String longValue = "image/webp;x=" + "a".repeat(AcceptHeader.MAX_LENGTH) + ", image/avif";
        assertThat(AcceptHeader.parse(longValue)).containsExactly(new Range("image/webp", 1.0));
    }

    /** Generated headers from the pieces clients and attackers send: never an exception, always a valid choice. */
    @Test
    void fuzzedHeadersNeverFail() {
        String[] pieces = {"image/webp", "image/avif", "image/*", "*/*", "*", "image/jpeg", "text/html", ";", ",",
            ", ", " ", "\t", "q=", "q=0", "q=1", "q=0.5", "q=.7", "q=1.0001", "q=-1", "q=NaN", "q=1e9", "q=abc",
            "Q=0.3", "\"", "x=\"a,b\"", "level=1", "=", "/", "//", "é", "\u00ff", "image/webp;q=0,", ";;;", ",,,"};
        Random random = new Random(20261202L);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder header = new StringBuilder();
            int count = random.nextInt(i % 100 == 0 ? 3000 : 12);
            for (int j = 0; j < count; j++) {
                header.append(pieces[random.nextInt(pieces.length)]);
            }
            String accept = header.toString();
            List<Range> ranges = AcceptHeader.parse(accept);
            assertThat(ranges).as(accept).hasSizeLessThanOrEqualTo(AcceptHeader.MAX_RANGES)
                    .allSatisfy(r -> assertThat(r.quality()).isBetween(0.0, 1.0));
            for (boolean wildcards : new boolean[] {false, true}) {
                assertThat(Negotiation.of(accept, wildcards).choose(IMAGES, "image/jpeg"))
                        .as(accept).satisfiesAnyOf(v -> assertThat(v).isEmpty(),
                                v -> assertThat(IMAGES.variants()).contains(v.get()));
            }
        }
    }
}
