package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A connection is gone: the client closed it, it timed out, was too slow,
 * broke the protocol, was dropped by the application or by its page, its
 * dying period ended, or the engine stopped.  Fired on the
 * "comet4j-dispatcher" thread, last of BeforeDrop, BeforeRemove, Removed,
 * Drop, with the WebSocket close code (see docs/protocol.md) and reason.
 */
public class DropEvent extends Event<CometEngine> {

    private volatile CometConnection conn;
    private final int code;
    private final String reason;

    public DropEvent(CometEngine target, CometConnection aConn) {
        this(target, aConn, 0, "");
    }

    /** With the close code and reason the core reported. */
    public DropEvent(CometEngine target, CometConnection conn, int code, String reason) {
        super(target);
        this.conn = conn;
        this.code = code;
        this.reason = reason == null ? "" : reason;
    }

    public CometConnection getConn() {
        return conn;
    }

    public void setConn(CometConnection conn) {
        this.conn = conn;
    }

    /** The close code, e.g. 1000 normal, 1001 going away, 4002 idle timeout, 4005 dying period over. */
    public int getCode() {
        return code;
    }

    /** The close reason, possibly empty. */
    public String getReason() {
        return reason;
    }

    @Override
    public void destroy() {
        super.destroy();
        conn = null;
    }
}
