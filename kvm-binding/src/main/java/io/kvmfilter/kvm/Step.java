package io.kvmfilter.kvm;

import java.util.Objects;

/**
 * One step of a chain: a program, its argument, and the status from which its answer counts as an error
 * and stops the chain.
 *
 * @param program the program name
 * @param arg the program argument; "" when none
 * @param errorThreshold a status at or above this stops the chain with {@link FailureKind#ERROR_STATUS}
 */
public record Step(String program, String arg, int errorThreshold) {
    /** The error threshold of {@link #of(String)}: any 4xx or 5xx answer is an error. */
    public static final int DEFAULT_ERROR_THRESHOLD = 400;

    /** Checks the components; a null arg becomes "". */
    public Step {
        Objects.requireNonNull(program, "program");
        arg = arg == null ? "" : arg;
        if (errorThreshold < 100 || errorThreshold > 1000) {
            throw new IllegalArgumentException("Step '" + program + "' error threshold " + errorThreshold
                    + " is out of range; allowed 100..1000 (1000: no status is an error)");
        }
    }

    /** @return a step running program with no argument and threshold 400 */
    public static Step of(String program) {
        return new Step(program, "", DEFAULT_ERROR_THRESHOLD);
    }

    /** @return a step running program with arg and threshold 400 */
    public static Step of(String program, String arg) {
        return new Step(program, arg, DEFAULT_ERROR_THRESHOLD);
    }
}
