package io.kvmfilter.filter;

import jakarta.servlet.http.HttpServletRequest;
import java.lang.System.Logger.Level;
import java.util.function.Supplier;

/**
 * The request as the filter's log lines and programs name it.
 *
 * @param method the request method as the client sent it
 * @param uri    the request URI (path, not decoded)
 * @param query  the query string, null when there is none
 */
record RequestLine(String method, String uri, String query) {

    private static final System.Logger LOG = System.getLogger(KvmFilter.class.getName());

    static RequestLine of(HttpServletRequest request) {
        return new RequestLine(request.getMethod(), request.getRequestURI(), request.getQueryString());
    }

    /** Path and query: the URL programs receive. */
    String url() {
        return query == null ? uri : uri + "?" + query;
    }

    /** Method and URI for the log, escaped: a URI cannot forge log lines. */
    String forLog() {
        return LogText.escape(method + " " + uri);
    }

    /** Logs a decision at DEBUG; the message is built only when DEBUG is on: most responses pass unlogged. */
    void debug(Supplier<String> reason) {
        if (LOG.isLoggable(Level.DEBUG)) {
            LOG.log(Level.DEBUG, "kvmfilter: " + forLog() + ": " + LogText.escape(reason.get()));
        }
    }
}
