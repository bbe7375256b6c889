package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvmfilter.filter.TransformDecision.ResponseHead;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The decision on plain values, without a container: each reason, and the order of the questions. */
class TransformDecisionTest {

    private final TransformDecision decision = new TransformDecision(KvmFilterConfig.builder()
            .rules("image/png -> image/webp: webp\ntext/css -> minify")
            .excludedMimeTypes("text/css")
            .minBodySize(10)
            .maxBodySize(1000)
            .maxPixels(100)
            .build());

    private static ResponseHead head(int status, String encoding, String type, long length) {
        return new ResponseHead(status, encoding, type, length);
    }

    private static Optional<String> reason(Optional<TransformDecision.Skip> skip) {
        return skip.map(TransformDecision.Skip::reason);
    }

    @Test
    void eachReasonAtTheEnd() {
        byte[] body = new byte[50];
        assertThat(reason(decision.atEnd(head(404, null, "image/png", -1), body))).contains("status");
        assertThat(reason(decision.atEnd(head(200, "gzip", "image/png", -1), body))).contains("encoded");
        assertThat(reason(decision.atEnd(head(200, null, null, -1), body))).contains("no-type");
        assertThat(reason(decision.atEnd(head(200, null, "text/plain", -1), body))).contains("no-rule");
        assertThat(reason(decision.atEnd(head(200, null, "text/css", -1), body))).contains("excluded-type");
        assertThat(reason(decision.atEnd(head(200, null, "image/png", -1), new byte[1001]))).contains("too-large");
        assertThat(reason(decision.atEnd(head(200, null, "image/png", -1), new byte[9]))).contains("too-small");
        assertThat(decision.atEnd(head(200, "identity", "IMAGE/PNG; x=y", -1), body)).isEmpty();
    }

    @Test
    void anImageDeclaringTooManyPixelsIsLeftAlone() {
        // A PNG header declaring 20 x 20 = 400 pixels, more than maxPixels 100.
        byte[] png = new byte[64];
        byte[] signature = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
            0, 0, 0, 20, 0, 0, 0, 20};
        System.arraycopy(signature, 0, png, 0, signature.length);
        Optional<TransformDecision.Skip> skip = decision.atEnd(head(200, null, "image/png", -1), png);
        assertThat(reason(skip)).contains("too-many-pixels");
        assertThat(skip.get().explanation().get()).isEqualTo("image declares 400 pixels, more than maxPixels 100");
    }

    @Test
    void atTheFirstByteWhatIsNotKnownYetMeansBuffer() {
        // No Content-Type yet: it may still be set, so buffer; no length declared: size unknown, so buffer.
        assertThat(decision.atFirstOutput(head(200, null, null, -1))).isEmpty();
        assertThat(decision.atFirstOutput(head(200, null, "image/png", -1))).isEmpty();
        // A declared length already answers the size questions.
        assertThat(reason(decision.atFirstOutput(head(200, null, "image/png", 5000)))).contains("too-large");
        assertThat(reason(decision.atFirstOutput(head(200, null, "image/png", 3)))).contains("too-small");
    }

    @Test
    void cheaperQuestionsComeFirst() {
        // A 404 that is also encoded, untyped and huge: the status is the reason given.
        assertThat(reason(decision.atEnd(head(404, "br", null, -1), new byte[5000]))).contains("status");
        assertThat(reason(decision.atEnd(head(200, "br", "text/plain", -1), new byte[5000]))).contains("encoded");
    }

    @Test
    void theRuleAndTheServedVariantOfAType() {
        assertThat(decision.ruleFor("image/png;q=1")).isPresent();
        assertThat(decision.ruleFor("text/css")).as("excluded").isEmpty();
        assertThat(decision.ruleFor(null)).isEmpty();
        assertThat(decision.servedVariant("image/png", Negotiation.of("image/webp", false))).map(Variant::name)
                .contains("webp");
        assertThat(decision.servedVariant("image/png", Negotiation.of("image/png", false))).isEmpty();
    }
}
