package org.comet4j.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The pages' transports on the application's own URL (one port,
 * docs/protocol.md section 10): {@code <servlet>?cmd=ws}, {@code cmd=sse},
 * {@code cmd=poll} and {@code cmd=post} (commands over HTTP) reach the same
 * core as the native port's {@code /ws}, {@code /sse}, {@code /poll} and
 * {@code /cmd}.  The request is rebuilt as the core reads it (the request
 * line with the transport's path and the page's query but {@code cmd}, and
 * the headers the core looks at), and then one of two ways: the socket is
 * handed to the core ({@link Takeover}), which from then on checks the
 * ticket, answers and holds the connection exactly as on its own port; or,
 * when it cannot be handed over (a TLS connector, HTTP/2, another connector
 * or container), the container keeps it and its bytes are bridged to the
 * core ({@link ContainerWay}, {@link Bridge}), which does the same
 * protocol.  Each reason a socket stays the container's is logged once.
 * 503 only when neither way is open (the engine not running).
 */
final class SamePort {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    static final String CMD_WS = "ws";
    static final String CMD_SSE = "sse";
    static final String CMD_POLL = "poll";
    static final String CMD_POST = "post";

    /** Each reason a socket was not handed over, logged once (its digits as #). */
    private static final Map<String, Boolean> LOGGED = new ConcurrentHashMap<>();

    private SamePort() {}

    /** The core's path for a transport's cmd, or null when cmd is none. */
    static String path(String cmd) {
        if (cmd == null) {
            return null;
        }
        switch (cmd) {
            case CMD_WS: return CometServlet.PATH_WS;
            case CMD_SSE: return CometServlet.PATH_SSE;
            case CMD_POLL: return CometServlet.PATH_POLL;
            case CMD_POST: return CometServlet.PATH_CMD;
            default: return null;
        }
    }

    /** Serves a transport request whose core path is {@code path}. */
    static void serve(CometEngine engine, HttpServletRequest request, HttpServletResponse response, String path)
            throws IOException {
        EngineHandle h = engine.handle();
        if (h == null || !engine.isRunning()) {
            CometServlet.error(response, 503, CometProtocol.ERR_BUSY, "comet engine not running");
            return;
        }
        // The WebSocket's frames and a command's body may follow the request
        // in Tomcat's buffer; after SSE and long-poll requests nothing may.
        boolean ws = CometServlet.PATH_WS.equals(path);
        boolean post = CometServlet.PATH_CMD.equals(path);
        Takeover.Decision d = Takeover.decide(request, ws || post);
        String why = d.refused;
        if (d.plan != null) {
            byte[] head = rebuild(request, path, post ? "POST" : "GET", null, -1);
            int rc = Takeover.handOver(h, d.plan, head);
            if (rc >= 0 || rc <= -1000) {
                response.setHeader("Connection", "close");
                if (rc < 0) {
                    String m = Errors.exception("adopt", rc).getMessage();
                    engine.adoptLog().event(m, k -> "comet4j: a connection handed to the core was closed: " + k
                            + " (logged once a minute per reason)");
                }
                // Tomcat now writes its own answer to the dummy under the
                // socket's old number, and closes it; the client never sees it.
                return;
            }
            // -errno from the detach: Tomcat still holds the socket.
            why = "the socket could not be detached: errno " + -rc;
        }
        Bridge b = engine.bridge();
        if (b == null) {
            refuse(response, why);
            return;
        }
        if (firstTime(why)) {
            LOG.info("comet4j: a page's connection stays the container's (" + why + "): its bytes are bridged"
                    + " to the core (the container way); logged once per reason");
        }
        ContainerWay.serve(b, engine.getConfig(), request, response, path);
    }

    /**
     * Whether a reason is new: digits do not count (a peer's address and
     * port), and at most 100 reasons are kept.
     */
    private static boolean firstTime(String why) {
        String k = why.replaceAll("[0-9]+", "#");
        return LOGGED.size() < 100 && LOGGED.putIfAbsent(k, Boolean.TRUE) == null;
    }

    private static void refuse(HttpServletResponse response, String why) throws IOException {
        if (firstTime(why)) {
            LOG.warning("comet4j: a page's connection on Tomcat's port cannot be handed to the core (" + why
                    + ") and there is no bridge (Comet.Port is set): such pages get 503; pages should use the"
                    + " native port's URLs the handshake gives");
        }
        CometServlet.error(response, 503, CometProtocol.ERR_BUSY, "cannot hold the connection here: " + why);
    }

    /**
     * The request as its client sent it, for the core: the method, the
     * transport's path with the page's query (but cmd), and the headers the
     * core reads.  Tomcat has checked them (no line breaks).  forwardedFor
     * non-null (the container way: the core's peer is then loopback, which
     * it trusts): X-Forwarded-For is that address instead of the page's
     * own header.  contentLength &gt;= 0: Content-Length is that (a body
     * read whole, or one too large for the core to take).  But for a
     * WebSocket it says {@code Connection: close}: the core then closes
     * after its answer rather than keep the socket for another request.
     */
    static byte[] rebuild(HttpServletRequest request, String path, String method, String forwardedFor,
            long contentLength) {
        StringBuilder b = new StringBuilder(512);
        b.append(method).append(' ').append(path);
        String q = queryWithout(request.getQueryString(), CometProtocol.FLAG_ACTION);
        if (!q.isEmpty()) {
            b.append('?').append(q);
        }
        b.append(" HTTP/1.1\r\n");
        for (String name : new String[] {"Host", "Origin", "Upgrade", "Connection", "Sec-WebSocket-Key",
            "Sec-WebSocket-Version", "X-Forwarded-For", "Content-Length", "Content-Type",
            "Sec-WebSocket-Extensions"}) {
            String v = request.getHeader(name);
            if (name.equals("Sec-WebSocket-Extensions")) {
                v = joined(request, name); // the core negotiates permessage-deflate
            }
            if (name.equals("Connection") && !CometServlet.PATH_WS.equals(path)) {
                // One request a socket: the bridge streams the answer to the
                // core's close, and a socket taken over is Tomcat's client's.
                v = "close";
            } else if (name.equals("X-Forwarded-For") && forwardedFor != null) {
                v = forwardedFor;
            } else if (name.equals("Content-Length") && contentLength >= 0) {
                v = Long.toString(contentLength);
            }
            if (v != null && v.indexOf('\r') < 0 && v.indexOf('\n') < 0) {
                b.append(name).append(": ").append(v).append("\r\n");
            }
        }
        b.append("\r\n");
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Every copy of header name, joined with ", " as one list (null when absent). */
    private static String joined(HttpServletRequest request, String name) {
        java.util.Enumeration<String> all = request.getHeaders(name);
        StringBuilder b = null;
        while (all != null && all.hasMoreElements()) {
            String v = all.nextElement();
            b = b == null ? new StringBuilder(v) : b.append(", ").append(v);
        }
        return b == null ? null : b.toString();
    }

    /** The raw query without the parameters named name. */
    static String queryWithout(String query, String name) {
        if (query == null || query.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder(query.length());
        for (String part : query.split("&")) {
            if (part.isEmpty() || part.equals(name) || part.startsWith(name + "=")) {
                continue;
            }
            if (b.length() > 0) {
                b.append('&');
            }
            b.append(part);
        }
        return b.toString();
    }

    /** The first value of a raw query's parameter, decoded; null when absent. */
    static String queryParam(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String part : query.split("&")) {
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            if (k.equals(name)) {
                try {
                    return java.net.URLDecoder.decode(eq < 0 ? "" : part.substring(eq + 1), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }
}
