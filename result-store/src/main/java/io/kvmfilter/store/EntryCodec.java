package io.kvmfilter.store;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The byte form of a stored success, shared by the disk and shared tiers:
 *
 * <pre>
 * "KVMR"  magic                     4 bytes
 * 3       format version            4 bytes
 * created milliseconds since 1970   8 bytes
 * life    the result's lifetime     8 bytes, milliseconds; -1: none (version 1 entries lack this field)
 * key     the key's canonical form  4-byte length + UTF-8
 * type    the result's Content-Type 4-byte length (-1: none) + UTF-8
 * body    the result's body         4-byte length + bytes
 * headers its program's headers     4-byte count, each 4-byte length + UTF-8 (from version 3)
 * crc     CRC32C of all the above   4 bytes
 * </pre>
 *
 * Integers are big-endian. {@link #decode} refuses anything that is not exactly such an entry.
 */
final class EntryCodec {

    static final int MAGIC = 0x4B564D52; // "KVMR"
    static final int VERSION = 3;
    /** Magic, version, created, three lengths and the checksum (version 1; 2 adds the lifetime, 3 the headers). */
    static final int FIXED_BYTES = 4 + 4 + 8 + 4 + 4 + 4 + 4;
    private static final int LIFETIME_BYTES = 8;

    /** A decoded entry: its key's canonical form, when it was made and the result. */
    record Decoded(String canonicalKey, long createdMillis, StoredResult result) {
    }

    /** Thrown for bytes that are not a whole, intact entry; the message says what is wrong. */
    static final class DamagedEntryException extends Exception {
        private static final long serialVersionUID = 1L;

        DamagedEntryException(String message) {
            super(message);
        }
    }

    private EntryCodec() {
    }

    static byte[] encode(ResultKey key, StoredResult result, long createdMillis) {
        if (!result.ok()) {
            throw new IllegalArgumentException("only successes are encoded");
        }
        byte[] keyBytes = key.canonical().getBytes(StandardCharsets.UTF_8);
        byte[] typeBytes = result.contentType() == null ? null : result.contentType().getBytes(StandardCharsets.UTF_8);
        List<byte[]> headerBytes = result.headers().stream().map(h -> h.getBytes(StandardCharsets.UTF_8)).toList();
        long size = (long) FIXED_BYTES + LIFETIME_BYTES + keyBytes.length + (typeBytes == null ? 0 : typeBytes.length)
                + result.body().length + 4 + headerBytes.stream().mapToLong(h -> 4L + h.length).sum();
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("an entry of " + size + " bytes is too large to encode");
        }
        ByteBuffer out = ByteBuffer.allocate((int) size);
        out.putInt(MAGIC).putInt(VERSION).putLong(createdMillis);
        out.putLong(result.lifetime() == null ? -1 : result.lifetime().toMillis());
        out.putInt(keyBytes.length).put(keyBytes);
        if (typeBytes == null) {
            out.putInt(-1);
        } else {
            out.putInt(typeBytes.length).put(typeBytes);
        }
        out.putInt(result.body().length).put(result.body());
        out.putInt(headerBytes.size());
        for (byte[] header : headerBytes) {
            out.putInt(header.length).put(header);
        }
        out.putInt(Digests.crc32c(out.array(), 0, out.position()));
        return out.array();
    }

    static Decoded decode(byte[] bytes) throws DamagedEntryException {
        if (bytes.length < FIXED_BYTES) {
            throw new DamagedEntryException("only " + bytes.length + " bytes, an entry has at least " + FIXED_BYTES);
        }
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt();
        int actual = Digests.crc32c(bytes, 0, bytes.length - 4);
        if (stored != actual) {
            throw new DamagedEntryException(String.format("checksum %08x does not match the contents (%08x)", stored,
                    actual));
        }
        ByteBuffer in = ByteBuffer.wrap(bytes, 0, bytes.length - 4);
        try {
            if (in.getInt() != MAGIC) {
                throw new DamagedEntryException("not a kvmfilter result entry (no KVMR magic)");
            }
            int version = in.getInt();
            if (version < 1 || version > VERSION) {
                throw new DamagedEntryException("entry format " + version + ", this version reads 1 to " + VERSION);
            }
            long created = in.getLong();
            long lifetime = version == 1 ? -1 : in.getLong(); // written before lifetimes existed: none
            if (lifetime == 0 || lifetime < -1) {
                throw new DamagedEntryException("lifetime " + lifetime + " ms");
            }
            String key = new String(bytes(in, false), StandardCharsets.UTF_8);
            byte[] type = bytes(in, true);
            byte[] body = bytes(in, false);
            List<String> headers = new ArrayList<>();
            int count = version < 3 ? 0 : in.getInt(); // written before headers were kept: none
            if (count < 0 || count > in.remaining() / 4) {
                throw new DamagedEntryException(count + " headers with " + in.remaining() + " bytes left");
            }
            for (int i = 0; i < count; i++) {
                headers.add(new String(bytes(in, false), StandardCharsets.UTF_8));
            }
            if (in.hasRemaining()) {
                throw new DamagedEntryException(in.remaining() + " bytes after the " + (version < 3 ? "body" : "headers"));
            }
            String contentType = type == null ? null : new String(type, StandardCharsets.UTF_8);
            StoredResult result = lifetime == -1 ? StoredResult.success(body, contentType)
                    : StoredResult.success(body, contentType, Duration.ofMillis(lifetime));
            return new Decoded(key, created, result.withHeaders(headers));
        } catch (BufferUnderflowException e) {
            throw new DamagedEntryException("truncated: a length points past the end");
        }
    }

    private static byte[] bytes(ByteBuffer in, boolean nullable) throws DamagedEntryException {
        int length = in.getInt();
        if (length == -1 && nullable) {
            return null;
        }
        if (length < 0 || length > in.remaining()) {
            throw new DamagedEntryException("length " + length + " with " + in.remaining() + " bytes left");
        }
        byte[] out = new byte[length];
        in.get(out);
        return out;
    }
}
