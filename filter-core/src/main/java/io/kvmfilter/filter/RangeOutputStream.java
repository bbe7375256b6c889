package io.kvmfilter.filter;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;

/**
 * The container's output stream, letting through only bytes {@code first} to {@code last} of what is written:
 * a response streamed untransformed answers a hidden {@code Range} this way (the application writes the whole
 * representation, the client gets the part it asked for).
 */
final class RangeOutputStream extends ServletOutputStream {

    private final ServletOutputStream out;
    private final long first;
    private final long last;
    private long position;

    /** @param last the last byte to let through; less than {@code first} lets nothing through */
    RangeOutputStream(ServletOutputStream out, long first, long last) {
        this.out = out;
        this.first = first;
        this.last = last;
    }

    @Override
    public void write(int b) throws IOException {
        if (position >= first && position <= last) {
            out.write(b);
        }
        position++;
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        long start = Math.max(position, first);
        long end = Math.min(position + length - 1, last);
        if (start <= end) {
            out.write(bytes, offset + (int) (start - position), (int) (end - start + 1));
        }
        position += length;
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    @Override
    public boolean isReady() {
        return out.isReady();
    }

    @Override
    public void setWriteListener(WriteListener listener) {
        out.setWriteListener(listener);
    }
}
