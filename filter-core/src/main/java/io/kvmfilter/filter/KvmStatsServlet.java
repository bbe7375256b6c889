package io.kvmfilter.filter;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reports what every {@link KvmFilter} and {@link ProgramServlet} of the web application did, as JSON:
 * {@code {"filter:images": {"counters": {"applied=webp": 12}, "sandbox": {...}, "store": {...}}, ...}} where
 * "sandbox" is kvm-binding's per-program statistics (invocations, failures by kind, timings, instances) and
 * "store" a filter's result store tiers (hits, misses, coalesced waits, negative hits, evictions, bytes) and
 * waiting lines (running, waiting, busy, queue timeouts, pauses).
 *
 * <p>With init-param {@code allowInvalidate=true}, {@code POST ?invalidate=<regex>} makes the matching programs
 * load again from their files on next use (after deploying a new program). Protect this servlet as any admin
 * endpoint (a security-constraint in web.xml): the statistics reveal traffic, and invalidation costs boots.
 */
public class KvmStatsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** Whether POST ?invalidate=regex is allowed (default false). */
    public static final String PARAM_ALLOW_INVALIDATE = "allowInvalidate";

    private transient boolean allowInvalidate;

    @Override
    public void init() throws ServletException {
        String value = getInitParameter(PARAM_ALLOW_INVALIDATE);
        try {
            allowInvalidate = value != null && KvmFilterSpec.parseBoolean(PARAM_ALLOW_INVALIDATE, value.trim());
        } catch (IllegalArgumentException e) {
            throw new ServletException("KvmStatsServlet '" + getServletName() + "': " + e.getMessage(), e);
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        StringBuilder json = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, StatsRegistry.Source> entry : StatsRegistry.all(getServletContext()).entrySet()) {
            json.append(first ? "\n  " : ",\n  ").append(quote(entry.getKey())).append(": {\"counters\": {");
            first = false;
            boolean firstCounter = true;
            for (Map.Entry<String, Long> counter : entry.getValue().counters().entrySet()) {
                json.append(firstCounter ? "" : ", ").append(quote(counter.getKey())).append(": ")
                        .append(counter.getValue());
                firstCounter = false;
            }
            json.append("}, \"sandbox\": ").append(entry.getValue().statsJson().orElse("null"));
            entry.getValue().storeJson().ifPresent(store -> json.append(", \"store\": ").append(store));
            json.append("}");
        }
        json.append(first ? "}" : "\n}").append('\n');
        send(response, 200, json.toString());
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!allowInvalidate) {
            send(response, 403, "{\"error\": \"invalidation is turned off (init-param allowInvalidate=true)\"}\n");
            return;
        }
        String regex = request.getParameter("invalidate");
        if (regex == null) {
            send(response, 400, "{\"error\": \"give the programs to reload as ?invalidate=<regular expression>\"}\n");
            return;
        }
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            send(response, 400, "{\"error\": " + quote("invalid regular expression: " + e.getDescription()) + "}\n");
            return;
        }
        int count = 0;
        for (StatsRegistry.Source source : StatsRegistry.all(getServletContext()).values()) {
            count += source.invalidate(pattern);
        }
        send(response, 200, "{\"invalidated\": " + count + "}\n");
    }

    private static void send(HttpServletResponse response, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    /** A JSON string literal. */
    static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
