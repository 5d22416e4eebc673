package org.comet4j.core;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.comet4j.core.exception.NativeException;
import org.comet4j.core.util.JSONUtil;

/**
 * The HTTP API on the native port for backends in any language
 * (docs/protocol.md section 8).  The core checked the key (Comet.ApiKey) and
 * holds the request; this answers it on the dispatcher thread with cheap,
 * non-blocking engine calls:
 * <ul>
 * <li>POST /api/publish {"channel","data"}: sendToAll</li>
 * <li>POST /api/send {"channel","data","cId" or "user"}: sendTo / sendToUser</li>
 * <li>either with "b64" (bytes in base64) in place of "data": a binary
 *     message (docs/protocol.md section 11)</li>
 * <li>GET /api/online[?user=u]: online users and connections</li>
 * <li>GET /api/presence?channel=c: the channel's members</li>
 * <li>GET /api/stats: the engine's counters (getStats)</li>
 * </ul>
 * Errors are {"error":{"code":n,"message":"..."}}; a send the hub's full
 * outbox refused (Redis down or slow) is 503 with the reason: it was kept
 * nowhere, the caller retries.
 *
 * <p>Online and presence are the core's own answers (c4j_online,
 * c4j_members), passed on as the core writes them: the same JSON as
 * comet4j-node's.  With a Redis hub (Comet.Hub=redis://...) they are the
 * cluster's (online always, presence for a channel registered with
 * presence; up to 500 ms on this thread; this node's own figures when
 * Redis does not answer), and /api/send with a cId this node does not hold
 * goes through the hub to whichever node holds it (answered ok: nobody
 * here knows whether one does).
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
            json = route(method, path, query(query), body);
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

    /** The answer's JSON text (200), or a Failure. */
    private String route(String method, String path, Map<String, String> q, String body) {
        switch (path) {
            case "/api/publish": {
                Map<String, Object> b = body(method, body);
                String channel = string(b, "channel");
                Object data = data(b);
                try {
                    engine.sendToAll(channel, data);
                } catch (IllegalArgumentException e) {
                    throw new Failure(400, e.getMessage());
                } catch (NativeException e) {
                    throw coreFailure(e);
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
                } catch (NativeException e) {
                    throw coreFailure(e);
                }
                return ok();
            }
            case "/api/stats": {
                get(method);
                return JSONUtil.object2json(engine.getStats());
            }
            case "/api/online": {
                get(method);
                String user = q.get("user");
                try {
                    return engine.onlineJson(user);
                } catch (NativeException e) {
                    throw coreFailure(e);
                }
            }
            case "/api/presence": {
                get(method);
                String channel = q.get("channel");
                if (channel == null || channel.isEmpty()) {
                    throw new Failure(400, "query parameter \"channel\" is required");
                }
                try {
                    return engine.membersJson(channel);
                } catch (NativeException e) {
                    throw coreFailure(e);
                }
            }
            default:
                throw new Failure(404, "no such API: " + path);
        }
    }

    private static String ok() {
        return "{\"ok\":true}";
    }

    /**
     * The core's refusal, as comet4j-node answers it: 503 for a send the hub's
     * full outbox refused (kept nowhere: retry) or a stopping engine, 400 for
     * bad input, else 500.
     */
    private static Failure coreFailure(NativeException e) {
        int code = e.getCode();
        if (code == NativeException.EFULL) {
            return new Failure(503, Delivery.OUTBOX_FULL);
        }
        int status = code == NativeException.EBADNAME || code == NativeException.ETOOBIG
                || code == NativeException.EBADJSON ? 400 : code == NativeException.ESTOPPED ? 503 : 500;
        return new Failure(status, e.getMessage());
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

    /**
     * The message's data: "data", any JSON value, or "b64", bytes in base64
     * sent as a binary message (docs/protocol.md section 11); one of them.
     */
    private static Object data(Map<String, Object> b) {
        boolean json = b.containsKey("data"), bytes = b.containsKey("b64");
        if (json && bytes) {
            throw new Failure(400, "\"data\" or \"b64\", not both");
        }
        if (bytes) {
            Object v = b.get("b64");
            if (!(v instanceof String)) {
                throw new Failure(400, "\"b64\" must be a base64 string");
            }
            try {
                return Base64.getDecoder().decode((String) v);
            } catch (IllegalArgumentException e) {
                throw new Failure(400, "\"b64\" is not base64: " + e.getMessage());
            }
        }
        if (!json) {
            throw new Failure(400, "\"data\" (or \"b64\") is required");
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
