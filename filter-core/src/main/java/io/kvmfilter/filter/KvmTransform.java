package io.kvmfilter.filter;

import io.kvmfilter.kvm.Failure;
import io.kvmfilter.kvm.Kvm;
import io.kvmfilter.kvm.KvmConfigurationException;
import io.kvmfilter.kvm.ProgramLibrary;
import io.kvmfilter.kvm.Request;
import io.kvmfilter.kvm.Result;
import io.kvmfilter.kvm.Step;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Runs variants in the KVM sandbox through kvm-binding: each variant's steps become one {@link Kvm#chain} call.
 * Concurrency is bounded by the programs' instance pools (their {@code concurrency} and {@code queue_timeout}).
 */
final class KvmTransform implements BodyTransform, AutoCloseable {

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
        ProgramLibrary library;
        try {
            library = ProgramLibrary.bundled();
            if (config.library().isPresent()) {
                library = library.merge(ProgramLibrary.load(config.library().get()));
            }
        } catch (KvmConfigurationException e) {
            throw KvmFilterConfig.Builder.invalid(KvmFilterConfig.PARAM_LIBRARY,
                    config.library().map(Object::toString).orElse("(bundled)"), e.getMessage());
        }
        for (Map.Entry<String, Map<String, Object>> entry : config.programSettings().entrySet()) {
            try {
                library = library.configure(entry.getKey(), entry.getValue());
            } catch (KvmConfigurationException e) {
                throw KvmFilterConfig.Builder.invalid(KvmFilterConfig.PARAM_PROGRAM_SETTINGS,
                        entry.getKey() + " " + entry.getValue(), e.getMessage());
            }
        }
        Set<String> missing = new TreeSet<>(config.programsUsed());
        missing.removeAll(library.programNames());
        if (!missing.isEmpty()) {
            throw KvmFilterConfig.Builder.invalid(KvmFilterConfig.PARAM_RULES, config.rules(),
                    "program(s) " + missing + " are not in the program library, which has "
                            + new TreeSet<>(library.programNames()) + " (add them with the library parameter)");
        }
        for (String program : config.programsUsed()) {
            library = withTime(library, program, "max_request_time", config.timeout(), KvmFilterConfig.PARAM_TIMEOUT);
            library = withTime(library, program, "queue_timeout", config.queueTimeout(),
                    KvmFilterConfig.PARAM_QUEUE_TIMEOUT);
        }
        return library;
    }

    private static ProgramLibrary withTime(ProgramLibrary library, String program, String key,
            java.util.Optional<Duration> value, String param) {
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
            return Outcome.failed(reason(failure), failure.step() + ": " + failure.message());
        }
        if (result.body().length == 0) {
            return Outcome.failed("empty", "the chain answered status " + result.status() + " with no body");
        }
        return Outcome.applied(result.body(), result.contentType().isEmpty() ? null : result.contentType());
    }

    /** The failure kind as it appears in the diagnostic header: TIMEOUT becomes timeout, QUEUE_TIMEOUT queue-timeout. */
    static String reason(Failure failure) {
        return failure.kind().name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The sandbox's statistics as JSON, for programs matching the pattern. */
    String statsJson(String programPattern, int indentation) {
        return kvm.statsJson(programPattern, indentation);
    }

    @Override
    public void close() {
        kvm.close();
    }
}
