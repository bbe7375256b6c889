package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Client hints fill only what an option URL leaves open, are bounded like options, never cause an error, and name
 * exactly the headers the answer depends on.
 */
class ClientHintsTest {

    private static final ImageOptions.Limits LIMITS = ImageOptions.Limits.DEFAULT;

    private static ClientHints hints(Map<String, String> headers) {
        return ClientHints.of(name -> headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                .map(Map.Entry::getValue).findFirst().orElse(null));
    }

    /** The program arg for a query with these hint headers, and the Vary names in {@code vary}. */
    private static String arg(String query, Map<String, String> headers, List<String> vary) throws Exception {
        return ImageOptions.parse(query, LIMITS, hints(headers), 40, vary).orElseThrow().programArg("webp");
    }

    @Test
    void theWidthHintSizesAnUnsizedUrlInDevicePixels() throws Exception {
        List<String> vary = new ArrayList<>();
        assertThat(arg("fmt=webp", Map.of("Sec-CH-Width", "640", "Sec-CH-DPR", "2"), vary))
                .as("the width is in device pixels: no dpr on top").isEqualTo("{\"format\":\"webp\",\"width\":640}");
        assertThat(vary).containsExactly("Sec-CH-Width", "Sec-CH-Viewport-Width", "Save-Data");
        assertThat(arg("fmt=webp", Map.of("Sec-CH-Viewport-Width", "390", "Sec-CH-DPR", "3"), new ArrayList<>()))
                .isEqualTo("{\"format\":\"webp\",\"width\":390,\"dpr\":3.0}");
        assertThat(arg("fmt=webp", Map.of("Sec-CH-Width", "99999"), new ArrayList<>()))
                .as("cut to maxWidth").isEqualTo("{\"format\":\"webp\",\"width\":4096}");
    }

    @Test
    void explicitOptionsWinAndTheirHeadersAreNotInVary() throws Exception {
        List<String> vary = new ArrayList<>();
        assertThat(arg("w=320&dpr=1.5&q=70", Map.of("Sec-CH-Width", "900", "Sec-CH-DPR", "3", "Save-Data", "on"), vary))
                .isEqualTo("{\"format\":\"webp\",\"width\":320,\"quality\":70,\"dpr\":1.5}");
        assertThat(vary).isEmpty();
        vary.clear();
        assertThat(arg("w=320", Map.of("Sec-CH-DPR", "2.625"), vary))
                .isEqualTo("{\"format\":\"webp\",\"width\":320,\"dpr\":2.625}");
        assertThat(vary).containsExactly("Sec-CH-DPR", "Save-Data");
        assertThat(arg("w=320", Map.of("Sec-CH-DPR", "7"), new ArrayList<>())).as("cut to maxDpr")
                .isEqualTo("{\"format\":\"webp\",\"width\":320,\"dpr\":3.0}");
        assertThat(arg("w=320", Map.of("Sec-CH-DPR", "0.5"), new ArrayList<>())).as("never below 1")
                .isEqualTo("{\"format\":\"webp\",\"width\":320}");
    }

    @Test
    void saveDataLowersQualityAndDropsTheRatio() throws Exception {
        List<String> vary = new ArrayList<>();
        assertThat(arg("w=320", Map.of("Save-Data", "on", "Sec-CH-DPR", "2"), vary))
                .isEqualTo("{\"format\":\"webp\",\"width\":320,\"quality\":40}");
        assertThat(vary).containsExactly("Sec-CH-DPR", "Save-Data");
        assertThat(arg("w=320&q=90", Map.of("Save-Data", "ON"), new ArrayList<>())).as("an explicit quality wins")
                .isEqualTo("{\"format\":\"webp\",\"width\":320,\"quality\":90}");
    }

    @Test
    void malformedHintsAndHintsBreakingABoundAreIgnored() throws Exception {
        for (String bad : List.of("", "abc", "-1", "1e3", "2,5", "NaN", "0", "123456")) {
            assertThat(arg("w=320", Map.of("Sec-CH-DPR", bad, "Sec-CH-Width", bad, "Save-Data", bad),
                    new ArrayList<>())).as("hints %s", bad).isEqualTo("{\"format\":\"webp\",\"width\":320}");
        }
        ImageOptions.Limits small = new ImageOptions.Limits(4096, 4096, 3, 1_000_000L, ImageOptions.FORMATS,
                Map.of(), false);
        assertThat(ImageOptions.parse("w=800&h=800", small, hints(Map.of("Sec-CH-DPR", "3")), 40, new ArrayList<>())
                .orElseThrow().dpr()).as("2400x2400 would break maxPixels: the hint is not used").isEqualTo(1.0);
        assertThatThrownBy(() -> ImageOptions.parse("w=800&h=800&dpr=3", small, hints(Map.of()), 40,
                new ArrayList<>())).as("the URL's own options still fail").isInstanceOf(
                        ImageOptions.InvalidOptionException.class);
        assertThat(ImageOptions.parse(null, LIMITS, hints(Map.of("Sec-CH-Width", "300")), 40, new ArrayList<>()))
                .as("hints alone do not ask for a made image").isEmpty();
    }
}
