package io.kvmfilter.kvm;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.File;
import java.io.IOException;
import java.net.URL;

/**
 * Finds and binds libkvmfilter.so once per class loader. Where it looks, in order:
 * <ol>
 *   <li>the system property {@value #PATH_PROPERTY}: the library file, or a directory holding it;</li>
 *   <li>the class path resource {@code linux-x86-64/libkvmfilter.so} (inside the kvm-binding jar),
 *       extracted by JNA to its temporary directory;</li>
 *   <li>JNA's usual places: {@code jna.library.path}, then the system library path.</li>
 * </ol>
 * A failure is remembered and thrown again, with the same message, on every later attempt.
 */
final class NativeLoader {
    private NativeLoader() {
    }

    /** System property overriding where the native library is loaded from. */
    static final String PATH_PROPERTY = "kvmfilter.library.path";

    static final String LIBRARY_NAME = "kvmfilter";
    static final String FILE_NAME = "libkvmfilter.so";

    private static volatile boolean loaded;
    private static KvmUnavailableException failure;
    private static String version;

    /**
     * Loads and binds the library unless done already.
     *
     * @throws KvmUnavailableException naming what was looked for and where
     */
    static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (NativeLoader.class) {
            if (loaded) {
                return;
            }
            if (failure != null) {
                throw failure;
            }
            try {
                onOwnThread(() -> {
                    NativeLibrary library = find();
                    KvmNative.register(library);
                    version = NativeStrings.fromCString(KvmNative.kvmf_version());
                    checkApiVersion(version, library);
                    checkLayout(library);
                    checkErrorNames(library);
                });
                loaded = true;
            } catch (KvmUnavailableException e) {
                failure = e;
                throw e;
            } catch (UnsatisfiedLinkError e) {
                failure = new KvmUnavailableException("The native library " + FILE_NAME
                        + " was found but cannot be bound: " + e.getMessage()
                        + ". It must export every function of kvmfilter.h (api " + KvmNative.API_VERSION + ")", e);
                throw failure;
            }
        }
    }

    /**
     * Runs the binding on a short-lived thread of its own and waits for it. JNA's {@code Native.register} writes
     * its type descriptions (JNA Structures), which leaves an entry in JNA's per-thread "busy" set, a ThreadLocal,
     * on the calling thread. Here that would be a servlet container's thread, which outlives the web application:
     * Tomcat reports the entry when it stops the application ("created a ThreadLocal with key of type
     * [com.sun.jna.Structure$2] ... but failed to remove it"), and the entry would keep the application's class
     * loader reachable. The entry ends with the thread. Errors and exceptions are rethrown on the caller's thread.
     */
    private static void onOwnThread(Runnable binding) {
        Throwable[] thrown = new Throwable[1];
        Thread thread = new Thread(() -> {
            try {
                binding.run();
            } catch (RuntimeException | Error e) {
                thrown[0] = e;
            }
        }, "kvmfilter-native-loader");
        thread.setDaemon(true);
        thread.start();
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the binding cannot be abandoned halfway; wait, then restore the flag
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (thrown[0] instanceof RuntimeException e) {
            throw e;
        }
        if (thrown[0] instanceof Error e) {
            throw e;
        }
    }

    /** @return the core's version string, e.g. "kvmfilter 0.1.0 (api 1)" */
    static String version() {
        ensureLoaded();
        return version;
    }

    private static void checkApiVersion(String version, NativeLibrary library) {
        String expected = "(api " + KvmNative.API_VERSION + ")";
        if (!version.contains(expected)) {
            throw new KvmUnavailableException("The native library " + library.getFile() + " reports \"" + version
                    + "\" but this binding needs " + expected + "; use the libkvmfilter.so built with this kvm-binding");
        }
    }

    /**
     * NativeLayout lays the structs of kvmfilter.h out by hand: a library whose structs have another size (a field
     * added on one side only) would be read and written at the wrong offsets, so it is refused.
     */
    private static void checkLayout(NativeLibrary library) {
        long[][] expected = {
            {KvmNative.LAYOUT_CONFIG, NativeLayout.CONFIG_SIZE},
            {KvmNative.LAYOUT_RESPONSE, NativeLayout.RESPONSE_SIZE},
            {KvmNative.LAYOUT_PROGRAM_STATS, NativeLayout.PSTATS_SIZE},
            {KvmNative.LAYOUT_INSTANCE_STATS, NativeLayout.ISTATS_SIZE},
            {KvmNative.LAYOUT_ERROR_KINDS, NativeLayout.ERROR_KIND_COUNT},
            {KvmNative.LAYOUT_SOCKET_RESULT, NativeLayout.SOCKET_RESULT_SIZE},
        };
        String[] names = {"struct kvmf_config", "struct kvmf_response", "struct kvmf_program_stats",
            "struct kvmf_instance_stats", "KVMF_ERROR_KIND_COUNT", "struct kvmf_socket_result"};
        for (int i = 0; i < expected.length; i++) {
            long actual = KvmNative.kvmf_layout_size((int) expected[i][0]);
            if (actual != expected[i][1]) {
                throw new KvmUnavailableException("The native library " + library.getFile() + " has " + names[i]
                        + " = " + actual + " but this binding expects " + expected[i][1]
                        + "; use the libkvmfilter.so built with this kvm-binding");
            }
        }
    }

    /** FailureKind mirrors enum kvmf_error by position: a core that numbers them differently must not be used. */
    private static void checkErrorNames(NativeLibrary library) {
        for (int code = 1; code <= FailureKind.NATIVE_KIND_COUNT; code++) {
            String nativeName = NativeStrings.fromCString(KvmNative.kvmf_error_name(code));
            String javaName = FailureKind.fromNative(code).name();
            if (!nativeName.equals(javaName)) {
                throw new KvmUnavailableException("The native library " + library.getFile() + " names error " + code
                        + " \"" + nativeName + "\" but this binding expects \"" + javaName
                        + "\"; use the libkvmfilter.so built with this kvm-binding");
            }
        }
    }

    static NativeLibrary find() {
        String resource = Platform.RESOURCE_PREFIX + "/" + FILE_NAME;
        String override = System.getProperty(PATH_PROPERTY);
        if (override != null && !override.isBlank()) {
            File file = new File(override.strip());
            if (file.isDirectory()) {
                file = new File(file, FILE_NAME);
            }
            if (!file.isFile()) {
                throw new KvmUnavailableException("Native library not found: system property " + PATH_PROPERTY + "=\""
                        + override + "\" names " + file.getAbsolutePath() + ", which does not exist. Give the path of "
                        + FILE_NAME + " (or its directory), e.g. src-native/build/lib after `make -C src-native`");
            }
            return open(file.getAbsolutePath(), "system property " + PATH_PROPERTY);
        }
        ClassLoader loader = NativeLoader.class.getClassLoader();
        URL url = loader == null ? null : loader.getResource(resource);
        if (url != null) {
            try {
                File extracted = Native.extractFromResourcePath(LIBRARY_NAME, loader);
                return open(extracted.getAbsolutePath(), "class path resource " + url);
            } catch (IOException e) {
                throw new KvmUnavailableException("Native library " + resource + " is on the class path (" + url
                        + ") but could not be extracted to a temporary file: " + e.getMessage()
                        + ". Set jna.tmpdir to a writable directory", e);
            }
        }
        try {
            return NativeLibrary.getInstance(LIBRARY_NAME);
        } catch (UnsatisfiedLinkError e) {
            throw new KvmUnavailableException("Native library (" + resource + ") not found: system property "
                    + PATH_PROPERTY + " is not set, the class path has no resource " + resource
                    + ", and " + FILE_NAME + " is not in jna.library.path (" + System.getProperty("jna.library.path", "unset")
                    + ") or the system library path. Use the kvm-binding jar built with the native library (mvn package),"
                    + " or set -D" + PATH_PROPERTY + "=/path/to/" + FILE_NAME, e);
        }
    }

    private static NativeLibrary open(String path, String origin) {
        try {
            return NativeLibrary.getInstance(path);
        } catch (UnsatisfiedLinkError e) {
            throw new KvmUnavailableException("Native library " + path + " (from " + origin + ") cannot be loaded: "
                    + e.getMessage() + ". It must be an x86-64 Linux shared library built from src-native", e);
        }
    }
}
