package io.kvmfilter.filter;

import java.util.ArrayList;
import java.util.List;

/**
 * Entity tags of transformed variants: the application's tag with {@code --<variant>} appended inside the
 * quotes, as Jetty's gzip handler does with {@code --gzip}. {@code "abc"} becomes {@code "abc--webp"}.
 */
final class ETags {

    /** Separator between the application's tag and the variant name. */
    static final String SEPARATOR = "--";

    private ETags() {
    }

    /**
     * The tag of a variant.
     *
     * @param etag    the application's ETag header value
     * @param variant the variant name
     * @param weak    make the result weak (transformed text: Tomcat never compresses a strong-tagged response)
     * @return the variant's tag, or the input unchanged when it is not a quoted entity tag
     */
    static String withSuffix(String etag, String variant, boolean weak) {
        String tag = etag.trim();
        boolean wasWeak = tag.startsWith("W/");
        String opaque = wasWeak ? tag.substring(2) : tag;
        if (opaque.length() < 2 || !opaque.startsWith("\"") || !opaque.endsWith("\"")) {
            return etag;
        }
        String inner = opaque.substring(1, opaque.length() - 1);
        return (wasWeak || weak ? "W/" : "") + "\"" + inner + SEPARATOR + variant + "\"";
    }

    /** The variant name of a suffixed tag, or null. */
    static String variantOf(String tag) {
        String opaque = tag.startsWith("W/") ? tag.substring(2) : tag;
        if (opaque.length() < 2 || !opaque.endsWith("\"")) {
            return null;
        }
        int separator = opaque.lastIndexOf(SEPARATOR);
        if (separator < 1) {
            return null;
        }
        return opaque.substring(separator + SEPARATOR.length(), opaque.length() - 1);
    }

    /** A tag without its variant suffix: {@code W/"abc--minify"} becomes {@code W/"abc"}. */
    static String withoutSuffix(String tag, String variant) {
        String suffix = SEPARATOR + variant + "\"";
        if (!tag.endsWith(suffix)) {
            return tag;
        }
        return tag.substring(0, tag.length() - suffix.length()) + "\"";
    }

    /** Splits an If-None-Match value into its entity tags (tags cannot contain commas or quotes). */
    static List<String> split(String header) {
        List<String> tags = new ArrayList<>();
        for (String part : header.split(",")) {
            String tag = part.trim();
            if (!tag.isEmpty()) {
                tags.add(tag);
            }
        }
        return tags;
    }

    /** A strong entity tag: quoted, without {@code W/} (RFC 9110 §8.8.3). */
    static boolean isStrong(String tag) {
        String t = tag.trim();
        return t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"");
    }

    /** Weak comparison (RFC 9110 §8.8.3.2): equal opaque tags, ignoring W/. */
    static boolean weakMatch(String a, String b) {
        return opaque(a).equals(opaque(b));
    }

    private static String opaque(String tag) {
        String t = tag.trim();
        return t.startsWith("W/") ? t.substring(2) : t;
    }
}
