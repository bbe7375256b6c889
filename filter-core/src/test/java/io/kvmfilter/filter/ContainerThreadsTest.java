package io.kvmfilter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.jna.Native;
import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.testing.KvmRequirement;
import java.lang.ref.Reference;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The sandbox leaves nothing in the ThreadLocals of the threads that start it and send it requests. Those are the
 * container's threads, which outlive a web application: Tomcat checks them when it stops an application and
 * reports every ThreadLocal whose key or value was loaded by the application's class loader ("created a
 * ThreadLocal ... but failed to remove it"). kvm-binding and JNA are loaded here by a class loader of their own, as
 * from a web application's WEB-INF/lib, and the threads' ThreadLocal maps are checked the way Tomcat does.
 * Needs {@code --add-opens java.base/java.lang=ALL-UNNAMED} (set in this module's pom), as Tomcat does.
 */
class ContainerThreadsTest {

    @Test
    void startingTheSandboxAndServingRequestsLeavesNoThreadLocalsOfTheApplication() throws Exception {
        KvmRequirement.require("webp", "avif", "minify");
        try (URLClassLoader application = new URLClassLoader("web-application", applicationClassPath(),
                ClassLoader.getPlatformClassLoader())) {
            Class<?> calls = application.loadClass(IsolatedSandboxCalls.class.getName());
            assertThat(calls.getClassLoader()).isSameAs(application);
            Method start = calls.getMethod("start", String.class);
            Method request = calls.getMethod("request", Object.class);
            Method stop = calls.getMethod("stop", Object.class);

            AtomicReference<Object> kvm = new AtomicReference<>();
            List<String> startLeft = onContainerThread(application,
                    () -> kvm.set(start.invoke(null, "container-threads-test")));
            try {
                AtomicReference<Object> minified = new AtomicReference<>();
                List<String> requestLeft = onContainerThread(application,
                        () -> minified.set(request.invoke(null, kvm.get())));
                assertThat(minified.get()).isEqualTo("{\"a\":[1,2]}");
                assertThat(startLeft).as("ThreadLocals left on the thread that started the sandbox").isEmpty();
                assertThat(requestLeft).as("ThreadLocals left on a thread that sent a request").isEmpty();
            } finally {
                stop.invoke(null, kvm.get());
            }
        }
    }

    /** The class path of a web application holding the filter: kvm-binding, JNA, Jackson and these test classes. */
    private static URL[] applicationClassPath() {
        List<URL> urls = new ArrayList<>();
        for (Class<?> c : List.of(Kvm.class, Native.class, ObjectMapper.class, JsonFactory.class,
                com.fasterxml.jackson.annotation.JsonProperty.class, IsolatedSandboxCalls.class)) {
            URL url = c.getProtectionDomain().getCodeSource().getLocation();
            if (!urls.contains(url)) {
                urls.add(url);
            }
        }
        return urls.toArray(new URL[0]);
    }

    /** A step the container's thread runs. */
    interface Step {
        void run() throws Exception;
    }

    /**
     * Runs the step on a fresh thread with the application's context class loader, as a container does, and
     * returns what that thread's ThreadLocal map holds of the application's classes when the step is done.
     */
    private static List<String> onContainerThread(ClassLoader application, Step step) throws Exception {
        AtomicReference<List<String>> left = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                step.run();
                left.set(threadLocalsOf(Thread.currentThread(), application));
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "container-thread");
        thread.setContextClassLoader(application);
        thread.start();
        thread.join(120_000);
        if (failure.get() != null) {
            throw new AssertionError("the step failed on the container thread", failure.get());
        }
        assertThat(left.get()).as("the container thread finished").isNotNull();
        return left.get();
    }

    /** Tomcat's check: entries of the thread's ThreadLocal map whose key or value the application loaded. */
    private static List<String> threadLocalsOf(Thread thread, ClassLoader application) throws Exception {
        List<String> found = new ArrayList<>();
        Field threadLocals = Thread.class.getDeclaredField("threadLocals");
        threadLocals.setAccessible(true);
        Object map = threadLocals.get(thread);
        if (map == null) {
            return found;
        }
        Field tableField = map.getClass().getDeclaredField("table");
        tableField.setAccessible(true);
        Object table = tableField.get(map);
        for (int i = 0; i < Array.getLength(table); i++) {
            Object entry = Array.get(table, i);
            if (entry == null) {
                continue;
            }
            Object key = ((Reference<?>) entry).get();
            Field valueField = entry.getClass().getDeclaredField("value");
            valueField.setAccessible(true);
            Object value = valueField.get(entry);
            if (loadedBy(key, application) || loadedBy(value, application)) {
                found.add("key " + describe(key) + ", value " + describe(value));
            }
        }
        return found;
    }

    private static boolean loadedBy(Object object, ClassLoader loader) {
        return object != null && object.getClass().getClassLoader() == loader;
    }

    private static String describe(Object object) {
        return object == null ? "null" : object.getClass().getName();
    }
}
