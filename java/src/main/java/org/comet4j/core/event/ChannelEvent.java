package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * What a page published on a channel, as the server sees it: fired to the
 * channel's {@code ChannelListener}s on the "comet4j-dispatcher" thread once
 * the publication was accepted, before it is broadcast.  A listener that
 * returns false only keeps later channel listeners from seeing it: the
 * broadcast goes on regardless.
 */
public class ChannelEvent extends Event<CometEngine> {

    private final String channel;
    private final Object data;
    private final CometConnection conn;

    public ChannelEvent(CometEngine target, String channel, Object data, CometConnection conn) {
        super(target);
        this.channel = channel;
        this.data = data;
        this.conn = conn;
    }

    public String getChannel() {
        return channel;
    }

    /**
     * The published value, parsed (JSONUtil.parse: Map, List, String, Number,
     * Boolean or null), or a byte[] when the page published bytes
     * (docs/protocol.md section 11).
     */
    public Object getData() {
        return data;
    }

    /** The publishing connection. */
    public CometConnection getConn() {
        return conn;
    }
}
