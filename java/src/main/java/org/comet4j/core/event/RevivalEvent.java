package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A dying connection attached again within {@code Comet.ConnExpires}: the
 * same {@link CometConnection}, alive again, its work style, address and
 * port those of the new transport.  The frames kept while it was dying are
 * sent to it after this.  Fired on the "comet4j-dispatcher" thread.
 */
public class RevivalEvent extends Event<CometEngine> {

    private final CometConnection conn;

    public RevivalEvent(CometEngine target, CometConnection conn) {
        super(target);
        this.conn = conn;
    }

    public CometConnection getConn() {
        return conn;
    }
}
