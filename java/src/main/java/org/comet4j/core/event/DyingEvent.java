package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A connection lost its transport (network error, idle timeout, the client
 * went away without closing) but keeps its identity for
 * {@code Comet.ConnExpires} ms: it stays in {@code getConnections()} with
 * state {@code dying}, and frames sent to it meanwhile are kept by the core.
 * A {@link RevivalEvent} follows if the page attaches again in time, a
 * {@link DropEvent} (code 4005) otherwise.  Fired on the "comet4j-dispatcher"
 * thread with the close code and reason of the lost transport.
 */
public class DyingEvent extends Event<CometEngine> {

    private volatile CometConnection conn;
    private final int code;
    private final String reason;

    public DyingEvent(CometEngine target, CometConnection aConn) {
        this(target, aConn, 0, "");
    }

    /** With the close code and reason the core reported. */
    public DyingEvent(CometEngine target, CometConnection conn, int code, String reason) {
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

    /** The close code of the lost transport, e.g. 1006 lost, 4002 idle timeout. */
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
