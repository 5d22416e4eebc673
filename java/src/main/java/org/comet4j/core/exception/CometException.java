package org.comet4j.core.exception;

/**
 * The base of every exception comet4j throws on purpose: unchecked, as in
 * Comet4J, so application code keeps compiling without new throws clauses.
 */
public class CometException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CometException(String message) {
        super(message);
    }

    /** Comet4J's: the cause's message, and the cause. */
    public CometException(Throwable t) {
        super(t == null ? null : t.getMessage(), t);
    }

    public CometException(String message, Throwable cause) {
        super(message, cause);
    }
}
