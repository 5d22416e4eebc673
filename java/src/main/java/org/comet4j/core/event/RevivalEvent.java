package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A connection attached again: a dying one within {@code Comet.ConnExpires},
 * or a live one whose page reconnected before its old transport was seen
 * lost (that transport is closed with 4004, and no DropEvent follows).  The
 * same {@link CometConnection}, alive, its work style, address and port those
 * of the new transport.  Frames kept while it was dying are sent to it after
 * this.  Fired on the "comet4j-dispatcher" thread.
 */
public class RevivalEvent extends Event<CometEngine> {

    private volatile CometConnection conn;

    public RevivalEvent(CometEngine target, CometConnection aConn) {
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
