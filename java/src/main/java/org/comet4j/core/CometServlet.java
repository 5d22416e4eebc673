package org.comet4j.core;

import java.io.IOException;
import java.security.Principal;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.comet4j.core.event.BeforeConnectEvent;
import org.comet4j.core.util.JSONUtil;

/**
 * The handshake endpoint (usually mapped at /conn): {@code cmd=conn} runs the
 * BeforeConnect listeners with the real request and response, and answers
 * either 403 (refused) or the connection id, a signed ticket and the native
 * endpoints to attach to (docs/protocol.md, section 1).  The request is
 * copied into a {@link RequestSnapshot} that the connection carries once it
 * attaches.  It never holds a push connection itself.
 */
public class CometServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger("org.comet4j");

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        handle(request, response);
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        handle(request, response);
    }

    void handle(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setHeader("Cache-Control", "no-store");
        String cmd = request.getParameter(CometProtocol.FLAG_ACTION);
        if (!CometProtocol.CMD_CONNECT.equals(cmd)) {
            error(response, 400, 4000, cmd == null ? "missing cmd" : "unknown cmd: " + cmd);
            return;
        }
        CometContext cc = CometContext.getInstance();
        CometEngine engine = cc.getEngine();
        if (!engine.isRunning()) {
            error(response, 503, 5030, "comet engine not running");
            return;
        }
        CometConfig cfg = engine.getConfig();
        String cid = engine.newId();
        if (!engine.fireEvent(new BeforeConnectEvent(engine, request, response, cid))) {
            if (!response.isCommitted()) {
                error(response, 403, 4030, "connection refused");
            }
            return;
        }
        // Taken after the listeners, so a session they created is in it.
        RequestSnapshot snapshot = RequestSnapshot.of(request);
        Principal p = request.getUserPrincipal();
        String user = p == null ? null : p.getName();
        List<String> channels = cc.getAppModules();
        long expSeconds = System.currentTimeMillis() / 1000 + cfg.getTicketTtl();
        String ticket = engine.ticket(cid, user, expSeconds, channels);
        engine.addPending(cid, snapshot, user, expSeconds * 1000);

        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("v", 1);
        answer.put("cId", cid);
        answer.put("channels", channels);
        answer.put("ticket", ticket);
        answer.put("endpoints", endpoints(cfg, engine.getPort(), request));
        // "auto" means: WebSocket, the core's one transport so far.
        answer.put("workStyle", CometProtocol.WORKSTYLE_AUTO.equals(cfg.getWorkStyle())
                ? CometProtocol.WORKSTYLE_WEBSOCKET : cfg.getWorkStyle());
        answer.put("timeout", cfg.getTimeout());
        answer.put("heartbeat", cfg.getHeartbeat());
        write(response, 200, JSONUtil.object2json(answer));
        if (cfg.isDebug()) {
            LOG.info("comet4j: handshake " + cid + " from " + request.getRemoteAddr());
        }
    }

    /** Comet.PublicUrl if set, else ws://&lt;the request's host&gt;:&lt;port&gt;/ws. */
    static List<String> endpoints(CometConfig cfg, int port, HttpServletRequest request) {
        if (!cfg.getPublicUrls().isEmpty()) {
            return cfg.getPublicUrls();
        }
        String host = request.getServerName();
        if (host == null || host.isEmpty()) {
            host = "localhost";
        } else if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
            host = "[" + host + "]"; // an IPv6 literal
        }
        return Collections.singletonList("ws://" + host + ":" + port + "/ws");
    }

    static void error(HttpServletResponse response, int status, int code, String message) throws IOException {
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("code", code);
        err.put("message", message);
        write(response, status, JSONUtil.object2json(Collections.singletonMap("error", err)));
    }

    private static void write(HttpServletResponse response, int status, String json) throws IOException {
        try {
            response.setStatus(status);
            response.setContentType("application/json;charset=UTF-8");
            response.getWriter().write(json);
        } catch (IllegalStateException e) { // a listener took the output stream
            LOG.log(Level.WARNING, "comet4j: cannot write the handshake answer", e);
        }
    }
}
