package org.comet4j.core;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.comet4j.core.exception.NativeException;
import org.comet4j.core.util.JSONUtil;

/**
 * The hub's cluster maps (Comet.Hub=redis://..., docs/protocol.md section
 * 9): each node writes its own part of a map (Native.hubSet) and a read
 * (Native.hubGet) merges the parts of every live node.  This node writes
 * "online" (connection id → user, or null) and "conn:&lt;id&gt;" (u → user,
 * for a handshake on another node that gets the page's old id,
 * {@link #knownElsewhere}) for each connection it knows, and
 * "presence:&lt;channel&gt;" for each member of a presence channel
 * ({@link Membership} writes those).  isOnline, getOnlineCount,
 * getMemberCount of a presence channel and the HTTP API's online and
 * presence answers read them back (up to {@value #HUB_GET_TIMEOUT_MS} ms)
 * and fall back to this node's own numbers, with one warning, when Redis
 * does not answer.  With a local hub, or while the engine is not running,
 * writes do nothing and reads answer null.
 */
final class ClusterMaps {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    /** How long a query of the cluster's maps waits for Redis. */
    static final int HUB_GET_TIMEOUT_MS = 500;

    /** The cluster's map of connections: connection id → user (or null). */
    static final String HUB_ONLINE = "online";
    /** The cluster's map of a presence channel's members: "presence:" + channel, id → user. */
    static final String HUB_PRESENCE = "presence:";
    /**
     * One map per connection: "conn:" + id, field {@value #HUB_CONN_USER} → user (or null),
     * written by the node that holds it, for a handshake on another node.
     */
    static final String HUB_CONN = "conn:";
    static final String HUB_CONN_USER = "u";
    /** How long a handshake waits for Redis to learn whether another node holds its cId. */
    static final int HUB_CONN_TIMEOUT_MS = 300;

    private final CometEngine engine;
    private final AtomicBoolean getWarned = new AtomicBoolean();

    /** engine: its handle and whether its hub is Redis, read at each call. */
    ClusterMaps(CometEngine engine) {
        this.engine = engine;
    }

    /**
     * The connection is (still) held by this node: its entries in the
     * cluster's online map and its own conn: map.
     */
    void online(CometConnection c) {
        if (engine.isHubRedis()) {
            String user = JSONUtil.object2json(c.getUser());
            set(HUB_ONLINE, c.getId(), user);
            set(HUB_CONN + c.getId(), HUB_CONN_USER, user);
        }
    }

    /** The connection was dropped: out of the online map, and its conn: map gone. */
    void offline(String cid) {
        set(HUB_ONLINE, cid, null);
        set(HUB_CONN + cid, HUB_CONN_USER, null);
    }

    /**
     * Writes field = value (a JSON value) in this node's part of the
     * cluster's map key, or removes it (value null).  Never blocks; a
     * failure (outbox full, stopping) is logged at FINE: the core writes
     * the maps again after Redis comes back, a lost write is not.
     */
    void set(String key, String field, String valueJson) {
        EngineHandle h = engine.handle();
        if (!engine.isHubRedis() || h == null) {
            return;
        }
        byte[] k = EngineHandle.utf8(key);
        byte[] f = EngineHandle.utf8(field);
        byte[] v = valueJson == null ? null : EngineHandle.utf8(valueJson);
        int rc;
        try {
            rc = h.call("hubSet", a -> Native.hubSet(a, k, f, v));
        } catch (IllegalStateException e) {
            return;
        }
        if (rc < 0 && rc != NativeException.ESTOPPED) {
            LOG.log(rc == NativeException.EFULL ? Level.WARNING : Level.FINE,
                    "comet4j: " + Errors.exception("hubSet(" + key + ", " + field + ")", rc).getMessage());
        }
    }

    /**
     * The cluster's map key (merged over every live node), or null when the
     * hub is local, the engine is not running or Redis does not answer within
     * {@value #HUB_GET_TIMEOUT_MS} ms (the first such failure is logged as a
     * warning: callers then answer with this node's own numbers).
     */
    Map<String, Object> get(String key) {
        int[] rc = new int[1];
        Map<String, Object> m = get(key, HUB_GET_TIMEOUT_MS, rc);
        if (m != null || !engine.isHubRedis() || rc[0] == NativeException.ESTOPPED || !engine.isRunning()) {
            return m;
        }
        if (getWarned.compareAndSet(false, true)) {
            LOG.warning("comet4j: the hub did not answer for " + key + " ("
                    + (rc[0] < 0 ? Errors.exception("hubGet", rc[0]).getMessage() : "not a JSON object")
                    + "): online and presence figures are this node's own until it does (warned once)");
        }
        return null;
    }

    /** Native.hubGet parsed; null on any failure (rc[0]: the code, EBADJSON, or 0 for a non-object). */
    @SuppressWarnings("unchecked")
    private Map<String, Object> get(String key, int timeoutMs, int[] rc) {
        EngineHandle h = engine.handle();
        if (!engine.isHubRedis() || h == null) {
            return null;
        }
        byte[] k = EngineHandle.utf8(key);
        byte[] json;
        try {
            json = h.get("hubGet", a -> Native.hubGet(a, k, timeoutMs, rc));
        } catch (IllegalStateException e) {
            rc[0] = NativeException.ESTOPPED;
            return null;
        }
        if (json != null) {
            try {
                Object o = JSONUtil.parse(new String(json, StandardCharsets.UTF_8));
                if (o instanceof Map) {
                    return (Map<String, Object>) o;
                }
            } catch (IllegalArgumentException e) {
                rc[0] = NativeException.EBADJSON;
            }
        }
        return null;
    }

    /**
     * With a Redis hub, whether another node holds connection id (alive or
     * dying: its "conn:" + id map): {user} (user null when anonymous), else
     * null, also when the id is not one of ours in form or Redis does not
     * answer within {@value #HUB_CONN_TIMEOUT_MS} ms.  For the handshake.
     */
    String[] knownElsewhere(String id) {
        if (!engine.isHubRedis() || !isId(id)) {
            return null;
        }
        Map<String, Object> m = get(HUB_CONN + id, HUB_CONN_TIMEOUT_MS, new int[1]);
        if (m == null || !m.containsKey(HUB_CONN_USER)) {
            return null;
        }
        Object u = m.get(HUB_CONN_USER);
        if (u == null) {
            return new String[] {null};
        }
        return u instanceof String && !((String) u).isEmpty() ? new String[] {(String) u} : null;
    }

    /** 22 characters of URL-safe base64, as {@link CometEngine#newId()} makes them. */
    static boolean isId(String id) {
        if (id == null || id.length() != 22) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char ch = id.charAt(i);
            if (!(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-'
                    || ch == '_')) {
                return false;
            }
        }
        return true;
    }

    /** The distinct non-null users among the values of a hub map. */
    static int distinctUsers(Map<String, Object> map) {
        Set<Object> u = new HashSet<>();
        for (Object v : map.values()) {
            if (v instanceof String && !((String) v).isEmpty()) {
                u.add(v);
            }
        }
        return u.size();
    }
}
