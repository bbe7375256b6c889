package io.kvmfilter.filter;

import jakarta.servlet.ServletContext;

/**
 * Names for the sandboxes of filters and servlets. A sandbox's name is registered JVM-wide (JMX), but a filter's
 * name is only unique within its web application, and several applications share a container: the name joins
 * the application's context path and the filter's name, in the characters a sandbox name allows.
 */
final class SandboxNames {

    private SandboxNames() {
    }

    /** {@code <context>-<name>}; the root context is {@code ROOT}, as Tomcat names its directory. */
    static String of(ServletContext context, String name) {
        String path = context == null ? "" : context.getContextPath();
        String application = path == null || path.isEmpty() ? "ROOT" : path.substring(1);
        return clean(application) + "-" + clean(name);
    }

    private static String clean(String text) {
        return text.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
