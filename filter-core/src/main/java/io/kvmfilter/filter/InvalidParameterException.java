package io.kvmfilter.filter;

/**
 * A configuration value that is not allowed. The message names the parameter, the value and what is allowed:
 * {@code kvmfilter parameter maxBodySize = "12 parsecs" is not valid: a byte count with an optional unit ...}.
 * Thrown by {@link KvmFilterConfig.Builder}, the text form ({@code parameter(name, text)}) and the program library
 * assembly; {@link KvmFilter#init} and {@link ProgramServlet#init} wrap it into a ServletException.
 */
public final class InvalidParameterException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String parameter;
    private final String value;

    /**
     * @param parameter the parameter name, e.g. {@code maxBodySize}
     * @param value     the value given, in its text form
     * @param allowed   what is allowed instead, or what is wrong with the value
     */
    public InvalidParameterException(String parameter, String value, String allowed) {
        super("kvmfilter parameter " + parameter + " = \"" + value + "\" is not valid: " + allowed);
        this.parameter = parameter;
        this.value = value;
    }

    /** @return the name of the parameter whose value is not allowed */
    public String parameter() {
        return parameter;
    }

    /** @return the value that is not allowed, in its text form */
    public String value() {
        return value;
    }
}
