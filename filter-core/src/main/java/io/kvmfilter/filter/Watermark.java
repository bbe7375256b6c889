package io.kvmfilter.filter;

import io.kvmfilter.kvm.KvmConfigurationException;
import io.kvmfilter.kvm.ProgramLibrary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The mark the image program puts on every image it makes for option URLs (issue #17): a configured image file
 * (a logo, with its transparency), scaled to a fraction of the output's width and placed by gravity. The program
 * opens it as {@link #GUEST_PATH}, granted read-only through the library's {@code allowed_paths}; nothing else on
 * the host is visible to it. The file is read at start: its SHA-256 is part of every result's key, so a changed
 * mark takes a restart (or a reload) and never mixes with results made with the old one.
 *
 * @param file    the mark's file on the host
 * @param opacity 0 to 1
 * @param gravity where it goes: {@code center}, {@code north} ... {@code southwest}
 * @param size    its width as a fraction of the output's width, above 0 and at most 1
 * @param margin  the space to the edges as a fraction of the output's width, 0 to 0.5
 * @param sha256  the file's SHA-256 when it was read, in hex
 */
public record Watermark(Path file, double opacity, String gravity, double size, double margin, String sha256) {

    /** Where the program finds the mark inside its sandbox. */
    public static final String GUEST_PATH = "/watermark";
    /** The program that draws it. */
    static final String PROGRAM = "image";
    private static final Set<String> GRAVITIES = Set.of("center", "north", "south", "east", "west", "northeast",
            "northwest", "southeast", "southwest");

    /**
     * Reads the settings of a mark.
     *
     * @param value   a setting's text by name ({@code watermark}, {@code watermarkOpacity},
     *                {@code watermarkGravity}, {@code watermarkSize}, {@code watermarkMargin}), null when not set
     * @param display the name a setting has where it was written, for error messages
     * @return the mark, or null when {@code watermark} is not set
     * @throws IllegalArgumentException naming the setting and what is allowed
     */
    static Watermark of(java.util.function.UnaryOperator<String> value, java.util.function.UnaryOperator<String> display) {
        String file = value.apply("watermark");
        if (file == null || file.isBlank()) {
            for (String other : List.of("watermarkOpacity", "watermarkGravity", "watermarkSize", "watermarkMargin")) {
                if (value.apply(other) != null) {
                    throw new IllegalArgumentException("'" + display.apply(other) + "' needs '"
                            + display.apply("watermark") + "', the mark's file");
                }
            }
            return null;
        }
        Path path = Path.of(file.strip()).toAbsolutePath().normalize();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new IllegalArgumentException("'" + display.apply("watermark") + "': " + path + " cannot be read: "
                    + e, e);
        }
        String gravity = value.apply("watermarkGravity") == null ? "southeast"
                : value.apply("watermarkGravity").strip().toLowerCase(Locale.ROOT);
        if (!GRAVITIES.contains(gravity)) {
            throw new IllegalArgumentException("'" + display.apply("watermarkGravity") + "' must be one of "
                    + new java.util.TreeSet<>(GRAVITIES) + ", got \"" + LogText.escape(gravity) + "\"");
        }
        double opacity = fraction(value, display, "watermarkOpacity", 0.5, 0, 1, true);
        double size = fraction(value, display, "watermarkSize", 0.2, 0, 1, false);
        double margin = fraction(value, display, "watermarkMargin", 0.02, 0, 0.5, true);
        return new Watermark(path, opacity, gravity, size, margin, sha256(bytes));
    }

    private static double fraction(java.util.function.UnaryOperator<String> value,
            java.util.function.UnaryOperator<String> display, String name, double absent, double min, double max,
            boolean minAllowed) {
        String text = value.apply(name);
        if (text == null) {
            return absent;
        }
        double n;
        try {
            n = Double.parseDouble(text.strip());
        } catch (NumberFormatException e) {
            n = Double.NaN;
        }
        if (!(n <= max && (minAllowed ? n >= min : n > min))) {
            throw new IllegalArgumentException("'" + display.apply(name) + "' must be a number " + (minAllowed
                    ? "from " + min : "above " + min) + " to " + max + ", got \"" + LogText.escape(text) + "\"");
        }
        return n;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    /** The {@code watermark} member of the image program's arg (JSON, without braces around it). */
    String argMember() {
        return "\"watermark\":{\"file\":\"" + GUEST_PATH + "\",\"opacity\":" + opacity + ",\"gravity\":\"" + gravity
                + "\",\"size\":" + size + ",\"margin\":" + margin + "}";
    }

    /**
     * The library with the mark granted to the image program, read-only, as {@link #GUEST_PATH}.
     *
     * @throws KvmConfigurationException when the library refuses it
     */
    ProgramLibrary grant(ProgramLibrary library) {
        return library.configure(PROGRAM, Map.of("allowed_paths", List.of(Map.of("real", file.toString(),
                "virtual", GUEST_PATH))));
    }
}
