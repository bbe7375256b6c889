package io.kvmfilter.filter;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * The request the application sees while its response may be transformed.
 *
 * <ul>
 *   <li>HEAD looks like GET when {@code headAsGet} is on, so the application produces the body the transform
 *       needs and both methods get the same headers.</li>
 *   <li>{@code Range} and {@code If-Range} are hidden: a 206 cannot be transformed, the whole body is needed (the
 *       filter answers the Range itself when the response is served untransformed).</li>
 *   <li>{@code If-None-Match} and {@code If-Modified-Since} of a GET or HEAD are hidden: the filter answers them
 *       ({@link ConditionalRequest}), so a 304 carries the variant's ETag and exactly the headers of its 200.</li>
 *   <li>When the variant's stored result is at hand for the original's last strong ETag, the application sees
 *       {@code If-None-Match} with that ETag instead ({@link KnownOriginals}): its 304 says the stored result is
 *       still right, and it need not produce the body.</li>
 *   <li>{@code startAsync()} binds the wrapped response, so asynchronous writes are buffered too, and returns an
 *       {@link AsyncContext} whose {@code complete()} runs the transform first.</li>
 * </ul>
 */
final class TransformRequest extends HttpServletRequestWrapper {

    private static final String RANGE = "range";
    private static final String IF_RANGE = "if-range";
    private static final String IF_NONE_MATCH = "if-none-match";
    private static final String IF_MODIFIED_SINCE = "if-modified-since";

    private final TransformResponse response;
    private final TransformAsyncContext.Owner owner;
    private final boolean headAsGet;
    private final boolean hideRange;
    private final boolean hideConditions;
    /** The If-None-Match the application sees: a known original's strong ETag, or null. */
    private final String revalidationEtag;
    private volatile TransformAsyncContext asyncContext;

    /**
     * @param response    the wrapped response, which {@code startAsync()} binds
     * @param owner       finishes the response when the application completes the asynchronous request
     * @param hideRange   hide Range and If-Range: the whole body is needed
     * @param hideConditions hide If-None-Match and If-Modified-Since: the filter answers them (ConditionalRequest)
     * @param revalidationEtag with hideConditions, the If-None-Match the application sees instead, or null
     */
    TransformRequest(HttpServletRequest request, TransformResponse response, TransformAsyncContext.Owner owner,
            boolean headAsGet, boolean hideRange, boolean hideConditions, String revalidationEtag) {
        super(request);
        this.response = response;
        this.owner = owner;
        this.headAsGet = headAsGet;
        this.hideRange = hideRange;
        this.hideConditions = hideConditions;
        this.revalidationEtag = hideConditions ? revalidationEtag : null;
    }

    @Override
    public String getMethod() {
        String method = super.getMethod();
        return headAsGet && "HEAD".equals(method) ? "GET" : method;
    }

    // Header names are ASCII tokens; comparing without lower-casing a copy matters because the container asks for
    // every header of every request through this wrapper.
    private boolean hidden(String name) {
        return hideRange && (RANGE.equalsIgnoreCase(name) || IF_RANGE.equalsIgnoreCase(name))
                || hideConditions && (IF_NONE_MATCH.equalsIgnoreCase(name) || IF_MODIFIED_SINCE.equalsIgnoreCase(name));
    }

    private boolean revalidating(String name) {
        return revalidationEtag != null && IF_NONE_MATCH.equalsIgnoreCase(name);
    }

    @Override
    public String getHeader(String name) {
        if (revalidating(name)) {
            return revalidationEtag;
        }
        return hidden(name) ? null : super.getHeader(name);
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
        if (revalidating(name)) {
            return Collections.enumeration(List.of(revalidationEtag));
        }
        return hidden(name) ? Collections.emptyEnumeration() : super.getHeaders(name);
    }

    @Override
    public Enumeration<String> getHeaderNames() {
        List<String> names = new ArrayList<>();
        for (String name : Collections.list(super.getHeaderNames())) {
            if (!hidden(name)) {
                names.add(name);
            }
        }
        if (revalidationEtag != null) {
            names.add("If-None-Match");
        }
        return Collections.enumeration(names);
    }

    @Override
    public long getDateHeader(String name) {
        return hidden(name) ? -1 : super.getDateHeader(name);
    }

    @Override
    public int getIntHeader(String name) {
        return hidden(name) ? -1 : super.getIntHeader(name);
    }

    @Override
    public AsyncContext startAsync() {
        // The container's startAsync() would bind the unwrapped response: asynchronous writes would bypass us.
        TransformAsyncContext context = new TransformAsyncContext(super.startAsync(this, response), owner, true);
        asyncContext = context;
        return context;
    }

    @Override
    public AsyncContext startAsync(ServletRequest request, ServletResponse response) {
        TransformAsyncContext context = new TransformAsyncContext(super.startAsync(request, response), owner, false);
        asyncContext = context;
        return context;
    }

    @Override
    public AsyncContext getAsyncContext() {
        TransformAsyncContext context = asyncContext;
        if (context != null && isAsyncStarted()) {
            return context;
        }
        return super.getAsyncContext();
    }
}
