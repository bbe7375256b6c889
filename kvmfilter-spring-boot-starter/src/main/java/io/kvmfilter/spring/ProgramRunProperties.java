package io.kvmfilter.spring;

import io.kvmfilter.filter.KvmFilterConfig;
import java.util.Map;

/**
 * The properties the filter and every program servlet share: which programs there are, their settings and their
 * limits. The text forms are those of the init-params in docs/configuration.md.
 */
public abstract class ProgramRunProperties {

    /** A {@code file:} or {@code classpath:} URI of a program library JSON merged over the bundled programs. */
    private String library;

    /** Per-program settings, {@code program.key=value} entries separated by {@code ;}. */
    private String programSettings;

    /** The programs' time limit per request, e.g. {@code 5s}; default: the program library's. */
    private String timeout;

    /** How long a request waits for a free instance, e.g. {@code 500ms}; default: the program library's. */
    private String queueTimeout;

    /** Adds the properties that are set to {@code parameters}, under their init-param names. */
    void putProgramRunParameters(Map<String, String> parameters) {
        putIfSet(parameters, KvmFilterConfig.PARAM_LIBRARY, library);
        putIfSet(parameters, KvmFilterConfig.PARAM_PROGRAM_SETTINGS, programSettings);
        putIfSet(parameters, KvmFilterConfig.PARAM_TIMEOUT, timeout);
        putIfSet(parameters, KvmFilterConfig.PARAM_QUEUE_TIMEOUT, queueTimeout);
    }

    /** Puts {@code value} under {@code name} unless it is unset: an unset property leaves the default. */
    static void putIfSet(Map<String, String> parameters, String name, String value) {
        if (value != null) {
            parameters.put(name, value);
        }
    }

    public String getLibrary() {
        return library;
    }

    public void setLibrary(String library) {
        this.library = library;
    }

    public String getProgramSettings() {
        return programSettings;
    }

    public void setProgramSettings(String programSettings) {
        this.programSettings = programSettings;
    }

    public String getTimeout() {
        return timeout;
    }

    public void setTimeout(String timeout) {
        this.timeout = timeout;
    }

    public String getQueueTimeout() {
        return queueTimeout;
    }

    public void setQueueTimeout(String queueTimeout) {
        this.queueTimeout = queueTimeout;
    }
}
