package io.kvmfilter.filter;

import java.util.Locale;

/** Small helpers for media type strings ({@code type/subtype;param=value}). */
final class MediaTypes {

    private MediaTypes() {
    }

    /** The lower-case {@code type/subtype} of a Content-Type value, without parameters; null stays null. */
    static String baseType(String contentType) {
        if (contentType == null) {
            return null;
        }
        int semicolon = contentType.indexOf(';');
        String base = semicolon < 0 ? contentType : contentType.substring(0, semicolon);
        return base.trim().toLowerCase(Locale.ROOT);
    }

    /** Is {@code text} a syntactically valid {@code type/subtype}, or {@code type/*} when wildcards are allowed? */
    static boolean isValid(String text, boolean allowWildcard) {
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || text.indexOf('/', slash + 1) >= 0) {
            return false;
        }
        String type = text.substring(0, slash);
        String subtype = text.substring(slash + 1);
        if (allowWildcard && subtype.equals("*")) {
            return isToken(type);
        }
        return isToken(type) && isToken(subtype);
    }

    /**
     * Does a pattern ({@code image/png}, {@code image/*} or {@code * /*}) match a concrete base type?
     * Both arguments are lower-case base types.
     */
    static boolean matches(String pattern, String mediaType) {
        if (pattern.equals("*/*") || pattern.equals(mediaType)) {
            return true;
        }
        if (pattern.endsWith("/*")) {
            return mediaType.startsWith(pattern.substring(0, pattern.length() - 1));
        }
        return false;
    }

    /** The part after the slash: {@code image/webp} gives {@code webp}. */
    static String subtype(String mediaType) {
        return mediaType.substring(mediaType.indexOf('/') + 1);
    }

    private static boolean isToken(String text) {
        if (text.isEmpty()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$&-^_.+".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
