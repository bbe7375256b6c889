package io.kvmfilter.filter;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Chooses the variant of a rule for one request from its {@code Accept} header.
 *
 * <p>Candidates are the rule's variants in server preference order (e.g. avif, then webp), then the source itself
 * (or the rule's variant without an output type, which keeps the source type). The candidate with the highest
 * quality value wins; ties go to the earlier candidate. {@code q=0} excludes a type. A type's quality comes from
 * the most specific matching range ({@code image/webp} over {@code image/*} over {@code *}{@code /*}).
 *
 * <p>Negotiated variants are chosen only when the client names their type explicitly, unless
 * {@code variantsForWildcards} is set: many clients send {@code *}{@code /*} without being able to decode AVIF.
 * Without an {@code Accept} header the source is served.
 */
final class Negotiation {

    private final List<AcceptHeader.Range> ranges;
    private final boolean variantsForWildcards;

    private Negotiation(List<AcceptHeader.Range> ranges, boolean variantsForWildcards) {
        this.ranges = ranges;
        this.variantsForWildcards = variantsForWildcards;
    }

    /** Parses an Accept header (null when absent), leniently: see {@link AcceptHeader}. */
    static Negotiation of(String accept, boolean variantsForWildcards) {
        return new Negotiation(List.copyOf(AcceptHeader.parse(accept)), variantsForWildcards);
    }

    /**
     * The variant to serve for a source of {@code sourceType}, or empty for the source itself.
     *
     * @param rule       the rule covering the source type
     * @param sourceType lower-case base type of the response
     */
    Optional<Variant> choose(Rule rule, String sourceType) {
        return choose(rule, sourceType, Set.of());
    }

    /**
     * The variant to serve when those in {@code excluded} cannot carry this source (an animation the AVIF program
     * would flatten): the next the client accepts, or empty for the source itself.
     */
    Optional<Variant> choose(Rule rule, String sourceType, Set<Variant> excluded) {
        Optional<Variant> best = Optional.empty();
        double bestQuality = 0;
        boolean sourceCandidateSeen = false;
        for (Variant variant : rule.variants()) {
            if (excluded.contains(variant)) {
                continue;
            }
            if (variant.negotiated()) {
                String type = variant.outputType().get();
                if (type.equals(sourceType)) {
                    continue; // converting webp to webp: the source already is this variant
                }
                double q = quality(type, !variantsForWildcards);
                if (q > bestQuality) {
                    best = Optional.of(variant);
                    bestQuality = q;
                }
            } else {
                sourceCandidateSeen = true;
                double q = quality(sourceType, false);
                if (q > bestQuality) {
                    best = Optional.of(variant);
                    bestQuality = q;
                }
            }
        }
        if (!sourceCandidateSeen) {
            double q = quality(sourceType, false);
            if (q > bestQuality) {
                best = Optional.empty();
                bestQuality = q;
            }
        }
        if (bestQuality == 0) {
            // Nothing acceptable: serve what the application produced, as it would have without us.
            return rule.unconditionalVariant().filter(variant -> !excluded.contains(variant));
        }
        return best;
    }

    /**
     * Quality of a concrete media type: from the most specific matching range, 0 when none matches. Without an
     * Accept header every type is acceptable except those that must be named explicitly.
     */
    double quality(String mediaType, boolean explicitOnly) {
        if (ranges.isEmpty()) {
            return explicitOnly ? 0 : 1;
        }
        int bestSpecificity = -1;
        double quality = 0;
        for (AcceptHeader.Range range : ranges) {
            int specificity;
            if (range.type().equals(mediaType)) {
                specificity = 2;
            } else if (explicitOnly) {
                continue;
            } else if (range.type().equals("*/*")) {
                specificity = 0;
            } else if (range.type().endsWith("/*") && MediaTypes.matches(range.type(), mediaType)) {
                specificity = 1;
            } else {
                continue;
            }
            if (specificity > bestSpecificity) {
                bestSpecificity = specificity;
                quality = range.quality();
            }
        }
        return quality;
    }
}
