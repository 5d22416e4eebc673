package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A page asks to subscribe to a registered channel ({"t":"sub"}, docs/protocol.md
 * section 7).  Fired on the "comet4j-dispatcher" thread before the
 * subscription is made; a listener that returns false (or throws) refuses it
 * and the page gets {"t":"err","code":4030}.  Not fired for
 * {@link CometEngine#subscribe(String, String)}: the server decides those.
 */
public class SubscribeEvent extends Event<CometEngine> {

    private final CometConnection conn;
    private final String channel;

    public SubscribeEvent(CometEngine target, CometConnection conn, String channel) {
        super(target);
        this.conn = conn;
        this.channel = channel;
    }

    public CometConnection getConn() {
        return conn;
    }

    public String getChannel() {
        return channel;
    }
}
