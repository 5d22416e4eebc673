package org.comet4j.core.exception;

/**
 * A call into the native core failed.  The message names the operation and
 * the core's text for the code; {@link #getCode()} is the code itself
 * (libuv's -errno, or the core's own codes from -1000 on, see c4j.h).
 */
public class NativeException extends CometException {

    private static final long serialVersionUID = 1L;

    /** Codes from c4j.h that callers may want to test for. */
    public static final int EINVAL_CONFIG = -1000;
    public static final int ESTATE = -1001;
    public static final int ENOCONN = -1002;
    public static final int ETOOBIG = -1003;
    public static final int EBADNAME = -1004;
    public static final int ENOMEM = -1005;
    public static final int ESTOPPED = -1008;
    public static final int EFULL = -1009;
    public static final int EBADJSON = -1010;
    /** The hub (Comet.Hub's Redis) is unreachable, or refused the call. */
    public static final int EHUB = -1011;

    private final int code;

    public NativeException(String message, int code) {
        super(message);
        this.code = code;
    }

    /** The negative code the core returned. */
    public int getCode() {
        return code;
    }
}
