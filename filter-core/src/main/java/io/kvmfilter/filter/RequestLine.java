package io.kvmfilter.filter;

import jakarta.servlet.http.HttpServletRequest;
import java.lang.System.Logger.Level;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The request as the filter's log lines and programs name it.
 *
 * @param method the request method as the client sent it
 * @param uri    the request URI (path, not decoded)
 * @param query  the query string, null when there is none
 * @param id     what names this request in every log line about it: the {@value #ID_HEADER} the client or a proxy
 *               in front gave (so that the line can be matched with the proxy's and the application's), else the
 *               container's request identifier
 */
record RequestLine(String method, String uri, String query, String id) {

    private static final System.Logger LOG = System.getLogger(KvmFilter.class.getName());

    /** The request header whose value names the request in the log, when it is a plain token. */
    static final String ID_HEADER = "X-Request-Id";

    /** What a request id may be: what proxies generate (hex, UUIDs, base64), bounded: it cannot forge log text. */
    private static final Pattern PLAIN_ID = Pattern.compile("[A-Za-z0-9._:+/=-]{1,128}");

    static RequestLine of(HttpServletRequest request) {
        String given = request.getHeader(ID_HEADER);
        String id = given != null && PLAIN_ID.matcher(given).matches() ? given : request.getRequestId();
        if (id == null || id.isEmpty()) {
            id = "-"; // a request object of the application's own that names none
        }
        return new RequestLine(request.getMethod(), request.getRequestURI(), request.getQueryString(), id);
    }

    /** Path and query: the URL programs receive. */
    String url() {
        return query == null ? uri : uri + "?" + query;
    }

    /** Method, URI and request id for the log, escaped: a URI cannot forge log lines. */
    String forLog() {
        return LogText.escape(method + " " + uri + " (request " + id + ")");
    }

    /** Logs a decision at DEBUG; the message is built only when DEBUG is on: most responses pass unlogged. */
    void debug(Supplier<String> reason) {
        if (LOG.isLoggable(Level.DEBUG)) {
            LOG.log(Level.DEBUG, "kvmfilter: " + forLog() + ": " + LogText.escape(reason.get()));
        }
    }
}
