package io.kvmfilter.spring;

import io.kvmfilter.filter.ProgramServlet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One program servlet, {@code kvmfilter.servlets.<name>.*}: a {@code ProgramServlet} whose responses its program
 * produces (docs/configuration.md, "Program servlets"). The text forms are those of its init-params.
 */
public class ProgramServletProperties extends ProgramRunProperties {

    /** URL patterns the servlet is mapped to, e.g. {@code /hello/*} (required). */
    private List<String> urlPatterns = new ArrayList<>();

    /** The program to run (required). */
    private String program;

    /** The argument given to the program. */
    private String arg;

    /** The largest request body accepted, e.g. {@code 8MiB} (the default); larger requests get 413. */
    private String maxRequestBodySize;

    /** {@code true} hands upgrade requests to the program as connections (default {@code false}). */
    private String connections;

    /** A connection without a byte either way for this long is closed, e.g. {@code 60s} (the default). */
    private String connectionIdleTimeout;

    /** A connection is closed after this long in all, e.g. {@code 60m} (the default). */
    private String connectionMaxTime;


    /** The servlet's init-params: the properties that are set, under their init-param names. */
    public Map<String, String> initParameters() {
        Map<String, String> parameters = new LinkedHashMap<>();
        putIfSet(parameters, ProgramServlet.PARAM_PROGRAM, program);
        putIfSet(parameters, ProgramServlet.PARAM_ARG, arg);
        putIfSet(parameters, ProgramServlet.PARAM_MAX_REQUEST_BODY_SIZE, maxRequestBodySize);
        putIfSet(parameters, ProgramServlet.PARAM_CONNECTIONS, connections);
        putIfSet(parameters, ProgramServlet.PARAM_CONNECTION_IDLE_TIMEOUT, connectionIdleTimeout);
        putIfSet(parameters, ProgramServlet.PARAM_CONNECTION_MAX_TIME, connectionMaxTime);
        putProgramRunParameters(parameters);
        return parameters;
    }

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

    public String getConnections() {
        return connections;
    }

    public void setConnections(String connections) {
        this.connections = connections;
    }

    public String getConnectionIdleTimeout() {
        return connectionIdleTimeout;
    }

    public void setConnectionIdleTimeout(String connectionIdleTimeout) {
        this.connectionIdleTimeout = connectionIdleTimeout;
    }

    public String getConnectionMaxTime() {
        return connectionMaxTime;
    }

    public void setConnectionMaxTime(String connectionMaxTime) {
        this.connectionMaxTime = connectionMaxTime;
    }

}
