package io.kvmfilter.filter;

import java.util.OptionalLong;

/**
 * Reads the pixel count of an image from its header, without decoding it, so that decompression bombs (a small
 * file declaring a huge canvas, or thousands of frames) never reach a program. Knows PNG (with APNG frame counts),
 * JPEG, GIF (all frames) and WebP. Facts from the format specifications; anything else or anything malformed is
 * "unknown", left to the program's own checks.
 */
final class ImageHeaders {

    private ImageHeaders() {
    }

    /** Width × height × frames, or empty when the format is not recognised or the header is cut short. */
    static OptionalLong pixels(byte[] data) {
        try {
            if (startsWith(data, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
                return png(data);
            }
            if (startsWith(data, 0xFF, 0xD8)) {
                return jpeg(data);
            }
            if (startsWith(data, 'G', 'I', 'F', '8')) {
                return gif(data);
            }
            if (startsWith(data, 'R', 'I', 'F', 'F') && data.length >= 16 && data[8] == 'W' && data[9] == 'E'
                    && data[10] == 'B' && data[11] == 'P') {
                return webp(data);
            }
        } catch (ArrayIndexOutOfBoundsException e) {
            return OptionalLong.empty(); // cut short: the program will reject it
        }
        return OptionalLong.empty();
    }

    /** PNG: IHDR is the first chunk; an acTL chunk (animated PNG) before IDAT gives the frame count. */
    private static OptionalLong png(byte[] d) {
        long width = u32be(d, 16);
        long height = u32be(d, 20);
        long frames = 1;
        int pos = 8;
        while (pos + 8 <= d.length) {
            long length = u32be(d, pos);
            String type = new String(d, pos + 4, 4, java.nio.charset.StandardCharsets.US_ASCII);
            if (type.equals("acTL")) {
                frames = Math.max(1, u32be(d, pos + 8));
                break;
            }
            if (type.equals("IDAT") || length > d.length) {
                break;
            }
            pos += 12 + (int) length;
        }
        return OptionalLong.of(width * height * frames);
    }

    /** JPEG: the first SOFn marker (C0–CF except C4, C8, CC) holds height and width. */
    private static OptionalLong jpeg(byte[] d) {
        int pos = 2;
        while (pos + 4 <= d.length) {
            if ((d[pos] & 0xFF) != 0xFF) {
                return OptionalLong.empty();
            }
            int marker = d[pos + 1] & 0xFF;
            if (marker == 0xFF) { // fill byte
                pos++;
                continue;
            }
            if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
                pos += 2;
                continue;
            }
            int length = u16be(d, pos + 2);
            if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
                long height = u16be(d, pos + 5);
                long width = u16be(d, pos + 7);
                return OptionalLong.of(width * height);
            }
            if (marker == 0xDA || length < 2) { // start of scan before any frame header: not a valid JPEG
                return OptionalLong.empty();
            }
            pos += 2 + length;
        }
        return OptionalLong.empty();
    }

    /** GIF: the logical screen size times the number of image descriptors. */
    private static OptionalLong gif(byte[] d) {
        long width = u16le(d, 6);
        long height = u16le(d, 8);
        int flags = d[10] & 0xFF;
        int pos = 13 + ((flags & 0x80) != 0 ? 3 << ((flags & 0x07) + 1) : 0);
        long frames = 0;
        while (pos < d.length) {
            int block = d[pos] & 0xFF;
            if (block == 0x3B) { // trailer
                break;
            } else if (block == 0x21) { // extension: label, then sub-blocks
                pos = skipSubBlocks(d, pos + 2);
            } else if (block == 0x2C) { // image descriptor, optional local colour table, LZW size, sub-blocks
                frames++;
                int local = d[pos + 9] & 0xFF;
                pos += 10 + ((local & 0x80) != 0 ? 3 << ((local & 0x07) + 1) : 0);
                pos = skipSubBlocks(d, pos + 1);
            } else {
                break;
            }
        }
        return OptionalLong.of(width * height * Math.max(1, frames));
    }

    private static int skipSubBlocks(byte[] d, int pos) {
        while (pos < d.length) {
            int size = d[pos] & 0xFF;
            pos += 1 + size;
            if (size == 0) {
                break;
            }
        }
        return pos;
    }

    /** WebP: VP8 (lossy), VP8L (lossless) or VP8X (extended) as the first chunk. */
    private static OptionalLong webp(byte[] d) {
        String chunk = new String(d, 12, 4, java.nio.charset.StandardCharsets.US_ASCII);
        switch (chunk) {
            case "VP8 " -> {
                long width = u16le(d, 26) & 0x3FFF;
                long height = u16le(d, 28) & 0x3FFF;
                return OptionalLong.of(width * height);
            }
            case "VP8L" -> {
                long bits = u32le(d, 21);
                long width = (bits & 0x3FFF) + 1;
                long height = ((bits >> 14) & 0x3FFF) + 1;
                return OptionalLong.of(width * height);
            }
            case "VP8X" -> {
                long width = u24le(d, 24) + 1;
                long height = u24le(d, 27) + 1;
                return OptionalLong.of(width * height);
            }
            default -> {
                return OptionalLong.empty();
            }
        }
    }

    private static boolean startsWith(byte[] d, int... prefix) {
        if (d.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((d[i] & 0xFF) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static long u32be(byte[] d, int at) {
        return ((long) (d[at] & 0xFF) << 24) | ((d[at + 1] & 0xFF) << 16) | ((d[at + 2] & 0xFF) << 8) | (d[at + 3] & 0xFF);
    }

    private static int u16be(byte[] d, int at) {
        return ((d[at] & 0xFF) << 8) | (d[at + 1] & 0xFF);
    }

    private static int u16le(byte[] d, int at) {
        return (d[at] & 0xFF) | ((d[at + 1] & 0xFF) << 8);
    }

    private static long u24le(byte[] d, int at) {
        return (d[at] & 0xFF) | ((d[at + 1] & 0xFF) << 8) | ((long) (d[at + 2] & 0xFF) << 16);
    }

    private static long u32le(byte[] d, int at) {
        return u24le(d, at) | ((long) (d[at + 3] & 0xFF) << 24);
    }
}
