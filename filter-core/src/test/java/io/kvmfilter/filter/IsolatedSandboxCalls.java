package io.kvmfilter.filter;

import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Request;
import io.kvmfilter.kvm.Result;
import java.nio.charset.StandardCharsets;

/**
 * What a web application does with kvm-binding on the container's threads, loaded by {@link ContainerThreadsTest}
 * in a class loader of its own (as a web application's WEB-INF/lib is): called reflectively, so it uses that
 * loader's copy of kvm-binding and JNA.
 */
public final class IsolatedSandboxCalls {

    private IsolatedSandboxCalls() {
    }

    /** What KvmFilter.init does on the container's start-up thread: loads the native library, starts a sandbox. */
    public static Object start(String name) {
        Kvm.checkAvailable();
        return Kvm.start(ProgramLibrary.bundled(), name);
    }

    /** One request on a container thread: minify a small JSON document; returns the minified text. */
    public static String request(Object kvm) {
        byte[] json = "{ \"a\": [1, 2] }".getBytes(StandardCharsets.UTF_8);
        Result result = ((Kvm) kvm).run("minify", Request.post("/data.json", "application/json", json));
        if (!result.ok()) {
            throw new IllegalStateException("minify failed: " + result);
        }
        return result.bodyAsString();
    }

    /** What KvmFilter.destroy does. */
    public static void stop(Object kvm) {
        ((Kvm) kvm).close();
    }
}
