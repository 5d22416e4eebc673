package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A message was handed to the core for one connection (Comet4J semantics:
 * fired after each send, on the sending thread, with the connection and the
 * data as given).  sendToAll fires it once for each connection known at that
 * moment, so {@link #getConn()} is never null; it fires nothing when no
 * MessageListener is registered, which keeps broadcasts cheap.
 */
public class MessageEvent extends Event<CometEngine> {

    private final CometConnection conn;
    private final Object data;
    private final String channel;

    public MessageEvent(CometEngine target, CometConnection conn, Object data) {
        this(target, conn, data, null);
    }

    public MessageEvent(CometEngine target, CometConnection conn, Object data, String channel) {
        super(target);
        this.conn = conn;
        this.data = data;
        this.channel = channel;
    }

    public CometConnection getConn() {
        return conn;
    }

    /** The data as passed to sendTo/sendToAll (before serialization; a byte[] for a binary message). */
    public Object getData() {
        return data;
    }

    /** The channel the message went to. */
    public String getChannel() {
        return channel;
    }
}
