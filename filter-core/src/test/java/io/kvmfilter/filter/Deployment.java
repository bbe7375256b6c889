package io.kvmfilter.filter;

import jakarta.servlet.Filter;
import jakarta.servlet.Servlet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a test deploys into a container: servlets, filters, static files, context-params. */
final class Deployment {

    record ServletSpec(String name, Servlet servlet, String pattern, Map<String, String> initParams) {
    }

    record FilterSpec(String name, Filter filter, String pattern, Map<String, String> initParams) {
    }

    final List<ServletSpec> servlets = new ArrayList<>();
    final List<FilterSpec> filters = new ArrayList<>();
    final Map<String, String> contextParams = new LinkedHashMap<>();
    /** Extension to media type, for the container's getMimeType and DefaultServlet. */
    final Map<String, String> mimeTypes = new LinkedHashMap<>(Map.of("png", "image/png", "jpg", "image/jpeg", "gif", "image/gif",
            "txt", "text/plain", "html", "text/html", "css", "text/css", "js", "text/javascript",
            "mp4", "video/mp4"));
    /** Whether filters are mapped for the ASYNC dispatcher type too (they should be). */
    boolean filtersOnAsyncDispatch = true;
    /** The container's request threads at most; 0 for its default (a test that counts on few threads sets it). */
    int maxThreads;
    /** Directory served by the container's DefaultServlet at "/" (none when null). */
    Path staticFiles;

    Deployment servlet(String pattern, Servlet servlet) {
        servlets.add(new ServletSpec("servlet" + servlets.size(), servlet, pattern, Map.of()));
        return this;
    }

    Deployment servlet(String pattern, Servlet servlet, Map<String, String> initParams) {
        servlets.add(new ServletSpec("servlet" + servlets.size(), servlet, pattern, initParams));
        return this;
    }

    Deployment filter(String name, Filter filter, String pattern, Map<String, String> initParams) {
        filters.add(new FilterSpec(name, filter, pattern, initParams));
        return this;
    }

    Deployment staticFiles(Path dir) {
        staticFiles = dir;
        return this;
    }

    Deployment contextParam(String name, String value) {
        contextParams.put(name, value);
        return this;
    }
}
