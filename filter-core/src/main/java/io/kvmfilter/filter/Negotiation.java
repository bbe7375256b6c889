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
 *
 * <p>A URL with image options on an option path ({@link FilterImageOptions}) gets the variant those options make
 * instead, for every source the image program reads; options that were refused get the source.
 */
final class Negotiation {

    private final List<AcceptHeader.Range> ranges;
    private final boolean variantsForWildcards;
    private final FilterImageOptions imageOptions;
    private final FilterImageOptions.Asked asked;

    private Negotiation(List<AcceptHeader.Range> ranges, boolean variantsForWildcards,
            FilterImageOptions imageOptions, FilterImageOptions.Asked asked) {
        this.ranges = ranges;
        this.variantsForWildcards = variantsForWildcards;
        this.imageOptions = imageOptions;
        this.asked = asked;
    }

    /** Parses an Accept header (null when absent), leniently: see {@link AcceptHeader}. */
    static Negotiation of(String accept, boolean variantsForWildcards) {
        return of(accept, variantsForWildcards, null, null);
    }

    /**
     * As {@link #of(String, boolean)}, for a request whose URL asked for image options.
     *
     * @param imageOptions the filter's option paths, or null
     * @param asked        what the URL asked for, or null for no options
     */
    static Negotiation of(String accept, boolean variantsForWildcards, FilterImageOptions imageOptions,
            FilterImageOptions.Asked asked) {
        return new Negotiation(List.copyOf(AcceptHeader.parse(accept)), variantsForWildcards, imageOptions, asked);
    }

    /**
     * The headers of an option variant's response beyond {@code Vary: Accept}: the client hints its options
     * depended on, and {@code Accept-CH} when option URLs take hints.
     */
    void optionHeaders(jakarta.servlet.http.HttpServletResponse response) {
        if (asked == null || asked.options() == null) {
            return;
        }
        asked.vary().forEach(name -> ConditionalRequest.addVary(response, name));
        if (imageOptions.clientHints()) {
            response.setHeader("Accept-CH", ClientHints.ACCEPT_CH);
        }
    }

    /** Why the URL's image options were refused ({@code invalid-option}, {@code bad-signature}), if they were. */
    Optional<FilterImageOptions.Asked> refusal() {
        return asked != null && asked.options() == null ? Optional.of(asked) : Optional.empty();
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
        if (asked != null && FilterImageOptions.SOURCES.contains(sourceType)) {
            if (asked.options() == null) {
                return Optional.empty(); // refused options: the original, as the application made it
            }
            Optional<Variant> made = imageOptions.variant(asked.options(), sourceType, this);
            if (made.isPresent()) {
                return made.filter(variant -> !excluded.contains(variant));
            }
        }
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
