package org.comet4j.core;

import org.comet4j.core.exception.NativeException;

/**
 * Turns the core's negative return codes into exceptions that name the
 * operation, the code's text (from {@link Native#strerror(int)}) and the
 * code, e.g. {@code sendAll: message too large (-1003)}.  The one place
 * where native error codes become Java exceptions.
 */
final class Errors {

    private Errors() {}

    /** Returns rc if it is >= 0, else throws a NativeException naming op. */
    static int check(String op, int rc) {
        if (rc < 0) {
            throw exception(op, rc);
        }
        return rc;
    }

    static NativeException exception(String op, int rc) {
        String text;
        try {
            text = Native.strerror(rc);
        } catch (Throwable t) {
            text = null;
        }
        if (text == null) {
            text = "error";
        }
        return new NativeException(op + ": " + text + " (" + rc + ")", rc);
    }
}
