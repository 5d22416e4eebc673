package org.comet4j.core.event;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * A connection joined or left a channel registered with presence: joined
 * when it is subscribed (the ticket's channels at connect, a page's
 * {"t":"sub"}, CometEngine.subscribe), left when it is unsubscribed or
 * dropped (not while it is dying: a revival keeps it in).  The channel's
 * pages get {"t":"join"|"leave","ch","cId","user"} frames.  Fired on the
 * thread that made the change (the dispatcher, or the application's for
 * CometEngine.subscribe/unsubscribe).
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
