package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RuleParserTest {

    @Test
    void parsesTypesVariantsStepsAndArguments() {
        List<Rule> rules = RuleParser.parse("""
                # images first
                image/jpeg, image/png -> image/avif: avif {"speed": 8, "q": "a,b"}, image/webp: webp
                text/html text/css -> minify | gzipper 'level 9'
                """);
        assertThat(rules).hasSize(2);
        Rule images = rules.get(0);
        assertThat(images.sourceTypes()).containsExactly("image/jpeg", "image/png");
        assertThat(images.variants()).extracting(Variant::name).containsExactly("avif", "webp");
        assertThat(images.variants().get(0).outputType()).contains("image/avif");
        assertThat(images.variants().get(0).steps().get(0).arg()).isEqualTo("{\"speed\": 8, \"q\": \"a,b\"}");
        assertThat(images.negotiable()).isTrue();
        Rule text = rules.get(1);
        assertThat(text.sourceTypes()).containsExactly("text/html", "text/css");
        Variant chain = text.variants().get(0);
        assertThat(chain.name()).isEqualTo("minify+gzipper");
        assertThat(chain.outputType()).isEqualTo(Optional.empty());
        assertThat(chain.steps()).extracting(io.kvmfilter.kvm.Step::program).containsExactly("minify", "gzipper");
        assertThat(chain.steps().get(1).arg()).isEqualTo("level 9");
        assertThat(text.negotiable()).isFalse();
    }

    @Test
    void semicolonSeparatesRulesOnOneLine() {
        assertThat(RuleParser.parse("image/* -> image/webp: webp; text/css -> minify")).hasSize(2);
    }

    @Test
    void wildcardSourceTypesCoverTheirSubtypes() {
        Rule rule = RuleParser.parse("image/* -> image/webp: webp").get(0);
        assertThat(rule.covers("image/gif")).isTrue();
        assertThat(rule.covers("text/css")).isFalse();
    }

    @Test
    void errorsNameTheRuleAndWhatIsExpected() {
        assertThatThrownBy(() -> RuleParser.parse("image/jpeg webp"))
                .hasMessageContaining("rule 1 (image/jpeg webp)").hasMessageContaining("'webp' is not a media type");
        assertThatThrownBy(() -> RuleParser.parse("text/css -> minify\nimage/png ->"))
                .hasMessageContaining("rule 2").hasMessageContaining("expected a program name");
        assertThatThrownBy(() -> RuleParser.parse("image/png -> webp {\"q\": 1"))
                .hasMessageContaining("unbalanced '{'");
        assertThatThrownBy(() -> RuleParser.parse("image/png -> image/*: webp"))
                .hasMessageContaining("not a concrete output media type");
        assertThatThrownBy(() -> RuleParser.parse("image/png -> image/webp: webp, image/webp: cwebp"))
                .hasMessageContaining("two variants are named 'webp'");
    }

    @Test
    void aVariantAfterTheUnconditionalOneIsRejected() {
        assertThatThrownBy(() -> RuleParser.parse("image/png -> optimize, image/webp: webp"))
                .hasMessageContaining("can never be chosen");
    }
}
