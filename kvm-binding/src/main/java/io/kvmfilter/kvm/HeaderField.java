package io.kvmfilter.kvm;

import java.util.Locale;

/**
 * One "Name: value" header field as a program sets it ({@link Result#headers()}), split at its first colon.
 *
 * @param name  the name, without surrounding white space
 * @param value the value, without surrounding white space
 */
public record HeaderField(String name, String value) {

    /**
     * @param field "Name: value"
     * @return the field, or null when it has no name before a colon
     */
    public static HeaderField parse(String field) {
        int colon = field.indexOf(':');
        if (colon <= 0) {
            return null;
        }
        String name = field.substring(0, colon).trim();
        return name.isEmpty() ? null : new HeaderField(name, field.substring(colon + 1).trim());
    }

    /** @return the name in lower case, as header names compare */
    public String key() {
        return name.toLowerCase(Locale.ROOT);
    }
}
