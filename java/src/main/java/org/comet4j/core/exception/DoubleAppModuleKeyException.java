package org.comet4j.core.exception;

/** A channel (Comet4J: application module) was registered twice. */
public class DoubleAppModuleKeyException extends CometException {

    private static final long serialVersionUID = 1L;

    public DoubleAppModuleKeyException(String message) {
        super(message);
    }
}
