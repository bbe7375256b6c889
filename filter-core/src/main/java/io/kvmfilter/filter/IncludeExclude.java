package io.kvmfilter.filter;

import java.util.List;
import java.util.function.BiPredicate;

/**
 * One include/exclude pair of the configuration (paths, media types, methods), as Jetty's {@code IncludeExclude}:
 * a value is selected when the included list is empty or one of its patterns matches, <em>and</em> no pattern of
 * the excluded list matches. The excluded list wins.
 *
 * @param <P> the pattern type (a {@link PathSpec}, a media type pattern, a method name)
 */
final class IncludeExclude<P> {

    private final List<P> included;
    private final List<P> excluded;
    private final BiPredicate<P, String> matches;

    /**
     * @param included patterns to include; empty includes everything
     * @param excluded patterns to exclude
     * @param matches  whether a pattern matches a value
     */
    IncludeExclude(List<P> included, List<P> excluded, BiPredicate<P, String> matches) {
        this.included = List.copyOf(included);
        this.excluded = List.copyOf(excluded);
        this.matches = matches;
    }

    /** Included (an empty list includes everything) and not excluded. Runs several times per request: plain loops. */
    boolean test(String value) {
        return (included.isEmpty() || anyMatches(included, value)) && !anyMatches(excluded, value);
    }

    private boolean anyMatches(List<P> patterns, String value) {
        for (P pattern : patterns) {
            if (matches.test(pattern, value)) {
                return true;
            }
        }
        return false;
    }

    List<P> included() {
        return included;
    }

    List<P> excluded() {
        return excluded;
    }

    @Override
    public String toString() {
        return "included " + included + ", excluded " + excluded;
    }
}
