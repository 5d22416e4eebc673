package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A connection is about to be removed (Comet4J: from its connector), after
 * the core reported it closed or expired: fired on the "comet4j-dispatcher"
 * thread after {@link BeforeDropEvent}, before {@link RemovedEvent} and
 * {@link DropEvent}.  A listener that returns false keeps it: it stays in
 * {@code getConnections()} with state "dying", no Removed or Drop event
 * fires, and it is offered again every {@code Comet.ConnFrequency} ms until
 * no listener objects; meanwhile a page that comes back with its id gets
 * that id again (RevivalEvent).  The core no longer holds it: what is sent
 * to it meanwhile is lost.
 */
public class BeforeRemoveEvent extends Event<CometEngine> {

    private volatile CometConnection conn;

    public BeforeRemoveEvent(CometEngine target, CometConnection aConn) {
        super(target);
        this.conn = aConn;
    }

    public CometConnection getConn() {
        return conn;
    }

    public void setConn(CometConnection conn) {
        this.conn = conn;
    }

    @Override
    public void destroy() {
        super.destroy();
        conn = null;
    }
}
