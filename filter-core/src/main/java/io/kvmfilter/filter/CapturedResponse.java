package io.kvmfilter.filter;

import io.kvmfilter.kvm.SelfRequests;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.lang.reflect.Proxy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The response of a self-request: everything the forwarded-to servlet sets or writes is kept here, for the
 * program, and nothing reaches the client's response. It overrides every method, so what it wraps is only what
 * containers find when they look beneath the wrappers, and they differ: Jetty's resource servlet needs its own
 * response there, while Tomcat finishes (suspends) a response it finds there at the end of a forward, which would
 * cut the client's off. So it wraps the client's response, except on Tomcat, where it wraps a detached stand-in.
 * The body is bounded by what the program can take.
 */
final class CapturedResponse extends HttpServletResponseWrapper {
    /** Thrown from a write past the bound: the forward stops there. */
    static final class TooLarge extends IOException {
        private static final long serialVersionUID = 1L;

        TooLarge(long max) {
            super("the answer is larger than " + max + " bytes");
        }
    }

    private final long maxBody;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private final Map<String, List<String>> headers = new LinkedHashMap<>(); // lower-case name -> "Name: value" lines
    private int status = 200;
    private String contentType;
    private String encoding;
    private ServletOutputStream stream;
    private PrintWriter writer;
    private Locale locale = Locale.getDefault();

    /**
     * @param client the client's response (written to never)
     * @param maxBody the most body bytes kept; a write past it throws {@link TooLarge}
     */
    CapturedResponse(HttpServletResponse client, long maxBody) {
        super(underneath(client));
        this.maxBody = maxBody;
    }

    /** What to wrap: the client's response, or on Tomcat (its response facade beneath) a detached stand-in. */
    private static HttpServletResponse underneath(HttpServletResponse client) {
        ServletResponse bottom = client;
        while (bottom instanceof ServletResponseWrapper wrapper) {
            bottom = wrapper.getResponse();
        }
        if (!bottom.getClass().getName().equals("org.apache.catalina.connector.ResponseFacade")) {
            return client;
        }
        return (HttpServletResponse) Proxy.newProxyInstance(CapturedResponse.class.getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "toString" -> "the detached response of a self-request";
                    default -> throw new IllegalStateException("a self-request's response is not the client's: "
                            + method.getName() + " is not available");
                });
    }

    /** @return what the servlet answered */
    SelfRequests.Answer answer() {
        if (writer != null) {
            writer.flush();
        }
        List<String> lines = new ArrayList<>();
        headers.values().forEach(lines::addAll);
        return new SelfRequests.Answer(status, contentType == null ? "" : contentType, lines, body.toByteArray());
    }

    private void put(String name, String value, boolean replace) {
        String key = name.toLowerCase(Locale.ROOT);
        if (key.equals("content-type")) {
            setContentType(value);
            return;
        }
        List<String> lines = replace ? new ArrayList<>() : headers.getOrDefault(key, new ArrayList<>());
        if (value != null) {
            lines.add(name + ": " + value);
        }
        if (lines.isEmpty()) {
            headers.remove(key);
        } else {
            headers.put(key, lines);
        }
    }

    @Override
    public void setStatus(int sc) {
        status = sc;
    }

    @Override
    public int getStatus() {
        return status;
    }

    @Override
    public void sendError(int sc, String msg) {
        status = sc;
        body.reset();
    }

    @Override
    public void sendError(int sc) {
        sendError(sc, null);
    }

    @Override
    public void sendRedirect(String location) {
        status = 302;
        put("Location", location, true);
    }

    @Override
    public void setHeader(String name, String value) {
        put(name, value, true);
    }

    @Override
    public void addHeader(String name, String value) {
        put(name, value, false);
    }

    @Override
    public void setIntHeader(String name, int value) {
        put(name, Integer.toString(value), true);
    }

    @Override
    public void addIntHeader(String name, int value) {
        put(name, Integer.toString(value), false);
    }

    @Override
    public void setDateHeader(String name, long date) {
        put(name, HttpDates.format(date), true);
    }

    @Override
    public void addDateHeader(String name, long date) {
        put(name, HttpDates.format(date), false);
    }

    @Override
    public void addCookie(Cookie cookie) {
        put("Set-Cookie", cookie.getName() + "=" + cookie.getValue(), false);
    }

    @Override
    public boolean containsHeader(String name) {
        return headers.containsKey(name.toLowerCase(Locale.ROOT));
    }

    @Override
    public String getHeader(String name) {
        List<String> lines = headers.get(name.toLowerCase(Locale.ROOT));
        return lines == null ? null : lines.get(0).substring(lines.get(0).indexOf(':') + 2);
    }

    @Override
    public Collection<String> getHeaders(String name) {
        List<String> values = new ArrayList<>();
        for (String line : headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of())) {
            values.add(line.substring(line.indexOf(':') + 2));
        }
        return values;
    }

    @Override
    public Collection<String> getHeaderNames() {
        List<String> names = new ArrayList<>();
        for (List<String> lines : headers.values()) {
            names.add(lines.get(0).substring(0, lines.get(0).indexOf(':')));
        }
        return names;
    }

    @Override
    public void setContentType(String type) {
        contentType = type;
        if (type != null) {
            int at = type.toLowerCase(Locale.ROOT).indexOf("charset=");
            if (at >= 0) {
                encoding = type.substring(at + 8).replace("\"", "").trim();
            }
        }
    }

    @Override
    public String getContentType() {
        return contentType;
    }

    @Override
    public void setCharacterEncoding(String charset) {
        encoding = charset;
        if (contentType != null && charset != null && !contentType.toLowerCase(Locale.ROOT).contains("charset=")) {
            contentType = contentType + ";charset=" + charset;
        }
    }

    @Override
    public String getCharacterEncoding() {
        return encoding == null ? "ISO-8859-1" : encoding;
    }

    @Override
    public void setContentLength(int len) {
        // The program gets the body's real length.
    }

    @Override
    public void setContentLengthLong(long len) {
        // The program gets the body's real length.
    }

    @Override
    public void setBufferSize(int size) {
        // The whole body is kept.
    }

    @Override
    public int getBufferSize() {
        return Integer.MAX_VALUE;
    }

    @Override
    public void setLocale(Locale locale) {
        this.locale = locale;
    }

    @Override
    public Locale getLocale() {
        return locale;
    }

    @Override
    public String encodeURL(String url) {
        return url; // no session to carry
    }

    @Override
    public String encodeRedirectURL(String url) {
        return url;
    }

    @Override
    public boolean isCommitted() {
        return false;
    }

    @Override
    public void flushBuffer() {
        if (writer != null) {
            writer.flush();
        }
    }

    @Override
    public void resetBuffer() {
        body.reset();
    }

    @Override
    public void reset() {
        body.reset();
        headers.clear();
        status = 200;
        contentType = null;
    }

    @Override
    public ServletOutputStream getOutputStream() {
        if (writer != null) {
            throw new IllegalStateException("getWriter() was already called on this response");
        }
        if (stream == null) {
            stream = new ServletOutputStream() {
                @Override
                public void write(int b) throws IOException {
                    if (body.size() + 1 > maxBody) {
                        throw new TooLarge(maxBody);
                    }
                    body.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (body.size() + (long) len > maxBody) {
                        throw new TooLarge(maxBody);
                    }
                    body.write(b, off, len);
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setWriteListener(WriteListener listener) {
                    throw new IllegalStateException("a self-request is not asynchronous");
                }
            };
        }
        return stream;
    }

    @Override
    public PrintWriter getWriter() {
        if (stream != null && writer == null) {
            throw new IllegalStateException("getOutputStream() was already called on this response");
        }
        if (writer == null) {
            Charset charset;
            try {
                charset = Charset.forName(getCharacterEncoding());
            } catch (IllegalArgumentException e) {
                charset = StandardCharsets.ISO_8859_1;
            }
            ServletOutputStream out = getOutputStream();
            writer = new PrintWriter(new OutputStreamWriter(out, charset));
            stream = out;
        }
        return writer;
    }
}
