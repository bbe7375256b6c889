package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The option scheme of image URLs: what each parameter becomes in the image program's arg, the bounds, presets,
 * and a precise error for everything else; random queries only ever give options or such an error.
 */
class ImageOptionsTest {

    private static final ImageOptions.Limits LIMITS = ImageOptions.Limits.DEFAULT;

    private static ImageOptions parse(String query) throws Exception {
        return ImageOptions.parse(query, LIMITS).orElseThrow();
    }

    private static void invalid(String query, String message) {
        assertThatThrownBy(() -> ImageOptions.parse(query, LIMITS)).isInstanceOf(ImageOptions.InvalidOptionException.class)
                .hasMessage(message);
    }

    @Test
    void optionsBecomeTheImageProgramsArgInOneOrder() throws Exception {
        assertThat(parse("w=320").programArg("webp")).isEqualTo("{\"format\":\"webp\",\"width\":320}");
        assertThat(parse("fmt=jpeg&q=85&w=1280").programArg("jpeg"))
                .isEqualTo("{\"format\":\"jpeg\",\"width\":1280,\"quality\":85}");
        assertThat(parse("h=200&w=200&g=smart").programArg("avif"))
                .isEqualTo(parse("w=200&g=smart&h=200").programArg("avif"))
                .isEqualTo("{\"format\":\"avif\",\"width\":200,\"height\":200,\"fit\":\"cover\",\"gravity\":\"smart\"}");
        assertThat(parse("w=160&dpr=2").programArg("webp")).isEqualTo("{\"format\":\"webp\",\"width\":160,\"dpr\":2.0}");
        assertThat(parse("w=400&h=300&fit=CONTAIN").fit()).isEqualTo("contain");
        assertThat(ImageOptions.parse(null, LIMITS)).isEmpty();
        assertThat(ImageOptions.parse("s=abc", LIMITS)).as("only a signature: no options").isEmpty();
    }

    @Test
    void autoBecomesTheBestFormatTheClientAccepts() throws Exception {
        ImageOptions auto = parse("w=320&fmt=auto");
        Set<String> all = ImageOptions.FORMATS;
        assertThat(auto.resolve(t -> true, all)).isEqualTo("avif");
        assertThat(auto.resolve(t -> t.equals("image/webp"), all)).isEqualTo("webp");
        assertThat(auto.resolve(t -> false, all)).isEqualTo("jpeg");
        assertThat(auto.resolve(t -> false, all, "image/png")).as("a PNG keeps its alpha").isEqualTo("png");
        assertThat(auto.resolve(t -> true, Set.of("auto", "webp", "jpeg"))).as("avif not allowed").isEqualTo("webp");
        assertThat(parse("w=320").format()).as("auto is the default when allowed").isEqualTo("auto");
        assertThat(parse("w=320&fmt=png").resolve(t -> true, all)).isEqualTo("png");
    }

    @Test
    void everyBadOptionIsNamedWithWhatIsAllowed() {
        invalid("w=0", "image option \"w\": must be an integer from 1 to 4096; got \"0\"");
        invalid("w=5000", "image option \"w\": must be an integer from 1 to 4096; got \"5000\"");
        invalid("w=12x", "image option \"w\": must be an integer from 1 to 4096; got \"12x\"");
        invalid("fit=crop", "image option \"fit\": must be one of [contain, cover, fill, inside]; got \"crop\"");
        invalid("fmt=gif", "image option \"fmt\": must be one of [auto, avif, jpeg, png, webp]; got \"gif\"");
        invalid("q=101", "image option \"q\": must be an integer from 1 to 100; got \"101\"");
        invalid("dpr=4", "image option \"dpr\": must be a number from 0.1 to 3.0 (at most 3 decimals); got \"4\"");
        invalid("dpr=1e0", "image option \"dpr\": must be a number from 0.1 to 3.0 (at most 3 decimals); got \"1e0\"");
        invalid("w=4096&h=4096&dpr=3", "image option \"w\": the output would be 12288x12288 device pixels, more than"
                + " 25000000");
        invalid("w=1&w=2", "image option \"w\": given twice");
        invalid("width=320", "image option \"width\": unknown; allowed: w, h, fit, g, q, fmt, dpr, p (preset), s"
                + " (signature)");
        invalid("w=%0d%0a", "image option \"w\": must be an integer from 1 to 4096; got \"%0d%0a\"");
        invalid("p=huge", "image option \"p\": no preset \"huge\"; presets: []");
    }

    @Test
    void presetsGiveOptionsThatTheRequestMayOverrideUnlessPresetsOnly() throws Exception {
        Map<String, String> presets = Map.of("thumb", "w=200&h=200&fit=cover&q=70", "hero", "w=1280");
        ImageOptions.Limits limits = new ImageOptions.Limits(4096, 4096, 3, 25_000_000L, ImageOptions.FORMATS,
                presets, false);
        assertThat(ImageOptions.parse("p=thumb", limits).orElseThrow().programArg("webp")).isEqualTo(
                "{\"format\":\"webp\",\"width\":200,\"height\":200,\"fit\":\"cover\",\"gravity\":\"center\","
                        + "\"quality\":70}");
        assertThat(ImageOptions.parse("p=thumb&q=90", limits).orElseThrow().quality()).isEqualTo(90);
        ImageOptions.Limits only = new ImageOptions.Limits(4096, 4096, 3, 25_000_000L, ImageOptions.FORMATS, presets,
                true);
        assertThat(ImageOptions.parse("p=hero", only).orElseThrow().width()).isEqualTo(1280);
        assertThatThrownBy(() -> ImageOptions.parse("w=320", only)).hasMessage(
                "image option \"p\": this server takes presets only: give p=NAME, one of [hero, thumb]");
        assertThatThrownBy(() -> ImageOptions.parse("p=hero&q=90", only)).hasMessage(
                "image option \"q\": this server takes presets only");
    }

    @Test
    void randomQueriesGiveOptionsOrANamedError() {
        Random random = new Random(17);
        String alphabet = "whfitgqmdprs=&.0123456789auto webpng%-x";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder query = new StringBuilder();
            int length = random.nextInt(40);
            for (int j = 0; j < length; j++) {
                query.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            try {
                ImageOptions.parse(query.toString(), LIMITS);
            } catch (ImageOptions.InvalidOptionException e) {
                assertThat(e.getMessage()).startsWith("image option \"");
                assertThat(e.getMessage()).doesNotContain("\n", "\r");
            }
        }
    }
}
