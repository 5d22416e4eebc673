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
 * the headers the core looks at) and its socket handed to the core
 * ({@link Takeover}), which from then on checks the ticket, answers and
 * holds the connection exactly as on its own port.  When the socket cannot
 * be handed over (a TLS connector, HTTP/2, another connector or container),
 * the page is answered 503 with the reason, and the reason is logged once
 * with the fix.
 */
final class SamePort {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    static final String CMD_WS = "ws";
    static final String CMD_SSE = "sse";
    static final String CMD_POLL = "poll";
    static final String CMD_POST = "post";

    /** Each reason a socket was not handed over, logged once. */
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
        if (d.plan == null) {
            refuse(response, d.refused);
            return;
        }
        byte[] head = rebuild(request, path, post ? "POST" : "GET");
        response.setHeader("Connection", "close");
        int rc = Takeover.handOver(h, d.plan, head);
        if (rc < 0 && rc > -1000) { // -errno from the detach: Tomcat still holds the socket
            refuse(response, "the socket could not be detached: errno " + -rc);
        } else if (rc < 0) {
            LOG.warning("comet4j: a connection handed to the core was closed: " + Errors.exception("adopt", rc)
                    .getMessage());
        }
        // Tomcat now writes its own answer to the dummy under the socket's
        // old number, and closes it; the client never sees it.
    }

    private static void refuse(HttpServletResponse response, String why) throws IOException {
        if (LOGGED.putIfAbsent(why, Boolean.TRUE) == null) {
            LOG.warning("comet4j: a page's connection on Tomcat's port cannot be handed to the core (" + why
                    + "); such pages get 503 on this connector: serve them on plain HTTP/1.1 with"
                    + " Http11NioProtocol, or set Comet.Port (the native port) and Comet.PublicUrl");
        }
        CometServlet.error(response, 503, CometProtocol.ERR_BUSY, "cannot hold the connection here: " + why);
    }

    /**
     * The request as its client sent it, for the core: the method, the
     * transport's path with the page's query (but cmd), and the headers the
     * core reads.  Tomcat has checked them (no line breaks).
     */
    static byte[] rebuild(HttpServletRequest request, String path, String method) {
        StringBuilder b = new StringBuilder(512);
        b.append(method).append(' ').append(path);
        String q = queryWithout(request.getQueryString(), CometProtocol.FLAG_ACTION);
        if (!q.isEmpty()) {
            b.append('?').append(q);
        }
        b.append(" HTTP/1.1\r\n");
        for (String name : new String[] {"Host", "Origin", "Upgrade", "Connection", "Sec-WebSocket-Key",
            "Sec-WebSocket-Version", "X-Forwarded-For", "Content-Length", "Content-Type"}) {
            String v = request.getHeader(name);
            if (v != null && v.indexOf('\r') < 0 && v.indexOf('\n') < 0) {
                b.append(name).append(": ").append(v).append("\r\n");
            }
        }
        b.append("\r\n");
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
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
