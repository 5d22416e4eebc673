package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.core.CometMessage;
import org.comet4j.event.Event;

/**
 * A message was handed to the core for one connection (Comet4J semantics:
 * fired after each send, on the sending thread, with the connection and the
 * message: its channel, data as given and time).  sendToAll fires it once
 * for each connection known at that moment, so {@link #getConn()} is never
 * null; it fires nothing when no MessageListener is registered, which keeps
 * broadcasts cheap.
 */
public class MessageEvent extends Event<CometEngine> {

    private volatile CometConnection conn;
    private volatile CometMessage data;

    public MessageEvent(CometEngine target, CometConnection aConn, CometMessage aData) {
        super(target);
        this.conn = aConn;
        this.data = aData;
    }

    public CometConnection getConn() {
        return conn;
    }

    public void setConn(CometConnection conn) {
        this.conn = conn;
    }

    /** The message: {@code getData().getData()} is the data as passed to sendTo/sendToAll (before serialization; a byte[] for a binary message). */
    public CometMessage getData() {
        return data;
    }

    public void setData(CometMessage data) {
        this.data = data;
    }

    /** The channel the message went to. */
    public String getChannel() {
        CometMessage m = data;
        return m == null ? null : m.getChannel();
    }

    @Override
    public void destroy() {
        super.destroy();
        conn = null;
        data = null;
    }
}
