package org.comet4j.core.event;

import jakarta.servlet.http.HttpServletRequest;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;

/**
 * Fired on the "comet4j-dispatcher" thread just before {@link DropEvent},
 * when the core reports a closed connection.  The socket is already closed,
 * so unlike in Comet4J this event cannot veto anything: stopping it only
 * keeps later BeforeDrop listeners from running.  DropEvent fires anyway.
 */
public class BeforeDropEvent extends DropEvent {

    public BeforeDropEvent(CometEngine target, CometConnection conn, int code, String reason) {
        super(target, conn, code, reason);
    }

    /** The handshake request snapshot of the connection (Comet4J had the request here). */
    public HttpServletRequest getRequest() {
        return getConn() == null ? null : getConn().getRequest();
    }
}
