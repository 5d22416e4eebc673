package org.comet4j.core.event;

import jakarta.servlet.http.HttpServletRequest;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A connection is about to be dropped.  Two cases:
 * <ul>
 * <li>its page asks for it ({@code <servlet>?cmd=drop&cid=...}, what a
 *     Comet4J connector sends when it stops, or
 *     {@code CometEngine.drop(request, response)}): fired on the request's
 *     thread with that live request, before anything happens; a listener
 *     that returns false vetoes the drop, as in Comet4J (the connection
 *     stays, the page is answered 200 all the same);</li>
 * <li>the core reports it closed (the client went, a timeout, the dying
 *     period ended, drop by the application, the engine stopping): fired on
 *     the "comet4j-dispatcher" thread with the close code and reason, its
 *     {@link #getRequest()} the handshake's snapshot.  The socket is already
 *     closed: returning false only keeps later BeforeDrop listeners from
 *     running.</li>
 * </ul>
 * BeforeRemove, Removed and Drop follow (their order is Comet4J's).
 */
public class BeforeDropEvent extends Event<CometEngine> {

    private volatile HttpServletRequest request;
    private volatile CometConnection conn;
    private final int code;
    private final String reason;

    /** Comet4J's: a drop asked for by request (its cid parameter). */
    public BeforeDropEvent(CometEngine target, HttpServletRequest aRequest) {
        this(target, aRequest, null, 0, "");
    }

    /** A drop the core reported, with its close code and reason. */
    public BeforeDropEvent(CometEngine target, CometConnection conn, int code, String reason) {
        this(target, conn == null ? null : conn.getRequest(), conn, code, reason);
    }

    /** A drop asked for by request, of conn (null: the request names none this engine knows). */
    public static BeforeDropEvent asked(CometEngine target, HttpServletRequest request, CometConnection conn) {
        return new BeforeDropEvent(target, request, conn, 0, "");
    }

    private BeforeDropEvent(CometEngine target, HttpServletRequest request, CometConnection conn, int code,
                            String reason) {
        super(target);
        this.request = request;
        this.conn = conn;
        this.code = code;
        this.reason = reason == null ? "" : reason;
    }

    /**
     * The request that asks for the drop, or (a drop the core reported) the
     * snapshot of the connection's handshake request; may be null.
     */
    public HttpServletRequest getRequest() {
        return request;
    }

    public void setRequest(HttpServletRequest request) {
        this.request = request;
    }

    /** The connection, or null when a request names none this engine knows. */
    public CometConnection getConn() {
        return conn;
    }

    /** The close code the core reported; 0 for a drop asked for by request. */
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
        request = null;
        conn = null;
    }
}
