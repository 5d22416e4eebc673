package org.comet4j.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

import org.comet4j.core.event.PresenceEvent;
import org.comet4j.core.exception.NativeException;
import org.comet4j.core.util.JSONUtil;

/**
 * Who is subscribed to what and which connections each user has, as this
 * engine knows it: the ticket's channels at connect, then every subscribe
 * and unsubscribe made through the engine; the subscriptions themselves
 * live in the core.  Behind getConnections(channel), getMembers,
 * getMemberCount, isOnline, getOnlineCount, getUserConnections and
 * presence: on a presence channel each join and leave sends a frame to the
 * channel's pages on every node and fires a PresenceEvent, and with a Redis
 * hub writes the channel's "presence:" map ({@link ClusterMaps}), which the
 * member queries of a presence channel read back.
 *
 * <p>Its indexes (channel → connections, user → connections, and each
 * connection's own set of channels, CometConnection.channels, which only
 * this class writes) are touched by nobody else: the engine and
 * {@link Connections} call the methods below.  A connection enters with
 * {@link #connected}, joins and leaves channels with {@link #joined} and
 * {@link #left}, and goes with {@link #dropped}; a dropped connection joins
 * nothing (its state is set under its lock first).
 */
final class Membership {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    private final CometEngine engine;
    private final Map<String, ChannelOptions> channelOptions;
    private final ClusterMaps cluster;
    /** Channel → its members; a channel's set goes when it empties. */
    private final Map<String, Set<CometConnection>> members = new ConcurrentHashMap<>();
    /** User → its connections (alive or dying); a user's set goes when it empties. */
    private final Map<String, Set<CometConnection>> users = new ConcurrentHashMap<>();

    /** channelOptions: the registered channels (which are presence channels), read live. */
    Membership(CometEngine engine, Map<String, ChannelOptions> channelOptions, ClusterMaps cluster) {
        this.engine = engine;
        this.channelOptions = channelOptions;
        this.cluster = cluster;
    }

    // ---- changes -------------------------------------------------------------------

    /** Java knows c from now on: in its user's connections. */
    void connected(CometConnection c) {
        String u = c.getUser();
        if (u != null && !u.isEmpty()) {
            users.computeIfAbsent(u, k -> ConcurrentHashMap.newKeySet()).add(c);
        }
    }

    /** c is now a member of channel: record it; a join on a presence channel. */
    void joined(CometConnection c, String channel) {
        boolean added;
        synchronized (c) {
            added = !CometProtocol.STATE_DROPPED.equals(c.getState()) && c.channels.add(channel);
            if (added) {
                members.computeIfAbsent(channel, k -> ConcurrentHashMap.newKeySet()).add(c);
            }
        }
        if (added) {
            if (engine.isHubRedis() && isPresenceChannel(channel)) {
                cluster.set(ClusterMaps.HUB_PRESENCE + channel, c.getId(), JSONUtil.object2json(c.getUser()));
            }
            presence(channel, c, true);
        }
    }

    /** c is no longer a member of channel; a leave on a presence channel. */
    void left(CometConnection c, String channel) {
        boolean removed;
        synchronized (c) {
            removed = c.channels.remove(channel);
            if (removed) {
                members.computeIfPresent(channel, (k, set) -> {
                    set.remove(c);
                    return set.isEmpty() ? null : set;
                });
            }
        }
        if (removed) {
            if (engine.isHubRedis() && isPresenceChannel(channel)) {
                cluster.set(ClusterMaps.HUB_PRESENCE + channel, c.getId(), null);
            }
            presence(channel, c, false);
        }
    }

    /**
     * c was dropped (its state already "dropped"): out of its user's
     * connections, then a leave of each of its channels.
     */
    void dropped(CometConnection c) {
        String u = c.getUser();
        if (u != null && !u.isEmpty()) {
            users.computeIfPresent(u, (k, set) -> {
                set.remove(c);
                return set.isEmpty() ? null : set;
            });
        }
        for (String ch : new ArrayList<>(c.channels)) {
            left(c, ch);
        }
    }

    /** The engine stopped: nothing is known any more. */
    void clear() {
        members.clear();
        users.clear();
    }

    // ---- queries ---------------------------------------------------------------------

    /** The connections subscribed to a channel (alive and dying), this node's (a copy). */
    List<CometConnection> connections(String channel) {
        Set<CometConnection> s = channel == null ? null : members.get(channel);
        return s == null ? new ArrayList<>() : new ArrayList<>(s);
    }

    /**
     * Connection id → user (null when anonymous), sorted by id: for a
     * presence channel with a Redis hub the cluster's, else this node's.
     */
    Map<String, String> members(String channel) {
        Map<String, String> out = new TreeMap<>();
        if (channel == null) {
            return out;
        }
        Map<String, Object> m = isPresenceChannel(channel) ? cluster.get(ClusterMaps.HUB_PRESENCE + channel) : null;
        if (m != null) {
            for (Map.Entry<String, Object> e : m.entrySet()) {
                out.put(e.getKey(), e.getValue() instanceof String ? (String) e.getValue() : null);
            }
            return out;
        }
        for (CometConnection c : connections(channel)) {
            out.put(c.getId(), c.getUser());
        }
        return out;
    }

    /** How many connections are subscribed: for a presence channel with a Redis hub, in the cluster. */
    int count(String channel) {
        if (channel != null && isPresenceChannel(channel)) {
            Map<String, Object> m = cluster.get(ClusterMaps.HUB_PRESENCE + channel);
            if (m != null) {
                return m.size();
            }
        }
        Set<CometConnection> s = channel == null ? null : members.get(channel);
        return s == null ? 0 : s.size();
    }

    /** Whether the user has a connection here, else (Redis hub) in the cluster's online map. */
    boolean online(String user) {
        if (user == null) {
            return false;
        }
        if (users.containsKey(user)) {
            return true;
        }
        Map<String, Object> m = cluster.get(ClusterMaps.HUB_ONLINE);
        return m != null && m.containsValue(user);
    }

    /** Distinct users: the cluster's with a Redis hub that answers, else this node's. */
    int onlineCount() {
        Map<String, Object> m = cluster.get(ClusterMaps.HUB_ONLINE);
        if (m != null) {
            return ClusterMaps.distinctUsers(m);
        }
        return users.size();
    }

    /** This node's connections of a user (a copy, possibly empty). */
    List<CometConnection> userConnections(String user) {
        Set<CometConnection> s = user == null ? null : users.get(user);
        return s == null ? new ArrayList<>() : new ArrayList<>(s);
    }

    // ---- presence --------------------------------------------------------------------

    private boolean isPresenceChannel(String channel) {
        ChannelOptions o = channelOptions.get(channel);
        return o != null && o.isPresence();
    }

    /**
     * On a presence channel: a join/leave frame to the channel's pages on
     * every node (the core's channel frame: not a message, so no offset and
     * no history), then a PresenceEvent.
     */
    private void presence(String channel, CometConnection c, boolean joined) {
        if (!isPresenceChannel(channel)) {
            return;
        }
        EngineHandle h = engine.handle();
        if (h != null) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("t", joined ? "join" : "leave");
            f.put("ch", channel);
            f.put("cId", c.getId());
            f.put("user", c.getUser());
            byte[] frame = EngineHandle.utf8(JSONUtil.object2json(f));
            byte[] ch = EngineHandle.utf8(channel);
            int rc;
            try {
                rc = h.call("sendChannelFrame", a -> Native.sendChannelFrame(a, ch, frame));
            } catch (IllegalStateException e) { // closed meanwhile
                rc = NativeException.ESTOPPED;
            }
            if (rc < 0 && rc != NativeException.ESTOPPED) {
                LOG.warning("comet4j: " + Errors.exception("presence frame on " + channel, rc).getMessage());
            }
        }
        engine.fire(new PresenceEvent(engine, channel, c, joined));
    }
}
