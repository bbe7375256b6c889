package io.kvmfilter.filter;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UnsupportedEncodingException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * The response the application writes to while the filter may still transform it.
 *
 * <p>It buffers the body ({@link BufferingOutputStream}), swallows the application's Content-Length (the body may
 * change), keeps {@code flushBuffer()} from committing, clears its own buffer on {@code reset()} and
 * {@code resetBuffer()}, drops the buffer on {@code sendError}/{@code sendRedirect}, and turns
 * {@code sendError(304)} into {@code setStatus(304)} so the container keeps Vary and ETag. The decision to
 * transform is the filter's (its {@link Callbacks}); this class only moves bytes and headers.
 */
final class TransformResponse extends HttpServletResponseWrapper implements BufferingOutputStream.Owner {

    /** What happens to the body. */
    enum State {
        /** Collecting the body in memory. */
        BUFFERING,
        /** Streaming to the container untransformed. */
        PASSING,
        /** sendError or sendRedirect was called: the container writes the response. */
        DROPPED,
        /** The application answered 304 Not Modified: no body. */
        NOT_MODIFIED
    }

    /** The filter's side: this class asks it, and tells it when the response starts streaming untransformed. */
    interface Callbacks {
        /** Before the first body byte: why to stream the response untransformed right away, or null to buffer. */
        String reasonToPassAtFirstOutput();

        /** The response streams untransformed from now on (its headers are still open). */
        void passingThrough(String reason);
    }

    private final Callbacks callbacks;
    private final RangeRequest range;
    private final ConditionalRequest conditional;
    private final BufferingOutputStream stream;
    private PrintWriter writer;
    private boolean streamUsed;
    private long contentLength = -1;
    private State state = State.BUFFERING;

    /**
     * @param range the Range request hidden from the application, answered here when the response is served
     *              untransformed; null when there is none (or it was not hidden)
     * @param conditional the preconditions the filter answers: a response streamed untransformed is a 304 when
     *              they say so
     */
    TransformResponse(HttpServletResponse response, Callbacks callbacks, long maxBodySize, RangeRequest range,
            ConditionalRequest conditional) {
        super(response);
        this.callbacks = callbacks;
        this.range = range;
        this.conditional = conditional;
        this.stream = new BufferingOutputStream(this, maxBodySize);
    }

    State state() {
        return state;
    }

    /** The Content-Length the application declared, or -1. */
    long declaredContentLength() {
        return contentLength;
    }

    // --- the body -----------------------------------------------------------------------------------------------

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
        if (writer != null) {
            throw new IllegalStateException("getWriter() has already been called for this response");
        }
        streamUsed = true;
        return stream;
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        if (writer == null) {
            if (streamUsed) {
                throw new IllegalStateException("getOutputStream() has already been called for this response");
            }
            // The charset is fixed when the writer is created (ISO-8859-1 unless set); setting it on the real
            // response makes Content-Type carry it, as the container's own writer would.
            String encoding = getCharacterEncoding();
            Charset charset;
            try {
                charset = encoding == null ? StandardCharsets.ISO_8859_1 : Charset.forName(encoding);
            } catch (IllegalArgumentException e) { // unknown or illegal name, as the container would report it
                throw new UnsupportedEncodingException(encoding);
            }
            super.setCharacterEncoding(charset.name());
            writer = new PrintWriter(new OutputStreamWriter(stream, charset), false);
        }
        return writer;
    }

    /** Moves what the writer holds into the buffer: without this the body would come out empty. */
    void flushWriter() {
        if (writer != null) {
            writer.flush();
        }
    }

    @Override
    public boolean bufferFirstOutput() throws IOException {
        String reason = callbacks.reasonToPassAtFirstOutput();
        if (reason == null) {
            stream.expect(contentLength);
            return true;
        }
        startPassThrough(reason);
        return false;
    }

    @Override
    public void overflow() throws IOException {
        startPassThrough("too-large");
    }

    /** Stops buffering: restores the application's Content-Length and streams what was buffered and the rest. */
    void startPassThrough(String reason) throws IOException {
        state = State.PASSING;
        callbacks.passingThrough(reason);
        ServletOutputStream out = super.getOutputStream();
        if (notModified(getHeader("ETag"))) {
            // The hidden preconditions: a 304 with the headers of the 200, and none of the body.
            super.setStatus(SC_NOT_MODIFIED);
            stream.passThrough(new RangeOutputStream(out, 0, -1));
            return;
        }
        // A hidden Range is answered while streaming when the application declared the length: it writes all of
        // it, the client gets its part.
        RangeRequest.Answer answer = range == null || getStatus() != SC_OK || contentLength < 0 ? null
                : range.answer(contentLength, getHeader("ETag"), getHeader("Last-Modified"));
        if (answer instanceof RangeRequest.Part part) {
            super.setStatus(SC_PARTIAL_CONTENT);
            super.setHeader("Content-Range", part.contentRange());
            super.setContentLengthLong(part.size());
            out = new RangeOutputStream(out, part.first(), part.last());
        } else if (answer instanceof RangeRequest.Unsatisfiable none) {
            super.setStatus(SC_REQUESTED_RANGE_NOT_SATISFIABLE);
            super.setHeader("Content-Range", none.contentRange());
            super.setContentLengthLong(0);
            out = new RangeOutputStream(out, 0, -1);
        } else if (contentLength >= 0) {
            super.setContentLengthLong(contentLength);
        }
        stream.passThrough(out);
    }

    /** The buffered body (after {@link #flushWriter()}). */
    byte[] body() {
        return stream.toByteArray();
    }

    /**
     * The buffered body is no longer needed by anyone (the response was served from a stored result, so no program
     * run holds it): its array may serve another response.
     */
    void releaseBody() {
        stream.release();
    }

    /** Number of bytes buffered. */
    int bodySize() {
        return stream.size();
    }

    /**
     * Writes headers and, unless this is a HEAD request, the body; Content-Length is the body's length. Statuses
     * without a body (1xx, 204, 304) get neither.
     */
    void send(byte[] body, boolean headersOnly) throws IOException {
        int status = getStatus();
        if (status == SC_NO_CONTENT || status == SC_NOT_MODIFIED || status < 200) {
            return; // no body and no Content-Length allowed (RFC 9110 §8.6)
        }
        if (headersOnly && body.length == 0) {
            // A HEAD the application answered itself, without a body: keep the length it declared, if any.
            if (contentLength >= 0) {
                super.setContentLengthLong(contentLength);
            }
            return;
        }
        super.setContentLengthLong(body.length);
        if (!headersOnly && body.length > 0) {
            ServletOutputStream out = super.getOutputStream();
            out.write(body);
            out.flush();
        }
    }

    /**
     * Whether the hidden preconditions make this 200 a 304.
     *
     * @param etag the ETag the 200 would carry (the variant's, when transformed)
     */
    boolean notModified(String etag) {
        return getStatus() == SC_OK && conditional.notModified(etag, getHeader("Last-Modified"));
    }

    /**
     * Writes the application's own body, answering the hidden Range when there is one: 206 with the part asked
     * for, 416 when none of it exists, or the whole body (also when If-Range does not match).
     */
    void sendOriginal(byte[] body, boolean headersOnly) throws IOException {
        RangeRequest.Answer answer = range == null || getStatus() != SC_OK ? null
                : range.answer(body.length, getHeader("ETag"), getHeader("Last-Modified"));
        if (answer instanceof RangeRequest.Part part) {
            super.setStatus(SC_PARTIAL_CONTENT);
            super.setHeader("Content-Range", part.contentRange());
            send(Arrays.copyOfRange(body, (int) part.first(), (int) part.last() + 1), headersOnly);
        } else if (answer instanceof RangeRequest.Unsatisfiable none) {
            super.setStatus(SC_REQUESTED_RANGE_NOT_SATISFIABLE);
            super.setHeader("Content-Range", none.contentRange());
            send(new byte[0], headersOnly);
        } else {
            send(body, headersOnly);
        }
    }

    /** Forgets the body: nothing will be written by the filter. */
    void drop() {
        state = State.DROPPED;
        stream.discard();
    }

    // --- Content-Length is swallowed: the body may change -------------------------------------------------------

    @Override
    public void setContentLength(int length) {
        setContentLengthLong(length);
    }

    @Override
    public void setContentLengthLong(long length) {
        if (state == State.PASSING) {
            super.setContentLengthLong(length);
        } else {
            contentLength = length;
        }
    }

    @Override
    public void setHeader(String name, String value) {
        if (isContentLength(name) && state != State.PASSING) {
            contentLength = parseLength(value);
        } else {
            super.setHeader(name, value);
        }
    }

    @Override
    public void addHeader(String name, String value) {
        if (isContentLength(name) && state != State.PASSING) {
            contentLength = parseLength(value);
        } else {
            super.addHeader(name, value);
        }
    }

    @Override
    public void setIntHeader(String name, int value) {
        if (isContentLength(name) && state != State.PASSING) {
            contentLength = value;
        } else {
            super.setIntHeader(name, value);
        }
    }

    @Override
    public void addIntHeader(String name, int value) {
        if (isContentLength(name) && state != State.PASSING) {
            contentLength = value;
        } else {
            super.addIntHeader(name, value);
        }
    }

    @Override
    public boolean containsHeader(String name) {
        if (isContentLength(name) && state != State.PASSING) {
            return contentLength >= 0;
        }
        return super.containsHeader(name);
    }

    @Override
    public String getHeader(String name) {
        if (isContentLength(name) && state != State.PASSING) {
            return contentLength >= 0 ? Long.toString(contentLength) : null;
        }
        return super.getHeader(name);
    }

    @Override
    public Collection<String> getHeaders(String name) {
        if (isContentLength(name) && state != State.PASSING) {
            return contentLength >= 0 ? List.of(Long.toString(contentLength)) : List.of();
        }
        return super.getHeaders(name);
    }

    /** Called for every header the application and the container set or read: compares without copying. */
    private static boolean isContentLength(String name) {
        return "Content-Length".equalsIgnoreCase(name);
    }

    private static long parseLength(String value) {
        try {
            return value == null ? -1 : Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    // --- flushing, resetting, errors and redirects --------------------------------------------------------------

    @Override
    public void flushBuffer() throws IOException {
        flushWriter();
        if (state == State.PASSING) {
            super.flushBuffer();
        }
        // While buffering: flushing must not commit, or the filter could no longer set headers.
    }

    @Override
    public void reset() {
        super.reset(); // throws IllegalStateException when committed, as the container's does
        if (state != State.PASSING) {
            stream.clear();
            writer = null;
            streamUsed = false;
            contentLength = -1;
            state = State.BUFFERING;
        }
    }

    @Override
    public void resetBuffer() {
        super.resetBuffer();
        if (state != State.PASSING) {
            flushWriter(); // empty the encoder into the buffer, then clear the buffer
            stream.clear();
        }
    }

    @Override
    public void sendError(int status) throws IOException {
        sendError(status, null);
    }

    @Override
    public void sendError(int status, String message) throws IOException {
        if (state == State.PASSING) {
            super.sendError(status, message);
            return;
        }
        if (status == SC_NOT_MODIFIED) {
            // Jetty's DefaultServlet answers conditional GETs with sendError(304) and then strips Vary and the
            // Content-* headers; a 304 must carry the Vary and ETag of the 200 (RFC 9110 §15.4.5).
            state = State.NOT_MODIFIED;
            stream.discard();
            super.setStatus(SC_NOT_MODIFIED);
            return;
        }
        drop();
        super.sendError(status, message);
    }

    @Override
    public void sendRedirect(String location) throws IOException {
        if (state != State.PASSING) {
            drop();
        }
        super.sendRedirect(location);
    }
}
