package io.kvmfilter.filter;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * How option URLs are taken (issue #17): the bounds and presets ({@link ImageOptions.Limits}), the signing keys
 * ({@link UrlSigner}), client hints ({@link ClientHints}) and the {@link Watermark}. Read from the same settings by the image endpoint
 * (its init-params, {@code maxWidth}) and by the filter (its parameters, {@code imageMaxWidth}).
 *
 * @param limits          the bounds every request's options must keep
 * @param signer          the keys option URLs must be signed with, or empty when they need no signature
 * @param clientHints     whether client hints fill what a URL leaves open
 * @param saveDataQuality the quality for {@code Save-Data: on}
 * @param watermark       the mark put on every image made, if any
 */
public record ImageOptionSettings(ImageOptions.Limits limits, Optional<UrlSigner> signer, boolean clientHints,
        int saveDataQuality, Optional<Watermark> watermark) {

    /** The settings' names, as the image endpoint's init-params. */
    public static final List<String> NAMES = List.of("maxWidth", "maxHeight", "maxDpr", "maxPixels", "formats",
            "presets", "presetsOnly", "signingKeys", "clientHints", "saveDataQuality", "watermark", "watermarkOpacity",
            "watermarkGravity", "watermarkSize", "watermarkMargin");

    /** Bounds {@link ImageOptions.Limits#DEFAULT}, no signing, no hints. */
    public static final ImageOptionSettings DEFAULT = new ImageOptionSettings(ImageOptions.Limits.DEFAULT,
            Optional.empty(), false, ClientHints.DEFAULT_SAVE_DATA_QUALITY, Optional.empty());

    /**
     * Reads the settings.
     *
     * @param value   a setting's text by its name in {@link #NAMES}, null when not set
     * @param display the name a setting has where it was written, for error messages ({@code imageMaxWidth})
     * @throws IllegalArgumentException naming the setting, the value and what is allowed
     */
    public static ImageOptionSettings of(UnaryOperator<String> value, UnaryOperator<String> display) {
        Reader r = new Reader(value, display);
        ImageOptions.Limits d = ImageOptions.Limits.DEFAULT;
        Set<String> formats = d.formats();
        String formatList = value.apply("formats");
        if (formatList != null) {
            formats = new HashSet<>();
            for (String format : formatList.split(",")) {
                if (!format.isBlank()) {
                    formats.add(format.trim());
                }
            }
        }
        int maxWidth = r.integer("maxWidth", d.maxWidth());
        int maxHeight = r.integer("maxHeight", d.maxHeight());
        double maxDpr = r.decimal("maxDpr", d.maxDpr());
        long maxPixels = r.integer("maxPixels", d.maxPixels());
        Map<String, String> presets = presets(value.apply("presets"), display.apply("presets"));
        boolean presetsOnly = r.bool("presetsOnly");
        ImageOptions.Limits limits;
        try {
            limits = new ImageOptions.Limits(maxWidth, maxHeight, maxDpr, maxPixels, formats, presets, presetsOnly);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("image options: " + e.getMessage(), e);
        }
        Optional<UrlSigner> signer = Optional.empty();
        String keys = value.apply("signingKeys");
        if (keys != null && !keys.isBlank()) {
            List<byte[]> secrets = new ArrayList<>();
            for (String key : keys.split(",")) {
                secrets.add(key.trim().getBytes(StandardCharsets.UTF_8));
            }
            try {
                signer = Optional.of(new UrlSigner(secrets));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + display.apply("signingKeys") + "': " + e.getMessage(), e);
            }
        }
        int quality = Math.toIntExact(r.integer("saveDataQuality", ClientHints.DEFAULT_SAVE_DATA_QUALITY));
        if (quality < 1 || quality > 100) {
            throw new IllegalArgumentException("'" + display.apply("saveDataQuality") + "' must be 1 to 100, got "
                    + quality);
        }
        return new ImageOptionSettings(limits, signer, r.bool("clientHints"), quality,
                Optional.ofNullable(Watermark.of(value, display)));
    }

    /** The image program's arg for options and a resolved format, with the watermark when there is one. */
    String programArg(ImageOptions options, String format) {
        String arg = options.programArg(format);
        return watermark.map(mark -> arg.substring(0, arg.length() - 1) + "," + mark.argMember() + "}").orElse(arg);
    }

    /** "thumb: w=200&h=200; hero: w=1280" → name → query. */
    static Map<String, String> presets(String text, String display) {
        Map<String, String> out = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String entry : text.split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            int colon = entry.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("'" + display + "': \"" + entry.trim() + "\" must be NAME: QUERY,"
                        + " e.g. thumb: w=200&h=200");
            }
            out.put(entry.substring(0, colon).trim(), entry.substring(colon + 1).trim());
        }
        return out;
    }

    /** Parses settings, naming them as written. */
    private record Reader(UnaryOperator<String> value, UnaryOperator<String> display) {

        int integer(String name, int absent) {
            return Math.toIntExact(integer(name, (long) absent));
        }

        long integer(String name, long absent) {
            String text = value.apply(name);
            if (text == null) {
                return absent;
            }
            String digits = text.strip().replace("_", "");
            if (!digits.matches("[0-9]{1,12}")) {
                throw new IllegalArgumentException("'" + display.apply(name) + "' must be a whole number, got \""
                        + LogText.escape(text) + "\"");
            }
            long n = Long.parseLong(digits);
            if (n > Integer.MAX_VALUE && !name.equals("maxPixels")) {
                throw new IllegalArgumentException("'" + display.apply(name) + "' is too large: " + n);
            }
            return n;
        }

        double decimal(String name, double absent) {
            String text = value.apply(name);
            if (text == null) {
                return absent;
            }
            if (!text.strip().matches("[0-9]{1,2}(\\.[0-9]{1,3})?")) {
                throw new IllegalArgumentException("'" + display.apply(name) + "' must be a number such as 2 or 2.5,"
                        + " got \"" + LogText.escape(text) + "\"");
            }
            return Double.parseDouble(text.strip());
        }

        boolean bool(String name) {
            String text = value.apply(name);
            if (text == null) {
                return false;
            }
            if (!text.strip().matches("true|false")) {
                throw new IllegalArgumentException("'" + display.apply(name) + "' must be true or false, got \""
                        + LogText.escape(text) + "\"");
            }
            return Boolean.parseBoolean(text.strip());
        }
    }
}
