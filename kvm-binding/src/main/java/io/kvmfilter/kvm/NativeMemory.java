package io.kvmfilter.kvm;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * Native memory that the binding frees itself, in finally blocks: malloc/free without JNA's Cleaner, so
 * the hot path has no reference queue and no GC dependency.
 */
final class NativeMemory {
    private NativeMemory() {
    }

    /**
     * @return the address of size bytes (at least 1, so that an empty body is still a non-NULL pointer)
     * @throws OutOfMemoryError when malloc fails
     */
    static long allocate(long size) {
        long address = Native.malloc(Math.max(1, size));
        if (address == 0) {
            throw new OutOfMemoryError("malloc(" + size + ") failed for a kvmfilter native buffer");
        }
        return address;
    }

    static void free(long address) {
        if (address != 0) {
            Native.free(address);
        }
    }

    /** @return the address of a native copy of bytes (free it with {@link #free}) */
    static long copyOf(byte[] bytes) {
        long address = allocate(bytes.length);
        if (bytes.length > 0) {
            new Pointer(address).write(0, bytes, 0, bytes.length);
        }
        return address;
    }

    /** @return the address of a native copy of len bytes at source, copied native to native */
    static long copyOf(long source, long len) {
        long address = allocate(len);
        if (len > 0) {
            int n = Math.toIntExact(len);
            new Pointer(address).getByteBuffer(0, n).put(new Pointer(source).getByteBuffer(0, n));
        }
        return address;
    }

    /**
     * @return the address of exactly length bytes read from in (free it with {@link #free}); the heap holds one
     *     64 KiB piece at a time
     * @throws java.io.EOFException when in ends first
     */
    static long readFrom(java.io.InputStream in, long length) throws java.io.IOException {
        long address = allocate(length);
        try {
            byte[] piece = new byte[(int) Math.min(length, 64 * 1024)];
            Pointer target = new Pointer(address);
            long at = 0;
            while (at < length) {
                int n = in.read(piece, 0, (int) Math.min(piece.length, length - at));
                if (n < 0) {
                    throw new java.io.EOFException("the body ended after " + at + " of " + length + " bytes");
                }
                target.write(at, piece, 0, n);
                at += n;
            }
            return address;
        } catch (java.io.IOException | RuntimeException e) {
            free(address);
            throw e;
        }
    }

    /** @return len bytes at address copied into a Java array */
    static byte[] toArray(long address, long len) {
        if (address == 0 || len <= 0) {
            return Result.NO_BODY;
        }
        byte[] bytes = new byte[Math.toIntExact(len)];
        new Pointer(address).read(0, bytes, 0, bytes.length);
        return bytes;
    }
}
