package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A connection was removed: it is no longer in {@code getConnections()}.
 * Fired on the "comet4j-dispatcher" thread after {@link BeforeRemoveEvent}
 * and before {@link DropEvent}, as in Comet4J.
 */
public class RemovedEvent extends Event<CometEngine> {

    private volatile CometConnection conn;

    public RemovedEvent(CometEngine target, CometConnection aConn) {
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
