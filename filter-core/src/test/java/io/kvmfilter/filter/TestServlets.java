package io.kvmfilter.filter;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;

/** Small servlets, one per write order, used by the mechanics tests on every container. */
final class TestServlets {

    /** The text every text servlet writes; the test transform upper-cases it. */
    static final String TEXT = "hello from the application";
    /** Size of the body of /large, beyond the test filter's maxBodySize. */
    static final int LARGE = 20_000;

    private TestServlets() {
    }

    @FunctionalInterface
    interface Handler {
        void handle(HttpServletRequest request, HttpServletResponse response) throws IOException, ServletException;
    }

    /**
     * A servlet running one handler for GET and POST. HEAD goes through HttpServlet's doHead, which drops the body
     * (and counts it for Content-Length) unless the filter presents the request as GET.
     */
    static HttpServlet servlet(Handler handler) {
        return new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response)
                    throws IOException, ServletException {
                handler.handle(request, response);
            }

            @Override
            protected void doPost(HttpServletRequest request, HttpServletResponse response)
                    throws IOException, ServletException {
                handler.handle(request, response);
            }
        };
    }

    static void deploy(Deployment d) {
        byte[] text = TEXT.getBytes(StandardCharsets.ISO_8859_1);
        d.servlet("/length-before-type", servlet((req, res) -> {
            res.setContentLength(text.length);
            res.setContentType("text/plain");
            res.getOutputStream().write(text);
        }));
        d.servlet("/type-before-length", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.setContentLengthLong(text.length);
            res.getOutputStream().write(text);
        }));
        d.servlet("/length-header", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.setHeader("Content-Length", String.valueOf(text.length));
            res.addHeader("content-length", String.valueOf(text.length));
            res.setIntHeader("Content-Length", text.length);
            res.getOutputStream().write(text);
        }));
        d.servlet("/writer-no-flush", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.getWriter().print(TEXT); // never flushed: the filter must flush it
        }));
        d.servlet("/writer-flush", servlet((req, res) -> {
            res.setContentType("text/plain");
            PrintWriter writer = res.getWriter();
            writer.print(TEXT);
            writer.flush();
            res.flushBuffer();
            // Still not committed: the filter must be able to set headers after a flush.
            res.setHeader("X-Committed-After-Flush", String.valueOf(res.isCommitted()));
        }));
        d.servlet("/stream-flush", servlet((req, res) -> {
            res.setContentType("text/plain");
            ServletOutputStream out = res.getOutputStream();
            out.write(text, 0, 5);
            out.flush();
            out.write(text, 5, text.length - 5);
            res.setHeader("X-Committed-After-Flush", String.valueOf(res.isCommitted()));
        }));
        d.servlet("/charset", servlet((req, res) -> {
            String charset = req.getParameter("cs");
            res.setContentType("text/plain");
            if (charset != null) {
                res.setCharacterEncoding(charset);
            }
            res.getWriter().print("grüne äpfel");
        }));
        d.servlet("/stream-then-writer", servlet((req, res) -> {
            res.setContentType("text/plain");
            ServletOutputStream out = res.getOutputStream();
            try {
                res.getWriter();
                out.print("no exception");
            } catch (IllegalStateException e) {
                out.print("illegal state");
            }
        }));
        d.servlet("/writer-then-stream", servlet((req, res) -> {
            res.setContentType("text/plain");
            PrintWriter writer = res.getWriter();
            try {
                res.getOutputStream();
                writer.print("no exception");
            } catch (IllegalStateException e) {
                writer.print("illegal state");
            }
        }));
        d.servlet("/reset", servlet((req, res) -> {
            res.setContentType("text/html");
            res.setHeader("X-Before-Reset", "yes");
            res.getWriter().print("discarded ");
            res.reset();
            res.setContentType("text/plain");
            res.getOutputStream().write(text); // legal after reset() since Servlet 6.0
        }));
        d.servlet("/reset-buffer", servlet((req, res) -> {
            res.setContentType("text/plain");
            PrintWriter writer = res.getWriter();
            writer.print("discarded ");
            res.resetBuffer();
            writer.print(TEXT);
        }));
        d.servlet("/send-error", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.getWriter().print("partial body that must not appear");
            res.sendError(404, "nothing here");
        }));
        d.servlet("/redirect", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.getWriter().print("partial body that must not appear");
            res.sendRedirect("/type-before-length");
        }));
        d.servlet("/redirect-61", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.getWriter().print("partial body that must not appear");
            try {
                // Servlet 6.1: a wrapper compiled against 6.0 does not override it, so it reaches the container.
                Method redirect = HttpServletResponse.class.getMethod("sendRedirect", String.class, int.class);
                redirect.invoke(res, "/type-before-length", 303);
            } catch (NoSuchMethodException e) {
                res.sendRedirect("/type-before-length");
            } catch (ReflectiveOperationException e) {
                throw new ServletException(e);
            }
        }));
        d.servlet("/status-404", servlet((req, res) -> {
            res.setStatus(404);
            res.setContentType("text/plain");
            res.getOutputStream().write(text);
        }));
        d.servlet("/gzipped", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.setHeader("Content-Encoding", "gzip");
            res.getOutputStream().write(gzip(text));
        }));
        d.servlet("/large", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.setContentLength(LARGE);
            ServletOutputStream out = res.getOutputStream();
            byte[] chunk = "abcdefghij".getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < LARGE / chunk.length; i++) {
                out.write(chunk);
            }
        }));
        d.servlet("/large-declared-late", servlet((req, res) -> {
            res.setContentType("text/plain");
            ServletOutputStream out = res.getOutputStream();
            byte[] chunk = "abcdefghij".getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < LARGE / chunk.length; i++) {
                out.write(chunk);
            }
        }));
        d.servlet("/tiny", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.getWriter().print("hi");
        }));
        d.servlet("/fail", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.setHeader("ETag", "\"v1\"");
            res.getWriter().print("this body says FAIL-" + req.getParameter("reason"));
        }));
        d.servlet("/transform-throws", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.getWriter().print("a body that makes the transform THROW");
        }));
        d.servlet("/grow", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.getWriter().print("this body would GROW when transformed");
        }));
        d.servlet("/throws", servlet((req, res) -> {
            res.setContentType("text/plain");
            res.getWriter().print("partial body that must not appear");
            throw new ServletException("application failure");
        }));
        d.servlet("/no-content", servlet((req, res) -> {
            res.setStatus(204);
            res.setContentType("text/plain");
        }));
        d.servlet("/manual-redirect", servlet((req, res) -> {
            res.setStatus(302);
            res.setHeader("Location", "/type-before-length");
            res.setContentType("text/plain");
            res.getWriter().print("moved to /type-before-length");
        }));
        d.servlet("/no-type", servlet((req, res) -> res.getOutputStream().write(text)));
        d.servlet("/type-after-body", servlet((req, res) -> {
            res.getOutputStream().write(text);
            res.setContentType("text/plain");
        }));
        d.servlet("/etag-text", servlet((req, res) -> {
            String etag = "\"t1\"";
            res.setHeader("ETag", etag);
            String ifNoneMatch = req.getHeader("If-None-Match");
            if (ifNoneMatch != null && ifNoneMatch.replace("W/", "").equals(etag)) {
                res.setStatus(304);
                return;
            }
            res.setContentType("text/plain");
            res.getWriter().print(TEXT);
        }));
        d.servlet("/image", servlet((req, res) -> {
            res.setContentType("image/png");
            res.setHeader("ETag", "\"img1\"");
            res.getOutputStream().write(new byte[2048]);
        }));
        d.servlet("/image-bomb", servlet((req, res) -> {
            res.setContentType("image/png");
            byte[] header = ImageHeadersTest.pngHeader(100_000, 100_000);
            res.getOutputStream().write(java.util.Arrays.copyOf(header, 4096)); // 10 billion pixels in 4 KiB
        }));
        d.servlet("/image-fail", servlet((req, res) -> {
            res.setContentType("image/png");
            res.setHeader("ETag", "\"img2\"");
            res.getOutputStream().write("png bytes that FAIL-crash the program".getBytes(StandardCharsets.US_ASCII));
        }));
        d.servlet("/image-wrong-type", servlet((req, res) -> {
            res.setContentType("image/png");
            res.getOutputStream().write("png bytes a program answers WRONGTYPE to".getBytes(StandardCharsets.US_ASCII));
        }));
        d.servlet("/async", servlet((req, res) -> {
            AsyncContext async = req.startAsync();
            async.start(() -> {
                try {
                    async.getResponse().setContentType("text/plain");
                    async.getResponse().getWriter().print(TEXT);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                async.complete();
            });
        }));
        d.servlet("/async-response-arg", servlet((req, res) -> {
            // The response the servlet was given, written from another thread.
            AsyncContext async = req.startAsync(req, res);
            async.start(() -> {
                try {
                    res.setContentType("text/plain");
                    res.getOutputStream().write(text);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                async.complete();
            });
        }));
        d.servlet("/async-dispatch", servlet((req, res) -> {
            AsyncContext async = req.startAsync();
            async.start(() -> async.dispatch("/type-before-length"));
        }));
        d.servlet("/non-blocking", servlet((req, res) -> {
            AsyncContext async = req.startAsync();
            res.setContentType("text/plain");
            ServletOutputStream out = res.getOutputStream();
            out.setWriteListener(new WriteListener() {
                private int written;

                @Override
                public void onWritePossible() throws IOException {
                    while (out.isReady() && written < text.length) {
                        out.write(text, written, Math.min(4, text.length - written));
                        written += 4;
                    }
                    if (written >= text.length) {
                        async.complete();
                    }
                }

                @Override
                public void onError(Throwable t) {
                    async.complete();
                }
            });
        }));
    }

    static byte[] gzip(byte[] data) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(bytes)) {
            gz.write(data);
        }
        return bytes.toByteArray();
    }
}
