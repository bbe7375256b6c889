package io.kvmfilter.filter;

import java.util.List;
import java.util.Optional;

/**
 * Which variants may be produced from responses of the given source media types.
 *
 * @param sourceTypes media types this rule applies to ({@code image/jpeg}, or {@code image/*})
 * @param variants    variants in server preference order; negotiated ones first, at most one
 *                    non-negotiated one, last
 */
record Rule(List<String> sourceTypes, List<Variant> variants) {

    Rule {
        sourceTypes = List.copyOf(sourceTypes);
        variants = List.copyOf(variants);
    }

    /** Does this rule apply to the given media type (lower-case, without parameters)? */
    boolean covers(String mediaType) {
        for (String sourceType : sourceTypes) {
            if (MediaTypes.matches(sourceType, mediaType)) {
                return true;
            }
        }
        return false;
    }

    /** True when at least one variant depends on {@code Accept}: responses must then carry {@code Vary: Accept}. */
    boolean negotiable() {
        return variants.stream().anyMatch(Variant::negotiated);
    }

    /** The variant that is applied to every client, if the rule has one. */
    Optional<Variant> unconditionalVariant() {
        return variants.stream().filter(v -> !v.negotiated()).findFirst();
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(String.join(", ", sourceTypes)).append(" -> ");
        for (int i = 0; i < variants.size(); i++) {
            if (i > 0) {
                text.append(", ");
            }
            text.append(variants.get(i));
        }
        return text.toString();
    }
}
