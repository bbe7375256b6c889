package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NegotiationTest {

    private static final Rule IMAGES = RuleParser.parse("image/jpeg -> image/avif: avif, image/webp: webp").get(0);
    private static final Rule WITH_OPTIMIZER =
            RuleParser.parse("image/png -> image/webp: webp, optimize").get(0);

    private static String choose(String accept, boolean wildcards) {
        return Negotiation.of(accept, wildcards).choose(IMAGES, "image/jpeg").map(Variant::name).orElse("original");
    }

    @Test
    void aVariantThatCannotCarryTheSourceGivesWayToTheNextAccepted() {
        Variant avif = IMAGES.variants().get(0);
        Variant webp = IMAGES.variants().get(1);
        assertThat(Negotiation.of("image/avif,image/webp,*/*", false).choose(IMAGES, "image/jpeg", Set.of(avif)))
                .contains(webp);
        assertThat(Negotiation.of("image/avif,*/*", false).choose(IMAGES, "image/jpeg", Set.of(avif)))
                .as("webp is not named: the original").isEmpty();
        assertThat(Negotiation.of("image/avif,image/webp", false).choose(IMAGES, "image/jpeg", Set.of(avif, webp)))
                .isEmpty();
    }

    @Test
    void serverOrderBreaksTies() {
        assertThat(choose("image/avif,image/webp,image/apng,image/*,*/*;q=0.8", false)).isEqualTo("avif");
        assertThat(choose("image/webp,image/avif", false)).isEqualTo("avif");
        assertThat(choose("image/webp,*/*", false)).isEqualTo("webp");
    }

    @Test
    void higherQualityWins() {
        assertThat(choose("image/avif;q=0.5, image/webp;q=0.9", false)).isEqualTo("webp");
        assertThat(choose("image/avif;q=0.5, image/jpeg", false)).isEqualTo("original");
    }

    @Test
    void qualityZeroExcludes() {
        assertThat(choose("image/avif;q=0, image/webp", false)).isEqualTo("webp");
        assertThat(choose("image/avif;q=0, image/webp;q=0, */*", false)).isEqualTo("original");
    }

    @Test
    void wildcardsSelectVariantsOnlyWhenAllowed() {
        assertThat(choose("*/*", false)).isEqualTo("original");
        assertThat(choose("image/*", false)).isEqualTo("original");
        assertThat(choose("*/*", true)).isEqualTo("avif");
        assertThat(choose("image/*;q=0.5, image/jpeg;q=0.4", true)).isEqualTo("avif");
    }

    @Test
    void noAcceptGivesTheOriginalAndGarbageIsIgnored() {
        assertThat(choose(null, false)).isEqualTo("original");
        assertThat(choose("image/webp;q=abc, nonsense", false)).isEqualTo("original");
        assertThat(choose("image/webp;q=2, image/avif", false)).isEqualTo("avif");
    }

    @Test
    void specificRangeBeatsWildcardForTheOriginal() {
        // The original is refused explicitly; webp is the only acceptable representation.
        assertThat(choose("image/jpeg;q=0, image/webp, */*", false)).isEqualTo("webp");
    }

    @Test
    void unconditionalVariantStandsInForTheOriginal() {
        Negotiation webp = Negotiation.of("image/webp", false);
        assertThat(webp.choose(WITH_OPTIMIZER, "image/png").map(Variant::name)).contains("webp");
        Negotiation any = Negotiation.of("*/*", false);
        assertThat(any.choose(WITH_OPTIMIZER, "image/png").map(Variant::name)).contains("optimize");
    }

    @Test
    void aSourceAlreadyInTheVariantFormatIsNotConvertedAgain() {
        Rule rule = RuleParser.parse("image/* -> image/webp: webp").get(0);
        assertThat(Negotiation.of("image/webp", false).choose(rule, "image/webp")).isEqualTo(Optional.empty());
    }
}
