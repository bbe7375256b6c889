package io.kvmfilter.filter;

import io.kvmfilter.kvm.SelfRequests;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpSession;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A self-request as the forwarded-to servlet sees it: a new request, not the client's. Its method, header fields
 * and body are the program's (the client's headers, cookies and parameters do not leak into it; only Host is kept
 * unless the program gives one); its attributes start from the client request's but what the servlet sets stays
 * here; it has no session and cannot go asynchronous. Path, query and their parameters are the container's, from
 * the dispatch.
 */
final class SelfRequestRequest extends HttpServletRequestWrapper {
    private final SelfRequests.Call call;
    private final Map<String, List<String>> headers = new HashMap<>();
    private final List<String> headerNames = new ArrayList<>();
    private final Map<String, Object> attributes = new HashMap<>();
    private final Set<String> removed = new LinkedHashSet<>();
    private final ByteArrayInputStream body;

    SelfRequestRequest(HttpServletRequest original, SelfRequests.Call call, int depth) {
        super(original);
        this.call = call;
        for (String field : call.fields()) {
            int colon = field.indexOf(':');
            if (colon > 0) {
                add(field.substring(0, colon).trim(), field.substring(colon + 1).trim());
            }
        }
        if (!headers.containsKey("host") && original.getHeader("Host") != null) {
            add("Host", original.getHeader("Host"));
        }
        if (call.body().length > 0 || "POST".equals(call.method())) {
            headers.remove("content-length");
            headerNames.removeIf(n -> n.equalsIgnoreCase("content-length"));
            add("Content-Length", Integer.toString(call.body().length));
        }
        attributes.put(SelfRequestDispatcher.DEPTH_ATTRIBUTE, depth);
        body = new ByteArrayInputStream(call.body());
    }

    private void add(String name, String value) {
        String key = name.toLowerCase(Locale.ROOT);
        if (!headers.containsKey(key)) {
            headerNames.add(name);
        }
        headers.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }

    @Override
    public String getMethod() {
        return call.method();
    }

    @Override
    public String getHeader(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null ? null : values.get(0);
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
        return Collections.enumeration(headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of()));
    }

    @Override
    public Enumeration<String> getHeaderNames() {
        return Collections.enumeration(headerNames);
    }

    @Override
    public int getIntHeader(String name) {
        String value = getHeader(name);
        return value == null ? -1 : Integer.parseInt(value);
    }

    @Override
    public long getDateHeader(String name) {
        String value = getHeader(name);
        if (value == null) {
            return -1;
        }
        long parsed = HttpDates.parse(value);
        if (parsed < 0) {
            throw new IllegalArgumentException("header " + name + " is not an HTTP date: " + value);
        }
        return parsed;
    }

    @Override
    public String getContentType() {
        return getHeader("Content-Type");
    }

    @Override
    public int getContentLength() {
        return call.body().length > 0 || "POST".equals(call.method()) ? call.body().length : -1;
    }

    @Override
    public long getContentLengthLong() {
        return getContentLength();
    }

    @Override
    public ServletInputStream getInputStream() {
        return new ServletInputStream() {
            @Override
            public int read() {
                return body.read();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                return body.read(b, off, len);
            }

            @Override
            public boolean isFinished() {
                return body.available() == 0;
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setReadListener(ReadListener listener) {
                throw new IllegalStateException("a self-request is not asynchronous");
            }
        };
    }

    @Override
    public BufferedReader getReader() {
        return new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    }

    // The client's parameters are not the self-request's: the container adds those of the dispatched query.
    @Override
    public String getParameter(String name) {
        return null;
    }

    @Override
    public Map<String, String[]> getParameterMap() {
        return Map.of();
    }

    @Override
    public Enumeration<String> getParameterNames() {
        return Collections.emptyEnumeration();
    }

    @Override
    public String[] getParameterValues(String name) {
        return null;
    }

    @Override
    public Cookie[] getCookies() {
        return null;
    }

    @Override
    public String getRequestedSessionId() {
        return null;
    }

    @Override
    public HttpSession getSession(boolean create) {
        if (create) {
            throw new IllegalStateException("a self-request has no session (it is the program's, not the client's)");
        }
        return null;
    }

    @Override
    public HttpSession getSession() {
        return getSession(true);
    }

    @Override
    public boolean isAsyncSupported() {
        return false;
    }

    @Override
    public Object getAttribute(String name) {
        if (attributes.containsKey(name)) {
            return attributes.get(name);
        }
        return removed.contains(name) ? null : super.getAttribute(name);
    }

    @Override
    public Enumeration<String> getAttributeNames() {
        Set<String> names = new LinkedHashSet<>(Collections.list(super.getAttributeNames()));
        names.removeAll(removed);
        names.addAll(attributes.keySet());
        return Collections.enumeration(names);
    }

    @Override
    public void setAttribute(String name, Object value) {
        if (value == null) {
            removeAttribute(name);
            return;
        }
        removed.remove(name);
        attributes.put(name, value);
    }

    @Override
    public void removeAttribute(String name) {
        attributes.remove(name);
        removed.add(name);
    }
}
