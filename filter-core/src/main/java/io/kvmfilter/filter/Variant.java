package io.kvmfilter.filter;

import io.kvmfilter.kvm.Step;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One way of transforming a response: a chain of program steps and, when the chain changes the format, the
 * media type it produces.
 *
 * <p>A variant with an {@code outputType} is <em>negotiated</em>: it is served only to clients whose
 * {@code Accept} header asks for that type. A variant without one keeps the type of the source (a minifier, an
 * optimizer) and is applied whenever its rule matches.
 *
 * @param name       short name used in ETag suffixes and the diagnostic header ({@code webp}, {@code minify})
 * @param outputType media type the chain produces, or empty when the source type is kept
 * @param steps      programs to run with their arguments, in order; each gets the previous step's output. These
 *                   are kvm-binding's chain steps as they are run: any 4xx or 5xx answer is a failure.
 * @param requested  made for the options of the request's URL ({@link FilterImageOptions}), not by a rule: served
 *                   even when larger than the original (the URL asked for it), and always with {@code Vary: Accept}
 */
record Variant(String name, Optional<String> outputType, List<Step> steps, boolean requested) {

    /** A rule's variant. */
    Variant(String name, Optional<String> outputType, List<Step> steps) {
        this(name, outputType, steps, false);
    }

    Variant {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(outputType, "outputType");
        steps = List.copyOf(steps);
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("a variant needs at least one step");
        }
    }

    /** True when this variant changes the format and so must be asked for in {@code Accept}. */
    boolean negotiated() {
        return outputType.isPresent();
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        outputType.ifPresent(type -> text.append(type).append(": "));
        for (int i = 0; i < steps.size(); i++) {
            if (i > 0) {
                text.append(" | ");
            }
            Step step = steps.get(i);
            text.append(step.program());
            if (!step.arg().isEmpty()) {
                text.append(' ').append(step.arg());
            }
        }
        return text.toString();
    }
}
