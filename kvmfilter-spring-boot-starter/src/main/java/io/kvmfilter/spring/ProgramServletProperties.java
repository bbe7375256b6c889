package io.kvmfilter.spring;

import java.util.ArrayList;
import java.util.List;

/**
 * One program servlet, {@code kvmfilter.servlets.<name>.*}: a {@code ProgramServlet} whose responses its program
 * produces (docs/configuration.md, "Program servlets"). The text forms are those of its init-params.
 */
public class ProgramServletProperties {

    /** URL patterns the servlet is mapped to, e.g. {@code /hello/*} (required). */
    private List<String> urlPatterns = new ArrayList<>();

    /** The program to run (required). */
    private String program;

    /** The argument given to the program. */
    private String arg;

    /** The largest request body accepted, e.g. {@code 8MiB} (the default); larger requests get 413. */
    private String maxRequestBodySize;

    /** A program library JSON merged over the bundled programs ({@code file:} or {@code classpath:} URI). */
    private String library;

    /** Per-program settings, {@code program.key=value} entries separated by {@code ;}. */
    private String programSettings;

    /** The program's time limit per request, e.g. {@code 5s}. */
    private String timeout;

    /** How long a request waits for a free instance, e.g. {@code 500ms}. */
    private String queueTimeout;

    public List<String> getUrlPatterns() {
        return urlPatterns;
    }

    public void setUrlPatterns(List<String> urlPatterns) {
        this.urlPatterns = urlPatterns;
    }

    public String getProgram() {
        return program;
    }

    public void setProgram(String program) {
        this.program = program;
    }

    public String getArg() {
        return arg;
    }

    public void setArg(String arg) {
        this.arg = arg;
    }

    public String getMaxRequestBodySize() {
        return maxRequestBodySize;
    }

    public void setMaxRequestBodySize(String maxRequestBodySize) {
        this.maxRequestBodySize = maxRequestBodySize;
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
