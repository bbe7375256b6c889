package io.kvmfilter.filter;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one log line of a failed variant (or program servlet): which variant, why, for which request, the program's
 * own words, what is served instead, and how many failures of the same kind were not logged since the previous
 * line. Text that comes from programs and clients is escaped ({@link LogText}), in the text form and in the fields
 * alike.
 *
 * @param outcome     an outcome of kind {@link Outcome.Kind#FALLBACK}
 * @param request     the request it happened to
 * @param detail      what went wrong, often a program's X-Failed reason; null when there is none
 * @param consequence what happens instead, e.g. "serving the original"
 * @param suppressed  failures of this variant and reason not logged since the previous line
 */
record FailureLog(Outcome outcome, RequestLine request, String detail, String consequence, long suppressed)
        implements LogFields {

    @Override
    public Map<String, Object> fields() {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("outcome", outcome.text());
        fields.put("variant", outcome.variant());
        fields.put("reason", outcome.reason());
        fields.put("method", LogText.escape(request.method()));
        fields.put("uri", LogText.escape(request.uri()));
        fields.put("request_id", request.id());
        if (detail != null) {
            fields.put("detail", LogText.escape(detail));
        }
        fields.put("suppressed", suppressed);
        return fields;
    }

    @Override
    public String toString() {
        return "kvmfilter: variant " + outcome.variant() + " failed (" + outcome.reason() + ") for "
                + request.forLog() + ": " + (detail == null ? "no detail" : LogText.escape(detail))
                + "; " + consequence
                + (suppressed == 0 ? "" : " (" + suppressed + " more such failures since the last message)");
    }
}
