package io.kvmfilter.kvm;

import java.util.Locale;
import java.util.Objects;

/**
 * What one program step of a call did, as reported to {@link KvmListener#stepFinished}.
 *
 * @param program the program's name (from the program library, so a bounded set)
 * @param outcome {@link #OK}, or the failure kind in lower case with '-' ({@code timeout}, {@code queue-timeout},
 *     {@code error-status}...), as {@link #outcomeOf(FailureKind)} gives it
 * @param acquired true when the step got an instance (false: the program could not be loaded, or no instance
 *     became free in time)
 * @param queueWaitNanos time spent waiting for an instance; includes the time until a wait gave up
 * @param runNanos time from handing the request to the instance until its answer was read; 0 when not acquired
 */
public record StepRun(String program, String outcome, boolean acquired, long queueWaitNanos, long runNanos) {

    /** The outcome of a step that answered with a status below its error threshold. */
    public static final String OK = "ok";

    /** Checks the names. */
    public StepRun {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(outcome, "outcome");
    }

    /** @return the outcome name of a failure kind: {@code TIMEOUT} is {@code timeout}, {@code QUEUE_TIMEOUT} {@code queue-timeout} */
    public static String outcomeOf(FailureKind kind) {
        return kind.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
