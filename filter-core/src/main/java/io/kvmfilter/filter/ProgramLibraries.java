package io.kvmfilter.filter;

import io.kvmfilter.kvm.KvmConfigurationException;
import io.kvmfilter.kvm.ProgramLibrary;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Assembles the program library a filter or a program servlet runs: kvm-binding's bundled programs, the
 * {@code library} merged over them, then {@code programSettings}, {@code timeout} and {@code queueTimeout}; and
 * checks that every program named exists. Errors name the parameter, as configuration errors do.
 */
final class ProgramLibraries {

    private ProgramLibraries() {
    }

    /**
     * The program library the configuration describes: the bundled programs, the {@code library} merged over
     * them, then {@code programSettings}, {@code timeout} and {@code queueTimeout}. Checks that every program the
     * rules name exists.
     *
     * @throws InvalidParameterException naming the parameter and what is wrong
     */
    static ProgramLibrary of(KvmFilterConfig config) {
        ProgramLibrary library = of(config.library(), config.programSettings(), config.programsUsed(),
                KvmFilterConfig.PARAM_RULES, config.rules(), config.timeout(), config.queueTimeout());
        Optional<Watermark> mark = config.imageOptions().flatMap(FilterImageOptions::watermark);
        try {
            return mark.isEmpty() ? library : mark.get().grant(library);
        } catch (KvmConfigurationException e) {
            throw new InvalidParameterException("imageWatermark", mark.get().file().toString(), e.getMessage());
        }
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
     * @throws InvalidParameterException naming the parameter and what is wrong
     */
    static ProgramLibrary of(Optional<URI> location, Map<String, Map<String, Object>> settings,
            Set<String> programsUsed, String usedBy, String usedByValue, Optional<Duration> timeout,
            Optional<Duration> queueTimeout) {
        ProgramLibrary library;
        try {
            library = ProgramLibrary.bundled();
            if (location.isPresent()) {
                library = library.merge(ProgramLibrary.load(location.get()));
            }
        } catch (KvmConfigurationException e) {
            throw new InvalidParameterException(KvmFilterConfig.PARAM_LIBRARY,
                    location.map(Object::toString).orElse("(bundled)"), e.getMessage());
        }
        for (Map.Entry<String, Map<String, Object>> entry : settings.entrySet()) {
            try {
                library = library.configure(entry.getKey(), entry.getValue());
            } catch (KvmConfigurationException e) {
                throw new InvalidParameterException(KvmFilterConfig.PARAM_PROGRAM_SETTINGS,
                        entry.getKey() + " " + entry.getValue(), e.getMessage());
            }
        }
        Set<String> missing = new TreeSet<>(programsUsed);
        missing.removeAll(library.programNames());
        if (!missing.isEmpty()) {
            throw new InvalidParameterException(usedBy, usedByValue,
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
            throw new InvalidParameterException(param, value.get().toString(), e.getMessage());
        }
    }
}
