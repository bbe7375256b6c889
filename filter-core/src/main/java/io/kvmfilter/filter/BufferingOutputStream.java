package io.kvmfilter.filter;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;
import java.util.Arrays;

/**
 * The output stream the application writes to: collects the body in memory, bounded by {@code maxBodySize}, and
 * switches to streaming straight to the container once the response turns out not to be transformed (decided at
 * the first byte, from status and headers) or grows beyond the bound.
 *
 * <p>While buffering, {@link #flush()} does nothing (the response must not commit), {@link #isReady()} is always
 * true and a {@link WriteListener} is called at once: writes only go to memory. After the switch, writes block on
 * the container's stream, which is never put in non-blocking mode.
 */
final class BufferingOutputStream extends ServletOutputStream {

    /** First buffer allocation when the application gave no Content-Length. */
    static final int INITIAL_CAPACITY = 8192;

    /** The response wrapper decides and performs the switch to pass-through. */
    interface Owner {
        /** Called before the first byte: true to buffer, false after switching to pass-through. */
        boolean bufferFirstOutput() throws IOException;

        /** Called when the buffer would exceed its bound; must switch to pass-through. */
        void overflow() throws IOException;
    }

    private final Owner owner;
    private final int limit;
    private byte[] buffer = new byte[0];
    private int count;
    private boolean started;
    private ServletOutputStream passThrough;
    private boolean discarding;

    BufferingOutputStream(Owner owner, long limit) {
        this.owner = owner;
        this.limit = (int) Math.min(limit, Integer.MAX_VALUE - 8);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        if (length == 0 || discarding) {
            return;
        }
        if (!started) {
            started = true;
            if (!owner.bufferFirstOutput()) {
                passThrough.write(bytes, offset, length);
                return;
            }
        }
        if (passThrough != null) {
            passThrough.write(bytes, offset, length);
            return;
        }
        if ((long) count + length > limit) {
            owner.overflow();
            passThrough.write(bytes, offset, length);
            return;
        }
        ensureCapacity(count + length);
        System.arraycopy(bytes, offset, buffer, count, length);
        count += length;
    }

    /**
     * Reserves room for an expected body size (the application's Content-Length), within the bound: exactly that
     * size, so a body of the declared length needs no copy in {@link #toByteArray()}.
     */
    void expect(long size) {
        if (passThrough == null && size > buffer.length && size <= limit) {
            byte[] reserved = BodyBuffers.take((int) size); // an earlier body's array: overwritten, or copied out
            System.arraycopy(buffer, 0, reserved, 0, count);
            buffer = reserved;
        }
    }

    /**
     * Gives the buffer back for another response ({@link BodyBuffers}) and forgets it: call only when nothing
     * refers to the body any more (no program run holds it, nothing will write it). Later writes, if any, go to
     * a new array.
     */
    void release() {
        if (passThrough == null && buffer != null && buffer.length > 0) {
            byte[] done = buffer;
            buffer = new byte[0];
            count = 0;
            BodyBuffers.giveBack(done);
        }
    }

    private void ensureCapacity(int needed) {
        if (needed > buffer.length) {
            int grown = Math.max(needed, Math.max(INITIAL_CAPACITY, buffer.length * 2));
            buffer = Arrays.copyOf(buffer, Math.min(grown, limit));
        }
    }

    /**
     * Switches to writing to the container's stream: first what was buffered, then everything after.
     *
     * @param real the container's output stream
     */
    void passThrough(ServletOutputStream real) throws IOException {
        started = true;
        passThrough = real;
        if (count > 0) {
            real.write(buffer, 0, count);
        }
        buffer = null;
        count = 0;
    }

    /** After sendError or sendRedirect: forget the body and ignore further writes, as the container would. */
    void discard() {
        discarding = true;
        buffer = new byte[0];
        count = 0;
    }

    /** Clears what was buffered (reset, resetBuffer); the first-byte decision is made again. */
    void clear() {
        if (passThrough == null) {
            count = 0;
            started = false;
            discarding = false;
        }
    }

    boolean passingThrough() {
        return passThrough != null;
    }

    /**
     * The buffered bytes, sized exactly. When the application declared its Content-Length the buffer was reserved
     * at that size and is returned itself, without a copy (a large image would otherwise be copied once more on
     * every request); call this only when the application is done writing.
     */
    byte[] toByteArray() {
        if (buffer == null) {
            return new byte[0];
        }
        return count == buffer.length ? buffer : Arrays.copyOf(buffer, count);
    }

    int size() {
        return count;
    }

    @Override
    public void flush() throws IOException {
        if (passThrough != null) {
            passThrough.flush();
        }
    }

    @Override
    public void close() throws IOException {
        if (passThrough != null) {
            passThrough.close();
        }
    }

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public void setWriteListener(WriteListener listener) {
        // Writes never block while buffering, so the listener may write now; it will not be called again because
        // isReady() never returns false.
        try {
            listener.onWritePossible();
        } catch (IOException | RuntimeException e) {
            listener.onError(e);
        }
    }
}
