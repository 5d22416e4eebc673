package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A connection attached to the native port with a valid ticket and can now
 * receive messages.  Fired on the "comet4j-dispatcher" thread.
 */
public class ConnectEvent extends Event<CometEngine> {

    private final CometConnection conn;

    public ConnectEvent(CometEngine target, CometConnection conn) {
        super(target);
        this.conn = conn;
    }

    public CometConnection getConn() {
        return conn;
    }
}
