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
 *   <li>{@code Range} and {@code If-Range} are hidden: a 206 cannot be transformed, the whole body is needed.</li>
 *   <li>{@code If-None-Match} loses the variant suffix of the tag the filter would serve, so the application's own
 *       304 logic still works; the filter puts the suffix back on the 304.</li>
 *   <li>{@code startAsync()} binds the wrapped response, so asynchronous writes are buffered too, and returns an
 *       {@link AsyncContext} whose {@code complete()} runs the transform first.</li>
 * </ul>
 */
final class TransformRequest extends HttpServletRequestWrapper {

    private static final String RANGE = "range";
    private static final String IF_RANGE = "if-range";
    private static final String IF_NONE_MATCH = "if-none-match";

    private final TransformResponse response;
    private final TransformAsyncContext.Owner owner;
    private final boolean headAsGet;
    private final boolean hideRange;
    private final String ifNoneMatch;
    private volatile TransformAsyncContext asyncContext;

    /**
     * @param response    the wrapped response, which {@code startAsync()} binds
     * @param owner       finishes the response when the application completes the asynchronous request
     * @param ifNoneMatch the If-None-Match value the application should see (suffix removed), or null for none
     */
    TransformRequest(HttpServletRequest request, TransformResponse response, TransformAsyncContext.Owner owner,
            boolean headAsGet, boolean hideRange, String ifNoneMatch) {
        super(request);
        this.response = response;
        this.owner = owner;
        this.headAsGet = headAsGet;
        this.hideRange = hideRange;
        this.ifNoneMatch = ifNoneMatch;
    }

    @Override
    public String getMethod() {
        String method = super.getMethod();
        return headAsGet && "HEAD".equals(method) ? "GET" : method;
    }

    // Header names are ASCII tokens; comparing without lower-casing a copy matters because the container asks for
    // every header of every request through this wrapper.
    private boolean hidden(String name) {
        return hideRange && (RANGE.equalsIgnoreCase(name) || IF_RANGE.equalsIgnoreCase(name));
    }

    private static boolean isIfNoneMatch(String name) {
        return IF_NONE_MATCH.equalsIgnoreCase(name);
    }

    @Override
    public String getHeader(String name) {
        if (hidden(name)) {
            return null;
        }
        if (isIfNoneMatch(name)) {
            return ifNoneMatch;
        }
        return super.getHeader(name);
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
        if (hidden(name)) {
            return Collections.emptyEnumeration();
        }
        if (isIfNoneMatch(name)) {
            return ifNoneMatch == null ? Collections.emptyEnumeration()
                    : Collections.enumeration(List.of(ifNoneMatch));
        }
        return super.getHeaders(name);
    }

    @Override
    public Enumeration<String> getHeaderNames() {
        List<String> names = new ArrayList<>();
        for (String name : Collections.list(super.getHeaderNames())) {
            if (!hidden(name) && !(isIfNoneMatch(name) && ifNoneMatch == null)) {
                names.add(name);
            }
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
