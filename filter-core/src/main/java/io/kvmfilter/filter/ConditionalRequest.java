package io.kvmfilter.filter;

import jakarta.servlet.http.HttpServletResponse;
import java.util.List;
import java.util.Optional;

/**
 * Conditional GET and HEAD requests (RFC 9110 §13) for resources the filter may transform. The filter answers
 * {@code If-None-Match} and {@code If-Modified-Since} itself, hiding them from the application: only the filter
 * knows the ETag of the variant a request gets, and a 304 made from the 200 the application wrote carries exactly
 * that 200's ETag, Vary, Cache-Control and Accept-Ranges (an application's own 304 may leave some out: Jetty's
 * DefaultServlet sends no ETag on a 304 for If-Modified-Since, Tomcat's no Accept-Ranges). The price is that the
 * application produces the body, which the filter then drops.
 *
 * <p>A 304 the application makes anyway (a request the filter did not expect to transform) gets the variant's
 * ETag and {@code Vary: Accept} here too. One per request.
 */
final class ConditionalRequest {

    private final TransformDecision decision;
    private final Negotiation negotiation;
    private final String predictedType;
    private final List<String> ifNoneMatch;
    private final long ifModifiedSince;

    /**
     * @param predictedType   the media type the path's extension suggests, null when unknown
     * @param ifNoneMatch     the request's If-None-Match when the filter answers it, null otherwise
     * @param ifModifiedSince the request's If-Modified-Since (epoch ms) when the filter answers it, else -1
     */
    ConditionalRequest(TransformDecision decision, Negotiation negotiation, String predictedType, String ifNoneMatch,
            long ifModifiedSince) {
        this.decision = decision;
        this.negotiation = negotiation;
        this.predictedType = predictedType;
        this.ifNoneMatch = ifNoneMatch == null ? null : ETags.split(ifNoneMatch);
        this.ifModifiedSince = ifModifiedSince;
    }

    /**
     * Does the client already have the representation of this 200 (RFC 9110 §13.2.2: If-None-Match, and only
     * without it If-Modified-Since)?
     *
     * @param etag         the ETag the 200 carries (the variant's, for a transformed one), or null
     * @param lastModified its Last-Modified, or null
     */
    boolean notModified(String etag, String lastModified) {
        if (ifNoneMatch != null) {
            if (ifNoneMatch.contains("*")) {
                return true;
            }
            return etag != null && ifNoneMatch.stream().anyMatch(tag -> ETags.weakMatch(tag, etag));
        }
        if (ifModifiedSince < 0) {
            return false;
        }
        long modified = HttpDates.parse(lastModified);
        return modified >= 0 && modified / 1000 <= ifModifiedSince / 1000;
    }

    /** Gives a 304 the application made the ETag, Accept-Ranges and Vary of the 200 it stands for. */
    void completeNotModified(HttpServletResponse response) {
        String type = MediaTypes.baseType(response.getContentType());
        String known = type != null ? type : predictedType;
        Optional<Variant> variant = known == null ? Optional.empty() : decision.servedVariant(known, negotiation);
        if (variant.isPresent()) {
            String etag = response.getHeader("ETag");
            if (etag != null) {
                response.setHeader("ETag", ETags.withSuffix(etag, variant.get().name(), !variant.get().negotiated()));
            }
            response.setHeader("Accept-Ranges", "none");
            if (variant.get().requested()) {
                addVaryAccept(response);
                negotiation.optionHeaders(response);
            }
        }
        Optional<Rule> rule = known == null ? Optional.empty() : decision.ruleFor(known);
        if (rule.isPresent() && rule.get().negotiable()) {
            addVaryAccept(response);
        }
    }

    /** Adds {@code Vary: Accept} unless the response already varies on Accept (or on everything). */
    static void addVaryAccept(HttpServletResponse response) {
        addVary(response, "Accept");
    }

    /** Adds a request header's name to Vary unless it (or {@code *}) is there already. */
    static void addVary(HttpServletResponse response, String name) {
        for (String vary : response.getHeaders("Vary")) {
            for (String field : vary.split(",")) {
                String f = field.trim();
                if (f.equalsIgnoreCase(name) || f.equals("*")) {
                    return;
                }
            }
        }
        response.addHeader("Vary", name);
    }
}
