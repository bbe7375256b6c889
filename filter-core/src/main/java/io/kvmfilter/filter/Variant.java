package io.kvmfilter.filter;

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
 * @param steps      programs to run, in order; each gets the previous step's output
 */
record Variant(String name, Optional<String> outputType, List<Step> steps) {

    /**
     * One program run with its argument.
     *
     * @param program name of the program in the program library
     * @param arg     argument string given to the program (often JSON), or null for none
     */
    record Step(String program, String arg) {
        Step {
            Objects.requireNonNull(program, "program");
        }

        @Override
        public String toString() {
            return arg == null ? program : program + " " + arg;
        }
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

    /** The first program of the chain: what the diagnostic header names on failure. */
    String firstProgram() {
        return steps.get(0).program();
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        outputType.ifPresent(type -> text.append(type).append(": "));
        for (int i = 0; i < steps.size(); i++) {
            if (i > 0) {
                text.append(" | ");
            }
            text.append(steps.get(i));
        }
        return text.toString();
    }
}
