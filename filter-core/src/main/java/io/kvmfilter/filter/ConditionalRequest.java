package io.kvmfilter.filter;

import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Conditional requests and caches for negotiated variants (RFC 9110 §13, §15.4.5): the variant's ETag suffix
 * is taken off the tags of {@code If-None-Match} so the application's own 304 logic still works, and put back on
 * its 304; every 304 and every response of a negotiable resource carries {@code Vary: Accept}.
 *
 * <p>One per request. {@code predictedType} is the media type the path's extension suggests (null when unknown):
 * before the application answers, it is the only hint of which variant this request will be served.
 */
final class ConditionalRequest {

    private final KvmFilterConfig config;
    private final TransformDecision decision;
    private final Negotiation negotiation;
    private final String predictedType;
    private String strippedVariant;
    private final List<String> strippedTags = new ArrayList<>();

    ConditionalRequest(KvmFilterConfig config, TransformDecision decision, Negotiation negotiation,
            String predictedType) {
        this.config = config;
        this.decision = decision;
        this.negotiation = negotiation;
        this.predictedType = predictedType;
    }

    /**
     * The If-None-Match the application sees: the suffix of the variant this request would be served is removed
     * from its tags. Tags of our other variants are left out: they cannot match this response, and some
     * applications (Jetty's DefaultServlet) ignore anything after "--" when comparing. Tags without our suffix
     * name the original: they are left out too when the path's type says a variant will be served.
     *
     * @param header the request's If-None-Match, null when absent
     * @return the value to show the application, null for none
     */
    String mapIfNoneMatch(String header) {
        if (header == null) {
            return null;
        }
        Optional<Variant> predicted = predictedType == null ? Optional.empty()
                : decision.servedVariant(predictedType, negotiation);
        List<String> mapped = new ArrayList<>();
        for (String tag : ETags.split(header)) {
            String variant = ETags.variantOf(tag);
            if (variant == null || variantNamed(variant).isEmpty()) {
                if (predicted.isEmpty()) {
                    mapped.add(tag);
                }
            } else if (wouldServe(variant)) {
                String base = ETags.withoutSuffix(tag, variant);
                strippedVariant = variant;
                strippedTags.add(base);
                mapped.add(base);
            }
        }
        return mapped.isEmpty() ? null : String.join(", ", mapped);
    }

    /** Would this request be served the named variant, judging by the path's media type and Accept? */
    private boolean wouldServe(String variantName) {
        for (Rule rule : config.ruleList()) {
            if (rule.variants().stream().noneMatch(v -> v.name().equals(variantName))) {
                continue;
            }
            String sourceType = predictedType;
            if (sourceType == null) {
                sourceType = rule.sourceTypes().stream().filter(t -> !t.endsWith("/*")).findFirst().orElse(null);
            } else if (!rule.covers(sourceType)) {
                continue;
            }
            if (sourceType != null && negotiation.choose(rule, sourceType)
                    .filter(v -> v.name().equals(variantName)).isPresent()) {
                return true;
            }
        }
        return false;
    }

    /** Gives a 304 the ETag and Vary the 200 it stands for would have. */
    void completeNotModified(HttpServletResponse response) {
        String etag = response.getHeader("ETag");
        if (etag != null && strippedVariant != null
                && strippedTags.stream().anyMatch(tag -> ETags.weakMatch(tag, etag))) {
            boolean negotiated = variantNamed(strippedVariant).map(Variant::negotiated).orElse(true);
            response.setHeader("ETag", ETags.withSuffix(etag, strippedVariant, !negotiated));
        } else if (etag != null && strippedVariant == null) {
            // Not modified by date (If-Modified-Since): the 304 names the variant the 200 would have been.
            String type = MediaTypes.baseType(response.getContentType());
            String known = type != null ? type : predictedType;
            if (known != null) {
                decision.servedVariant(known, negotiation)
                        .ifPresent(v -> response.setHeader("ETag", ETags.withSuffix(etag, v.name(), !v.negotiated())));
            }
        }
        if (negotiable(response)) {
            addVaryAccept(response);
        }
    }

    /** Is the resource negotiable, judged by what is known: the response type, the stripped tag, the path? */
    private boolean negotiable(HttpServletResponse response) {
        Optional<Rule> rule = decision.ruleFor(response.getContentType());
        if (rule.isPresent()) {
            return rule.get().negotiable();
        }
        if (strippedVariant != null) {
            return variantNamed(strippedVariant).map(Variant::negotiated).orElse(false);
        }
        return predictedType != null && decision.ruleFor(predictedType).map(Rule::negotiable).orElse(false);
    }

    private Optional<Variant> variantNamed(String name) {
        for (Rule rule : config.ruleList()) {
            for (Variant variant : rule.variants()) {
                if (variant.name().equals(name)) {
                    return Optional.of(variant);
                }
            }
        }
        return Optional.empty();
    }

    /** Adds {@code Vary: Accept} unless the response already varies on Accept (or on everything). */
    static void addVaryAccept(HttpServletResponse response) {
        for (String vary : response.getHeaders("Vary")) {
            for (String field : vary.split(",")) {
                String f = field.trim().toLowerCase(Locale.ROOT);
                if (f.equals("accept") || f.equals("*")) {
                    return;
                }
            }
        }
        response.addHeader("Vary", "Accept");
    }
}
