package org.comet4j.core;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.comet4j.core.util.JSONUtil;

/**
 * What this node reads of the hub's cluster maps itself
 * (Comet.Hub=redis://..., docs/protocol.md section 9): whether another node
 * holds a connection id, for the handshake ({@link #knownElsewhere}), and
 * the nodes with their last heartbeats, for the admin page ({@link #nodes}).  The
 * core writes every map ("online", "conn:&lt;cId&gt;", "presence:&lt;channel&gt;")
 * for its own identities and answers the members and online questions
 * from them ({@link Membership}); Java writes none.
 */
final class ClusterMaps {

    /**
     * One map per connection: "conn:" + id, field {@value #HUB_CONN_USER} → user (or null),
     * written by the core of the node that holds it.
     */
    static final String HUB_CONN = "conn:";
    static final String HUB_CONN_USER = "u";
    /** How long a handshake waits for Redis to learn whether another node holds its cId. */
    static final int HUB_CONN_TIMEOUT_MS = 300;

    private final CometEngine engine;

    /** engine: its handle and whether its hub is Redis, read at each call. */
    ClusterMaps(CometEngine engine) {
        this.engine = engine;
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
        Map<?, ?> m = get(HUB_CONN + id, HUB_CONN_TIMEOUT_MS);
        if (m == null || !m.containsKey(HUB_CONN_USER)) {
            return null;
        }
        Object u = m.get(HUB_CONN_USER);
        if (u == null) {
            return new String[] {null};
        }
        return u instanceof String && !((String) u).isEmpty() ? new String[] {(String) u} : null;
    }

    /**
     * With a Redis hub, the cluster's nodes as Redis holds them (each
     * {@code {id, heartbeat, alive, self}}, sorted by id), asked of the core
     * each time, waiting at most timeoutMs; null with hub local, the link
     * down or Redis silent.
     */
    List<?> nodes(int timeoutMs) {
        EngineHandle h = engine.handle();
        if (!engine.isHubRedis() || h == null) {
            return null;
        }
        byte[] json;
        try {
            json = h.get("hubNodes", a -> Native.hubNodes(a, timeoutMs, new int[1]));
        } catch (IllegalStateException e) { // closed meanwhile
            return null;
        }
        if (json != null) {
            try {
                Object o = JSONUtil.parse(new String(json, StandardCharsets.UTF_8));
                if (o instanceof List) {
                    return (List<?>) o;
                }
            } catch (IllegalArgumentException e) {
                // not a list: none known
            }
        }
        return null;
    }

    /** Native.hubGet parsed: the map merged over every live node; null on any failure. */
    private Map<?, ?> get(String key, int timeoutMs) {
        EngineHandle h = engine.handle();
        if (h == null) {
            return null;
        }
        byte[] k = EngineHandle.utf8(key);
        byte[] json;
        try {
            json = h.get("hubGet", a -> Native.hubGet(a, k, timeoutMs, new int[1]));
        } catch (IllegalStateException e) { // closed meanwhile
            return null;
        }
        if (json != null) {
            try {
                Object o = JSONUtil.parse(new String(json, StandardCharsets.UTF_8));
                if (o instanceof Map) {
                    return (Map<?, ?>) o;
                }
            } catch (IllegalArgumentException e) {
                // not a map: nobody known
            }
        }
        return null;
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
}
