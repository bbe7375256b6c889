package io.kvmfilter.kvm;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where programs and libraries come from: resolving "filename" and "uri" values to file:, classpath:, bundled:
 * and https: URIs, reading them (https: through {@link ProgramDownloads}), checking SHA-256 and fingerprinting files
 * for reload.
 */
final class ProgramFiles {
    private ProgramFiles() {
    }

    /** @return uri as a normalized source URI; relative file: URIs are resolved against base */
    static URI resolveUri(String where, String uri, URI base) {
        int colon = uri.indexOf(':');
        String scheme = colon > 0 ? uri.substring(0, colon) : "";
        String rest = uri.substring(colon + 1);
        switch (scheme) {
            case "bundled":
                if (!rest.matches("[A-Za-z0-9._-]+")) {
                    throw new KvmConfigurationException(where + ": \"" + uri + "\" must name a bundled program as"
                            + " bundled:NAME with letters, digits, '.', '_' or '-' (e.g. bundled:webp)");
                }
                return URI.create("bundled:" + rest);
            case "classpath":
                return classpathUri(where, rest.startsWith("/") ? rest.substring(1) : rest);
            case "file":
                if (rest.startsWith("/")) {
                    try {
                        return Path.of(new URI(uri)).normalize().toUri();
                    } catch (URISyntaxException | IllegalArgumentException e) {
                        throw new KvmConfigurationException(where + ": \"" + uri + "\" is not a valid file: URI ("
                                + e.getMessage() + "); give e.g. file:/opt/programs/webp or a \"filename\"", e);
                    }
                }
                return resolveFilename(rest, base);
            case "https":
                return ProgramDownloads.check(where, uri);
            default:
                throw new KvmConfigurationException(where + ": \"" + uri + "\" must be a file:, classpath:, bundled: or"
                        + " https: URI" + (scheme.equals("http") ? "; plain http is refused (anyone on the way could"
                                + " change the program): give an https: URI with its sha256" : ""));
        }
    }

    /** @return a path as a file: URI; relative paths are resolved against the directory of base */
    static URI resolveFilename(String filename, URI base) {
        Path path;
        try {
            path = Path.of(filename);
        } catch (InvalidPathException e) {
            throw new KvmConfigurationException("\"" + filename + "\" is not a valid file path: " + e.getMessage(), e);
        }
        if (path.isAbsolute()) {
            return path.normalize().toUri();
        }
        if (base != null && "file".equals(base.getScheme())) {
            Path parent = Path.of(base).getParent();
            return (parent == null ? path : parent.resolve(path)).normalize().toUri();
        }
        if (base != null && "https".equals(base.getScheme())) {
            throw new KvmConfigurationException("\"" + filename + "\" is a relative file name in a library fetched from "
                    + base.getHost() + "; such a library names its programs by absolute path or by https: \"uri\"");
        }
        if (base != null && "classpath".equals(base.getScheme())) {
            String dir = base.getSchemeSpecificPart();
            int slash = dir.lastIndexOf('/');
            return classpathUri("\"" + filename + "\"", (slash < 0 ? "" : dir.substring(0, slash + 1)) + filename);
        }
        return Path.of("").toAbsolutePath().resolve(path).normalize().toUri();
    }

    private static URI classpathUri(String where, String resource) {
        try {
            return new URI("classpath", resource, null);
        } catch (URISyntaxException e) {
            throw new KvmConfigurationException(where + ": \"" + resource + "\" is not a valid class path resource", e);
        }
    }

    /**
     * Reads a file:, classpath: or bundled: source whole.
     *
     * @param what what is read, for messages ("program 'webp'", "program library")
     * @throws KvmConfigurationException saying what was looked for and where
     */
    static byte[] read(URI source, String what) {
        switch (String.valueOf(source.getScheme())) {
            case "file": {
                Path path = Path.of(source);
                try {
                    return Files.readAllBytes(path);
                } catch (NoSuchFileException e) {
                    throw new KvmConfigurationException("Cannot read " + what + ": file " + path + " does not exist", e);
                } catch (AccessDeniedException e) {
                    throw new KvmConfigurationException("Cannot read " + what + ": file " + path
                            + " is not readable by this process (permission denied)", e);
                } catch (IOException e) {
                    throw new KvmConfigurationException("Cannot read " + what + " from file " + path + ": " + e, e);
                }
            }
            case "classpath":
                return readResource(source.getSchemeSpecificPart(), what, "");
            case "https":
                return ProgramDownloads.read(source, what);
            case "bundled": {
                String name = source.getSchemeSpecificPart();
                return readResource(ProgramLibrary.BUNDLED_PROGRAMS + name, what, "; the bundled program '" + name
                        + "' is built by `make -C src-native programs` and packaged into the kvm-binding jar");
            }
            default:
                throw new KvmConfigurationException("Cannot read " + what + ": unsupported source " + source
                        + "; allowed: file:, classpath:, bundled: and https: URIs");
        }
    }

    private static byte[] readResource(String resource, String what, String hint) {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        ClassLoader own = ProgramFiles.class.getClassLoader();
        InputStream in = context == null ? null : context.getResourceAsStream(resource);
        if (in == null && own != null) {
            in = own.getResourceAsStream(resource);
        }
        if (in == null) {
            throw new KvmConfigurationException("Cannot read " + what + ": class path resource " + resource
                    + " not found (looked in the thread context class loader and " + own + ")" + hint);
        }
        try (InputStream stream = in) {
            return stream.readAllBytes();
        } catch (IOException e) {
            throw new KvmConfigurationException("Cannot read " + what + " from class path resource " + resource + ": " + e, e);
        }
    }

    /** @throws KvmConfigurationException when the SHA-256 of bytes is not expected */
    static void checkSha256(byte[] bytes, String expected, String what, URI source) {
        String actual = sha256(bytes);
        if (!actual.equals(expected)) {
            throw new KvmConfigurationException("Program " + what + " from " + source + " has SHA-256 " + actual
                    + " but the library expects " + expected + "; the file changed or the checksum is wrong");
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    /**
     * @return a value that changes when a file: source changes (size and modification time), or null for
     *     other sources and unreadable files
     */
    static String fingerprint(URI source) {
        if (!"file".equals(source.getScheme())) {
            return null;
        }
        try {
            BasicFileAttributes attributes = Files.readAttributes(Path.of(source), BasicFileAttributes.class);
            return attributes.size() + "@" + attributes.lastModifiedTime().toMillis() + "#"
                    + attributes.fileKey();
        } catch (IOException e) {
            return null;
        }
    }
}
