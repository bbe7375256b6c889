package io.kvmfilter.filter;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One entry of {@code includedPaths} / {@code excludedPaths}, in the servlet mapping syntax Jetty users know:
 * {@code /images/*} (prefix), {@code *.jpg} (suffix), {@code /exact/path}, {@code /} (everything), or a regular
 * expression starting with {@code ^}. Paths are matched against the path inside the web application
 * (servlet path plus path info).
 */
final class PathSpec {

    private final String spec;
    private final Pattern regex;

    private PathSpec(String spec, Pattern regex) {
        this.spec = spec;
        this.regex = regex;
    }

    /**
     * Parses one path spec.
     *
     * @throws IllegalArgumentException when it is none of the allowed forms
     */
    static PathSpec parse(String spec) {
        if (spec.startsWith("^")) {
            try {
                return new PathSpec(spec, Pattern.compile(spec));
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("'" + spec + "' is not a valid regular expression: "
                        + e.getDescription());
            }
        }
        boolean valid = spec.startsWith("/") && (spec.indexOf('*') < 0 || (spec.endsWith("/*")
                && spec.indexOf('*') == spec.length() - 1))
                || spec.startsWith("*.") && spec.length() > 2 && spec.indexOf('/') < 0 && spec.lastIndexOf('*') == 0;
        if (!valid) {
            throw new IllegalArgumentException("'" + spec + "' is not a path spec (allowed: /prefix/*, *.suffix,"
                    + " /exact, / or a regular expression starting with ^)");
        }
        return new PathSpec(spec, null);
    }

    boolean matches(String path) {
        if (regex != null) {
            return regex.matcher(path).matches();
        }
        if (spec.equals("/") || spec.equals("/*")) {
            return true;
        }
        if (spec.startsWith("*.")) {
            return path.endsWith(spec.substring(1));
        }
        if (spec.endsWith("/*")) {
            String prefix = spec.substring(0, spec.length() - 2);
            return path.equals(prefix) || path.startsWith(prefix + "/");
        }
        return path.equals(spec);
    }

    @Override
    public String toString() {
        return spec;
    }
}
