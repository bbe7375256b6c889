package io.kvmfilter.filter;

/**
 * What a filter did with one response, as {@link FilterListener}s hear it: the same outcome as the
 * {@code X-KVM-Transform} header and the statistics servlet's counters ({@code applied=webp},
 * {@code fallback=webp:timeout}, {@code skipped=too-large}), split into its parts.
 *
 * @param filter  the filter's name, unique in the JVM ({@code <context>-<filter name>}, as its result store's)
 * @param kind    {@code applied}, {@code cache-hit} (counted besides {@code applied}), {@code fallback},
 *                {@code skipped} or {@code passed}
 * @param variant the variant applied or tried; null for {@code skipped} and {@code passed}
 * @param reason  why it failed, was skipped or passed (a short fixed token); null for {@code applied} and
 *                {@code cache-hit}
 */
public record FilterOutcome(String filter, String kind, String variant, String reason) {
}
