package io.kvmfilter.filter;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The client hints of an image request (issue #17): what the browser says about the screen and the connection,
 * used for the options a URL leaves open. A page opts in with {@code Accept-CH} ({@link #ACCEPT_CH}); the image
 * endpoint sends it too.
 *
 * <ul>
 * <li>{@code Sec-CH-Width}: the image's display width in device pixels, used as {@code w} (with {@code dpr=1}:
 * the ratio is in it already) when the URL gives neither {@code w} nor {@code h};</li>
 * <li>{@code Sec-CH-Viewport-Width}: the viewport in CSS pixels, used as {@code w} in the same case when there is
 * no {@code Sec-CH-Width};</li>
 * <li>{@code Sec-CH-DPR}: used as {@code dpr} when the URL gives none (up to the endpoint's {@code maxDpr});</li>
 * <li>{@code Save-Data: on}: a lower quality when the URL gives no {@code q}, and no {@code Sec-CH-DPR}.</li>
 * </ul>
 *
 * A malformed hint is ignored (a hint is advice, never an error), and so are hints that would break a bound: the
 * request is then answered as if they had not been sent. The headers consulted for a request go into its
 * {@code Vary}; the values used become options, so the result's cache key holds exactly what was used.
 *
 * @param dpr           the device pixel ratio, or 0 when not sent
 * @param width         the display width in device pixels, or 0
 * @param viewportWidth the viewport width in CSS pixels, or 0
 * @param saveData      whether the client asked to save data
 */
public record ClientHints(double dpr, int width, int viewportWidth, boolean saveData) {

    /** Header names. */
    public static final String DPR = "Sec-CH-DPR";
    /** The display width in device pixels. */
    public static final String WIDTH = "Sec-CH-Width";
    /** The viewport width in CSS pixels. */
    public static final String VIEWPORT_WIDTH = "Sec-CH-Viewport-Width";
    /** Sent by browsers in a data-saving mode, without opt-in. */
    public static final String SAVE_DATA = "Save-Data";
    /** The value of the {@code Accept-CH} response header that asks browsers for the hints used here. */
    public static final String ACCEPT_CH = DPR + ", " + WIDTH + ", " + VIEWPORT_WIDTH;
    /** The quality used for Save-Data when none is configured. */
    public static final int DEFAULT_SAVE_DATA_QUALITY = 50;

    /**
     * Reads the hints from a request's headers.
     *
     * @param header the request's header by name, null when absent
     */
    public static ClientHints of(UnaryOperator<String> header) {
        double dpr = 0;
        String dprText = header.apply(DPR);
        if (dprText != null && dprText.strip().matches("[0-9]{1,2}(\\.[0-9]{1,3})?")) {
            dpr = Double.parseDouble(dprText.strip());
        }
        String saveData = header.apply(SAVE_DATA);
        return new ClientHints(dpr, pixels(header.apply(WIDTH)), pixels(header.apply(VIEWPORT_WIDTH)),
                saveData != null && saveData.strip().toLowerCase(Locale.ROOT).equals("on"));
    }

    /** A positive integer of at most 5 digits (hints are structured-field integers), else 0. */
    private static int pixels(String text) {
        return text != null && text.strip().matches("0*[1-9][0-9]{0,4}") ? Integer.parseInt(text.strip()) : 0;
    }

    /**
     * Fills the options the URL left open from these hints.
     *
     * @param options         the URL's options (a preset's included), by parameter name; changed in place
     * @param limits          the endpoint's bounds: hint values are cut to {@code maxWidth} and {@code maxDpr}
     * @param saveDataQuality the quality for {@code Save-Data}
     * @return the hint headers the answer depends on, for {@code Vary}
     */
    List<String> applyTo(Map<String, String> options, ImageOptions.Limits limits, int saveDataQuality) {
        List<String> consulted = new ArrayList<>();
        boolean widthUsed = false;
        if (!options.containsKey("w") && !options.containsKey("h")) {
            consulted.add(WIDTH);
            consulted.add(VIEWPORT_WIDTH);
            if (width > 0) {
                options.put("w", String.valueOf(Math.min(width, limits.maxWidth())));
                options.remove("dpr");
                widthUsed = true;
            } else if (viewportWidth > 0) {
                options.put("w", String.valueOf(Math.min(viewportWidth, limits.maxWidth())));
            }
        }
        if (!widthUsed && !options.containsKey("dpr")) {
            consulted.add(DPR);
            consulted.add(SAVE_DATA);
            if (dpr > 0 && !saveData) {
                options.put("dpr", ImageOptions.decimal(Math.max(1, Math.min(dpr, limits.maxDpr()))));
            }
        }
        if (!options.containsKey("q")) {
            if (!consulted.contains(SAVE_DATA)) {
                consulted.add(SAVE_DATA);
            }
            if (saveData) {
                options.put("q", String.valueOf(saveDataQuality));
            }
        }
        return consulted;
    }
}
