package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * One of this node's connections joined or left a channel registered with
 * presence, as the core decided it: joined when it is subscribed (the
 * ticket's channels at connect, a page's {"t":"sub"},
 * CometEngine.subscribe), left when it is unsubscribed or dropped (not
 * while it is dying: a revival keeps it in).  A subscription the core
 * refuses (4290) is no join.  The core sends the channel's pages, on every
 * node, {"t":"join"|"leave","ch","cId","user"} frames.  Fired on the
 * dispatcher thread from the core's SUB records, in their order: a
 * connection's joins after its ConnectEvent, its leaves before its
 * BeforeDropEvent.  A page another node holds has its events there.
 */
public class PresenceEvent extends Event<CometEngine> {

    private final String channel;
    private final CometConnection conn;
    private final boolean joined;

    public PresenceEvent(CometEngine target, String channel, CometConnection conn, boolean joined) {
        super(target);
        this.channel = channel;
        this.conn = conn;
        this.joined = joined;
    }

    public String getChannel() {
        return channel;
    }

    public CometConnection getConn() {
        return conn;
    }

    /** The connection's user, or null when anonymous. */
    public String getUser() {
        return conn.getUser();
    }

    /** True for a join. */
    public boolean isJoined() {
        return joined;
    }

    /** True for a leave. */
    public boolean isLeft() {
        return !joined;
    }
}
