package org.comet4j.core;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.comet4j.core.util.JSONUtil;

/**
 * The HTTP API on the native port for backends in any language
 * (docs/protocol.md section 8).  The core checked the key (Comet.ApiKey) and
 * holds the request; this answers it on the dispatcher thread with cheap,
 * non-blocking engine calls:
 * <ul>
 * <li>POST /api/publish {"channel","data"}: sendToAll</li>
 * <li>POST /api/send {"channel","data","cId" or "user"}: sendTo / sendToUser</li>
 * <li>GET /api/online[?user=u]: online users and connections</li>
 * <li>GET /api/presence?channel=c: the channel's members</li>
 * </ul>
 * Errors are {"error":{"code":n,"message":"..."}}.
 *
 * <p>With a Redis hub (Comet.Hub=redis://...) online and presence (of a
 * channel registered with presence) are the cluster's (ClusterMaps,
 * up to 500 ms on this thread; this node's own figures when Redis does not
 * answer), and /api/send with a cId this node does not hold goes through
 * the hub to whichever node holds it (answered ok: nobody here knows
 * whether one does).
 */
final class ApiHandler {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    /** An answer other than 200, with its message. */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        Failure(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private final CometEngine engine;

    ApiHandler(CometEngine engine) {
        this.engine = engine;
    }

    void handle(long id, String method, String path, String query, String body) {
        int status = 200;
        String json;
        try {
            json = JSONUtil.object2json(route(method, path, query(query), body));
        } catch (Failure f) {
            status = f.status;
            json = error(f.status, f.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "comet4j: HTTP API " + method + " " + path + " failed", e);
            status = 500;
            json = error(500, String.valueOf(e.getMessage()));
        }
        engine.apiReply(id, status, json);
    }

    static String error(int code, String message) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("code", code);
        e.put("message", message);
        return JSONUtil.object2json(Map.of("error", e));
    }

    private Object route(String method, String path, Map<String, String> q, String body) {
        switch (path) {
            case "/api/publish": {
                Map<String, Object> b = body(method, body);
                String channel = string(b, "channel");
                Object data = data(b);
                try {
                    engine.sendToAll(channel, data);
                } catch (IllegalArgumentException e) {
                    throw new Failure(400, e.getMessage());
                }
                return ok();
            }
            case "/api/send": {
                Map<String, Object> b = body(method, body);
                String channel = string(b, "channel");
                Object data = data(b);
                Object cid = b.get("cId");
                Object user = b.get("user");
                try {
                    if (cid instanceof String) {
                        CometConnection c = engine.getConnection((String) cid);
                        if (c != null) {
                            engine.sendTo(channel, c, data);
                        } else if (engine.isHubRedis() && !((String) cid).isEmpty()) {
                            engine.sendToConnection((String) cid, channel, data);
                        } else {
                            throw new Failure(404, "unknown connection: " + cid);
                        }
                    } else if (user instanceof String && !((String) user).isEmpty()) {
                        engine.sendToUser((String) user, channel, data);
                    } else {
                        throw new Failure(400, "\"cId\" or \"user\" (a string) is required");
                    }
                } catch (IllegalArgumentException e) {
                    throw new Failure(400, e.getMessage());
                }
                return ok();
            }
            case "/api/online": {
                get(method);
                Map<String, Object> m = new LinkedHashMap<>();
                String user = q.get("user");
                Map<String, Object> cluster = engine.hubGet(ClusterMaps.HUB_ONLINE);
                if (cluster != null) {
                    if (user != null) {
                        int n = 0;
                        for (Object u : cluster.values()) {
                            if (user.equals(u)) {
                                n++;
                            }
                        }
                        m.put("user", user);
                        m.put("online", n > 0);
                        m.put("connections", n);
                    } else {
                        m.put("users", ClusterMaps.distinctUsers(cluster));
                        m.put("connections", cluster.size());
                    }
                } else if (user != null) {
                    m.put("user", user);
                    m.put("online", engine.isOnline(user));
                    m.put("connections", engine.getUserConnections(user).size());
                } else {
                    m.put("users", engine.getOnlineCount());
                    m.put("connections", engine.getConnections().size());
                }
                return m;
            }
            case "/api/presence": {
                get(method);
                String channel = q.get("channel");
                if (channel == null || channel.isEmpty()) {
                    throw new Failure(400, "query parameter \"channel\" is required");
                }
                List<Object> members = new ArrayList<>();
                for (Map.Entry<String, String> e : engine.getMembers(channel).entrySet()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("cId", e.getKey());
                    m.put("user", e.getValue());
                    members.add(m);
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("channel", channel);
                m.put("count", members.size());
                m.put("members", members);
                return m;
            }
            default:
                throw new Failure(404, "no such API: " + path);
        }
    }

    private static Map<String, Object> ok() {
        return Map.of("ok", true);
    }

    private static void get(String method) {
        if (!"GET".equals(method)) {
            throw new Failure(405, "method must be GET");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> body(String method, String body) {
        if (!"POST".equals(method)) {
            throw new Failure(405, "method must be POST");
        }
        Object o;
        try {
            o = JSONUtil.parse(body);
        } catch (IllegalArgumentException e) {
            throw new Failure(400, "bad JSON: " + e.getMessage());
        }
        if (!(o instanceof Map)) {
            throw new Failure(400, "the body must be a JSON object");
        }
        return (Map<String, Object>) o;
    }

    private static String string(Map<String, Object> b, String name) {
        Object v = b.get(name);
        if (!(v instanceof String) || ((String) v).isEmpty()) {
            throw new Failure(400, "\"" + name + "\" (a string) is required");
        }
        return (String) v;
    }

    private static Object data(Map<String, Object> b) {
        if (!b.containsKey("data")) {
            throw new Failure(400, "\"data\" is required");
        }
        return b.get("data");
    }

    /** The query's parameters, percent-decoded (the first of each name). */
    static Map<String, String> query(String q) {
        Map<String, String> m = new HashMap<>();
        if (q == null || q.isEmpty()) {
            return m;
        }
        for (String part : q.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            try {
                String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
                m.putIfAbsent(k, v);
            } catch (IllegalArgumentException e) {
                throw new Failure(400, "bad query");
            }
        }
        return m;
    }
}
