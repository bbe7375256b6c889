package io.kvmfilter.filter;

import java.util.Objects;

/**
 * What the filter did with one response: the value of the diagnostic header and the name of the counter it
 * adds to. Its text is {@code applied=webp}, {@code cache-hit=webp}, {@code fallback=webp:timeout},
 * {@code skipped=too-large} (a rule covers the type) or {@code passed=no-rule} (none does).
 *
 * @param kind    what happened
 * @param variant the variant applied or tried; null for skipped and passed
 * @param reason  why it failed, was skipped or passed; null for applied and cache-hit
 */
record Outcome(Kind kind, String variant, String reason) {

    /** What happened, with the word the diagnostic header and the counters use. */
    enum Kind {
        /** A program's body was served. */
        APPLIED("applied"),
        /** A stored result of the same input was served (counted besides {@code applied}). */
        CACHE_HIT("cache-hit"),
        /** The variant's program failed: the original was served. */
        FALLBACK("fallback"),
        /** A rule covers the type, but this response was served as it was. */
        SKIPPED("skipped"),
        /** No rule covers the type: the filter only let it through. */
        PASSED("passed");

        private final String word;

        Kind(String word) {
            this.word = word;
        }

        /** The word of the header and the counters, e.g. {@code applied}. */
        String word() {
            return word;
        }
    }

    Outcome {
        Objects.requireNonNull(kind, "kind");
        boolean withVariant = kind == Kind.APPLIED || kind == Kind.CACHE_HIT || kind == Kind.FALLBACK;
        boolean withReason = kind != Kind.APPLIED && kind != Kind.CACHE_HIT;
        if (withVariant != (variant != null) || withReason != (reason != null)) {
            throw new IllegalArgumentException(kind + " takes " + (withVariant ? "a variant" : "no variant")
                    + " and " + (withReason ? "a reason" : "no reason") + ": " + variant + ", " + reason);
        }
    }

    static Outcome applied(String variant) {
        return new Outcome(Kind.APPLIED, variant, null);
    }

    static Outcome cacheHit(String variant) {
        return new Outcome(Kind.CACHE_HIT, variant, null);
    }

    static Outcome fallback(String variant, String failure) {
        return new Outcome(Kind.FALLBACK, variant, failure);
    }

    /** Served as the application wrote it: skipped when a rule covers the type, passed when none does. */
    static Outcome untouched(boolean ruleCovers, String reason) {
        return new Outcome(ruleCovers ? Kind.SKIPPED : Kind.PASSED, null, reason);
    }

    /** The header value and counter name. */
    String text() {
        return switch (kind) {
            case APPLIED, CACHE_HIT -> kind.word + "=" + variant;
            case FALLBACK -> kind.word + "=" + variant + ":" + reason;
            case SKIPPED, PASSED -> kind.word + "=" + reason;
        };
    }

    @Override
    public String toString() {
        return text();
    }
}
