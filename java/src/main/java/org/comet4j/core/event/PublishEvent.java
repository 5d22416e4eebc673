package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A page publishes on a channel its pages may write ({"t":"pub"},
 * docs/protocol.md section 7).  Fired on the "comet4j-dispatcher" thread
 * before the channel listeners and the broadcast; a listener that returns
 * false (or throws) refuses it and the page gets {"t":"err","code":4030}.
 */
public class PublishEvent extends Event<CometEngine> {

    private final CometConnection conn;
    private final String channel;
    private final Object data;

    public PublishEvent(CometEngine target, CometConnection conn, String channel, Object data) {
        super(target);
        this.conn = conn;
        this.channel = channel;
        this.data = data;
    }

    public CometConnection getConn() {
        return conn;
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
}
