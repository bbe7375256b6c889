package io.kvmfilter.filter;

import io.kvmfilter.kvm.Failure;
import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmConfigurationException;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Request;
import io.kvmfilter.kvm.Result;
import io.kvmfilter.kvm.Step;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Runs variants in the KVM sandbox through kvm-binding: each variant's steps become one {@link Kvm#chain} call.
 * Concurrency is bounded by the programs' instance pools (their {@code concurrency} and {@code queue_timeout}).
 */
final class KvmTransform implements BodyTransform, AutoCloseable {

    /** The header in which a program says why it answered an error status (see docs/writing-programs.md). */
    static final String FAILED_HEADER = "X-Failed";

    private final Kvm kvm;

    private KvmTransform(Kvm kvm) {
        this.kvm = kvm;
    }

    /**
     * The program library the configuration describes: the bundled programs, the {@code library} merged over
     * them, then {@code programSettings}, {@code timeout} and {@code queueTimeout}. Checks that every program the
     * rules name exists.
     *
     * @throws IllegalArgumentException naming the parameter and what is wrong
     */
    static ProgramLibrary library(KvmFilterConfig config) {
        return library(config.library(), config.programSettings(), config.programsUsed(), KvmFilterConfig.PARAM_RULES,
                config.rules(), config.timeout(), config.queueTimeout());
    }

    /**
     * Builds a program library from the bundled one and the given settings.
     *
     * @param location      a library merged over the bundled one, if any
     * @param settings      per-program setting overrides
     * @param programsUsed  programs that must exist
     * @param usedBy        the parameter naming those programs, for the error message
     * @param usedByValue   its value
     * @param timeout       max_request_time of the programs used, if set
     * @param queueTimeout  queue_timeout of the programs used, if set
     * @throws IllegalArgumentException naming the parameter and what is wrong
     */
    static ProgramLibrary library(Optional<URI> location, Map<String, Map<String, Object>> settings,
            Set<String> programsUsed, String usedBy, String usedByValue, Optional<Duration> timeout,
            Optional<Duration> queueTimeout) {
        ProgramLibrary library;
        try {
            library = ProgramLibrary.bundled();
            if (location.isPresent()) {
                library = library.merge(ProgramLibrary.load(location.get()));
            }
        } catch (KvmConfigurationException e) {
            throw KvmFilterConfig.Builder.invalid(KvmFilterConfig.PARAM_LIBRARY,
                    location.map(Object::toString).orElse("(bundled)"), e.getMessage());
        }
        for (Map.Entry<String, Map<String, Object>> entry : settings.entrySet()) {
            try {
                library = library.configure(entry.getKey(), entry.getValue());
            } catch (KvmConfigurationException e) {
                throw KvmFilterConfig.Builder.invalid(KvmFilterConfig.PARAM_PROGRAM_SETTINGS,
                        entry.getKey() + " " + entry.getValue(), e.getMessage());
            }
        }
        Set<String> missing = new TreeSet<>(programsUsed);
        missing.removeAll(library.programNames());
        if (!missing.isEmpty()) {
            throw KvmFilterConfig.Builder.invalid(usedBy, usedByValue,
                    "program(s) " + missing + " are not in the program library, which has "
                            + new TreeSet<>(library.programNames()) + " (add them with the library parameter)");
        }
        for (String program : programsUsed) {
            library = withTime(library, program, "max_request_time", timeout, KvmFilterConfig.PARAM_TIMEOUT);
            library = withTime(library, program, "queue_timeout", queueTimeout, KvmFilterConfig.PARAM_QUEUE_TIMEOUT);
        }
        return library;
    }

    private static ProgramLibrary withTime(ProgramLibrary library, String program, String key,
            Optional<Duration> value, String param) {
        if (value.isEmpty()) {
            return library;
        }
        try {
            return library.configure(program, Map.of(key, value.get().toMillis() / 1000.0));
        } catch (KvmConfigurationException e) {
            throw KvmFilterConfig.Builder.invalid(param, value.get().toString(), e.getMessage());
        }
    }

    /**
     * Starts the sandbox with the library.
     *
     * @throws io.kvmfilter.kvm.KvmUnavailableException when KVM or the native library is not usable here
     * @throws KvmConfigurationException when an eagerly started program cannot be loaded
     */
    static KvmTransform start(ProgramLibrary library, String name) {
        return new KvmTransform(Kvm.start(library, name));
    }

    @Override
    public Outcome apply(Variant variant, byte[] body, String contentType, String url) {
        List<Step> steps = new ArrayList<>(variant.steps().size());
        for (Variant.Step step : variant.steps()) {
            steps.add(new Step(step.program(), step.arg(), Step.DEFAULT_ERROR_THRESHOLD));
        }
        Result result = kvm.chain(steps, Request.post(url, contentType, body));
        if (!result.ok()) {
            Failure failure = result.failure().orElseThrow();
            return Outcome.failed(reason(failure), detail(failure, result.headers()));
        }
        if (result.body().length == 0) {
            return Outcome.failed("empty", "the chain answered status " + result.status() + " with no body");
        }
        return Outcome.applied(result.body(), result.contentType().isEmpty() ? null : result.contentType());
    }

    /**
     * What the log says about a failure: the step and the binding's message, plus the program's own reason when it
     * answered an error status with an {@code X-Failed} header (programs/common: "what and where", such as the
     * decoder's complaint about a truncated JPEG), which the status alone does not tell.
     */
    static String detail(Failure failure, List<String> headers) {
        String detail = failure.step() + ": " + failure.message();
        for (String header : headers) {
            int colon = header.indexOf(':');
            if (colon > 0 && header.substring(0, colon).trim().equalsIgnoreCase(FAILED_HEADER)) {
                return detail + "; " + FAILED_HEADER + ": " + header.substring(colon + 1).trim();
            }
        }
        return detail;
    }

    /** The failure kind as it appears in the diagnostic header: TIMEOUT becomes timeout, QUEUE_TIMEOUT queue-timeout. */
    static String reason(Failure failure) {
        return failure.kind().name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The sandbox's statistics as JSON, for programs matching the pattern. */
    String statsJson(String programPattern, int indentation) {
        return kvm.statsJson(programPattern, indentation);
    }

    /** Makes the matching programs load again on next use; returns how many were unloaded. */
    int invalidate(java.util.regex.Pattern programNames) {
        return kvm.invalidate(programNames);
    }

    @Override
    public void close() {
        kvm.close();
    }
}
