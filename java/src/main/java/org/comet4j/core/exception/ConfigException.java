package org.comet4j.core.exception;

/**
 * A {@code Comet.*} setting has a bad value.  The message starts with the
 * parameter's name, e.g. {@code Comet.Port: not a number: 'abc'}, and
 * {@link #getParameter()} returns it.
 */
public class ConfigException extends CometException {

    private static final long serialVersionUID = 1L;

    private final String parameter;

    public ConfigException(String parameter, String problem) {
        super(parameter + ": " + problem);
        this.parameter = parameter;
    }

    /** The name of the bad parameter, e.g. "Comet.Port". */
    public String getParameter() {
        return parameter;
    }
}
