package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A connection attached to the native port with a valid ticket and can now
 * receive messages.  Fired on the "comet4j-dispatcher" thread.
 */
public class ConnectEvent extends Event<CometEngine> {

    private volatile CometConnection conn;

    public ConnectEvent(CometEngine target, CometConnection aConn) {
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
