package io.kvmfilter.filter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * Reuses the arrays that hold original bodies of a declared length, for responses served from a stored result.
 *
 * <p>A hit still reads the whole original when its validator is weak (a CRC32C of the body is checked), and a
 * new array of its size per request costs more than the check: a 600 KB image is a humongous allocation in G1
 * (above half of a region, 1 MB on small heaps), allocated and zeroed outside the thread's buffer. An array given
 * back here, once nothing refers to it any more, is handed to the next response of exactly that length, which
 * overwrites it; a shorter body is copied out ({@link BufferingOutputStream#toByteArray()}), so no byte of an
 * earlier response is ever part of another.
 *
 * <p>Bounded in bytes; the lengths served most often stay (Caffeine's W-TinyLFU), a few arrays per length.
 */
final class BodyBuffers {

    /** Below this, a new array is cheap (the thread's allocation buffer): not pooled. */
    static final int MIN_LENGTH = 64 * 1024;
    /** Above this, arrays are not kept: a few of them would take the whole budget. */
    static final int MAX_LENGTH = 4 * 1024 * 1024;
    /** Arrays of one length kept at most: concurrent hits of one popular original. */
    static final int PER_LENGTH = 8;
    /** Bytes kept at most, per web application. */
    static final long MAX_BYTES = 32L * 1024 * 1024;

    /** One array of a length, in one of its PER_LENGTH places. */
    private record Place(int length, int index) {
    }

    private static final Cache<Place, byte[]> ARRAYS = Caffeine.newBuilder()
            .maximumWeight(MAX_BYTES)
            .weigher((Place place, byte[] array) -> array.length)
            .executor(Runnable::run)
            .build();

    private BodyBuffers() {
    }

    /** An array of exactly this length, with any content: the caller overwrites it. */
    static byte[] take(int length) {
        if (length >= MIN_LENGTH && length <= MAX_LENGTH) {
            for (int i = 0; i < PER_LENGTH; i++) {
                byte[] kept = ARRAYS.asMap().remove(new Place(length, i));
                if (kept != null) {
                    return kept;
                }
            }
        }
        return new byte[length];
    }

    /**
     * Keeps an array for a later response. The caller must hold the only reference to it and drop it now.
     */
    static void giveBack(byte[] array) {
        if (array.length < MIN_LENGTH || array.length > MAX_LENGTH) {
            return;
        }
        for (int i = 0; i < PER_LENGTH; i++) {
            if (ARRAYS.asMap().putIfAbsent(new Place(array.length, i), array) == null) {
                return;
            }
        }
    }
}
