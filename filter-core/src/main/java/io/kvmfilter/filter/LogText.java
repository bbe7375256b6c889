package io.kvmfilter.filter;

/**
 * Text from programs and clients as it may appear in a log line: control characters are escaped, so a program's
 * message or a request URI with CR/LF cannot forge log lines ({@code \r}, {@code \n}, {@code \t}, {@code \\},
 * other controls as {@code \}{@code u00XX}), and very long text is cut.
 */
final class LogText {

    /** Longest text kept; the rest is replaced by a note of how much was cut. */
    static final int MAX_LENGTH = 2000;

    private LogText() {
    }

    /** The text with control characters escaped, at most {@link #MAX_LENGTH} characters of it; null stays null. */
    static String escape(String text) {
        if (text == null) {
            return null;
        }
        int length = Math.min(text.length(), MAX_LENGTH);
        StringBuilder escaped = null;
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            String replacement = switch (c) {
                case '\r' -> "\\r";
                case '\n' -> "\\n";
                case '\t' -> "\\t";
                case '\\' -> "\\\\";
                default -> c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || c == '\u0085'
                        ? String.format("\\u%04x", (int) c) : null;
            };
            if (replacement != null && escaped == null) {
                escaped = new StringBuilder(length + 16).append(text, 0, i);
            }
            if (escaped != null) {
                if (replacement != null) {
                    escaped.append(replacement);
                } else {
                    escaped.append(c);
                }
            }
        }
        String result = escaped == null ? text.substring(0, length) : escaped.toString();
        return text.length() > length ? result + "... (" + (text.length() - length) + " more characters)" : result;
    }
}
