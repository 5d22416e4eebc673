package org.comet4j.core;

import java.io.IOException;
import java.net.URI;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
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
 * URLs to attach to, one per transport (docs/protocol.md, section 1).  With
 * {@code cId=<id>} of a connection the engine still holds (alive or dying,
 * same user) it answers that id with a fresh ticket and no BeforeConnect;
 * with a Redis hub, also when another node holds it (the page moved here).  The request is
 * copied into a {@link RequestSnapshot} that the connection carries once it
 * attaches.  It never holds a push connection itself.
 */
public class CometServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger("org.comet4j");

    /** The native port's paths (docs/protocol.md). */
    static final String PATH_WS = "/ws";
    static final String PATH_SSE = "/sse";
    static final String PATH_POLL = "/poll";
    static final String PATH_CMD = "/cmd";

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
        // From the query first: getParameter would read a form body, and a
        // transport request's body is the core's.
        String cmd = SamePort.queryParam(request.getQueryString(), CometProtocol.FLAG_ACTION);
        if (cmd == null) {
            cmd = request.getParameter(CometProtocol.FLAG_ACTION);
        }
        String transport = SamePort.path(cmd);
        if (transport != null) {
            SamePort.serve(CometContext.getInstance().getEngine(), request, response, transport);
            return;
        }
        if (CometProtocol.CMD_DROP.equals(cmd)) { // Comet4J's connector, stopping
            CometContext.getInstance().getEngine().drop(request, response);
            return;
        }
        if (!CometProtocol.CMD_CONNECT.equals(cmd)) {
            error(response, 400, 4000, cmd == null ? Language.t("MissingCmd") : Language.t("UnknownCmd", cmd));
            return;
        }
        CometContext cc = CometContext.getInstance();
        CometEngine engine = cc.getEngine();
        if (!engine.isRunning()) {
            error(response, 503, 5030, Language.t("EngineNotRunning"));
            return;
        }
        CometConfig cfg = engine.getConfig();
        String origin = request.getHeader("Origin");
        if (origin != null && !origin.isEmpty() && !sameOrigin(origin, request, cfg)) {
            if (!cfg.isOriginAllowed(origin)) {
                refuseOrigin(engine, response, origin);
                return;
            }
            // An allowed page of another origin: it may read the answer.
            cors(response, origin);
        }
        boolean secure = secure(request, cfg);
        List<String> bases = cfg.isOnePort() ? null : bases(cfg, engine.getPort(), request);
        if (secure && bases != null && insecure(bases)) {
            String why = "the page is https but its endpoints would be ws:// and http:// " + bases
                    + " (the native port Comet.Port has no TLS): set Comet.TlsCert and Comet.TlsKey (TLS on"
                    + " the native port), or Comet.PublicUrl to wss:// or https:// URLs (a TLS proxy in front"
                    + " of the native port), or leave Comet.Port unset (one port)";
            if (INSECURE_LOGGED.compareAndSet(false, true)) {
                LOG.warning("comet4j: handshake refused: " + why);
            }
            error(response, 503, CometProtocol.ERR_BUSY, why);
            return;
        }
        Principal p = request.getUserPrincipal();
        String principal = p == null ? null : p.getName();
        String oldId = request.getParameter(CometProtocol.FLAG_CID);
        if (oldId == null || oldId.isEmpty()) {
            oldId = request.getParameter(CometProtocol.FLAG_ID);
        }
        CometConnection known = known(engine, oldId, principal);
        String[] elsewhere = known == null ? knownElsewhere(engine, oldId, principal) : null;
        String cid;
        String user;
        RequestSnapshot snapshot;
        if (elsewhere != null) {
            // Another node of the cluster holds it (the page moved here): the
            // same id, so what is sent to it is not lost; no second BeforeConnect.
            cid = oldId;
            user = elsewhere[0];
            snapshot = RequestSnapshot.of(request);
        } else if (known != null) {
            // The page had this connection and the engine still holds it (alive
            // or dying): same id, fresh ticket, no second BeforeConnect.  Its
            // attach revives it; if it was dropped meanwhile, the attach is a
            // new connection with the request of the first handshake.
            cid = known.getId();
            user = known.getUser();
            snapshot = known.getRequest() instanceof RequestSnapshot
                    ? (RequestSnapshot) known.getRequest() : RequestSnapshot.of(request);
        } else {
            cid = engine.newId();
            BeforeConnectEvent before = new BeforeConnectEvent(engine, request, response, cid);
            if (!engine.fireEvent(before)) {
                engine.figures().beforeConnectRefused.increment();
                if (!response.isCommitted()) {
                    error(response, 403, 4030, Language.t("ConnectRefused"));
                }
                return;
            }
            // Taken after the listeners, so a session they created is in it.
            snapshot = RequestSnapshot.of(request);
            p = request.getUserPrincipal();
            user = before.getUser() != null && !before.getUser().isEmpty() ? before.getUser()
                    : p == null ? null : p.getName();
        }
        List<String> channels = cc.getAppModules();
        long expSeconds = System.currentTimeMillis() / 1000 + cfg.getTicketTtl();
        String ticket = engine.ticket(cid, user, expSeconds, channels);
        engine.addPending(cid, snapshot, user, expSeconds * 1000);

        // The answer, written as it goes (every handshake makes one: no map, no reflection).
        StringBuilder a = new StringBuilder(640 + ticket.length());
        a.append("{\"v\":1,\"cId\":");
        JSONUtil.quote(a, cid);
        a.append(",\"channels\":");
        strings(a, channels);
        a.append(",\"ticket\":");
        JSONUtil.quote(a, ticket);
        if (cfg.isOnePort()) {
            // This servlet's own URL, on the page's scheme, host and port.
            String self = selfUrl(request, secure);
            a.append(",\"endpoints\":");
            strings(a, urls(Collections.singletonList(self), "?cmd=" + SamePort.CMD_WS, true));
            a.append(",\"stream\":");
            strings(a, Collections.singletonList(self + "?cmd=" + SamePort.CMD_SSE));
            a.append(",\"lpool\":");
            strings(a, Collections.singletonList(self + "?cmd=" + SamePort.CMD_POLL));
            a.append(",\"cmd\":");
            strings(a, Collections.singletonList(self + "?cmd=" + SamePort.CMD_POST));
        } else {
            a.append(",\"endpoints\":");
            strings(a, urls(bases, PATH_WS, true));
            a.append(",\"stream\":");
            strings(a, urls(bases, PATH_SSE, false));
            a.append(",\"lpool\":");
            strings(a, urls(bases, PATH_POLL, false));
            a.append(",\"cmd\":");
            strings(a, urls(bases, PATH_CMD, false));
        }
        a.append(",\"workStyle\":");
        quote(a, cfg.getWorkStyle());
        a.append(",\"timeout\":").append(cfg.getTimeout());          // Comet.Timeout (Comet4J's connect answer)
        a.append(",\"hold\":").append(cfg.getPollHold());             // what a long-poll is held
        a.append(",\"idleTimeout\":").append(cfg.getIdleTimeout());
        a.append(",\"heartbeat\":").append(cfg.getHeartbeat());
        a.append(",\"connExpires\":").append(cfg.getConnExpires()).append('}');
        write(response, 200, a.toString());
        if (engine.isDebugOn()) {
            LOG.info("comet4j: handshake " + cid + (known != null ? " (known)" : elsewhere != null
                    ? " (known elsewhere)" : "") + " from "
                    + request.getRemoteAddr());
        }
    }

    /**
     * The connection named by the request's cId (or Comet4J's cid) if the
     * engine still holds it and it belongs to the same user (both anonymous,
     * or the same principal name); else null, and the handshake is a new one.
     */
    private static CometConnection known(CometEngine engine, String id, String user) {
        CometConnection c = engine.getConnection(id);
        if (c == null || CometProtocol.STATE_DROPPED.equals(c.getState())
                || !Objects.equals(c.getUser(), user)) {
            return null;
        }
        return c;
    }

    /**
     * With a Redis hub, for an id this engine does not hold: {user} when
     * another node holds it for the same user, else null (a new id).
     */
    private static String[] knownElsewhere(CometEngine engine, String id, String user) {
        if (id == null || engine.getConnection(id) != null) {
            return null;
        }
        String[] u = engine.knownElsewhere(id);
        return u != null && Objects.equals(u[0], user) ? u : null;
    }

    /** Appends the strings as a JSON array. */
    static void strings(StringBuilder sb, List<String> list) {
        sb.append('[');
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            quote(sb, list.get(i));
        }
        sb.append(']');
    }

    /** Appends s as a JSON string, or null. */
    static void quote(StringBuilder sb, String s) {
        if (s == null) {
            sb.append("null");
        } else {
            JSONUtil.quote(sb, s);
        }
    }

    /** The WebSocket URLs: ws(s)://&lt;base&gt;/ws for each base ({@link #bases}). */
    static List<String> endpoints(CometConfig cfg, int port, HttpServletRequest request) {
        return urls(bases(cfg, port, request), PATH_WS, true);
    }

    /**
     * One http(s) base per endpoint, without a trailing slash: each entry of
     * Comet.PublicUrl (ws→http, wss→https; an entry ending in /ws is its base
     * without /ws), else http(s)://&lt;the request's host&gt;:&lt;port&gt; (https when
     * the native port has TLS, Comet.TlsCert).
     */
    static List<String> bases(CometConfig cfg, int port, HttpServletRequest request) {
        List<String> pub = cfg.getPublicUrls();
        if (!pub.isEmpty()) {
            List<String> out = new ArrayList<>(pub.size());
            for (String u : pub) {
                out.add(base(u));
            }
            return out;
        }
        String host = request.getServerName();
        if (host == null || host.isEmpty()) {
            host = "localhost";
        } else if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
            host = "[" + host + "]"; // an IPv6 literal
        }
        // https when the native port speaks TLS (Comet.TlsCert): urls() makes wss:// of it.
        return Collections.singletonList((cfg.isTls() ? "https://" : "http://") + host + ":" + port);
    }

    /**
     * The URL of this servlet as the page reached it: its scheme, the Host
     * it asked for, the context path and the servlet's path.
     */
    static String selfUrl(HttpServletRequest request, boolean secure) {
        String scheme = secure ? "https" : "http";
        String host = request.getHeader("Host");
        if (host == null || host.isEmpty() || host.indexOf('/') >= 0 || host.indexOf('@') >= 0) {
            String name = request.getServerName();
            if (name.indexOf(':') >= 0 && !name.startsWith("[")) {
                name = "[" + name + "]";
            }
            host = name + ":" + request.getServerPort();
        }
        String path = request.getContextPath() + request.getServletPath()
                + (request.getPathInfo() == null ? "" : request.getPathInfo());
        return scheme + "://" + host + path;
    }

    /** The insecure-endpoints refusal is logged once. */
    private static final java.util.concurrent.atomic.AtomicBoolean INSECURE_LOGGED =
            new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Whether the page reached this servlet over TLS: the request is secure,
     * or it came from an address of Comet.TrustedProxies that says so
     * (X-Forwarded-Proto: https, or Forwarded: proto=https).
     */
    static boolean secure(HttpServletRequest request, CometConfig cfg) {
        if (request.isSecure()) {
            return true;
        }
        // No trusted proxy (the default): no address to parse a handshake.
        if (cfg.getTrustedProxies().isEmpty()
                || !cfg.getTrustedProxies().contains(normalized(request.getRemoteAddr()))) {
            return false;
        }
        String xfp = request.getHeader("X-Forwarded-Proto");
        if (xfp != null && xfp.split(",")[0].trim().equalsIgnoreCase("https")) {
            return true;
        }
        String fwd = request.getHeader("Forwarded");
        if (fwd != null) {
            for (String pair : fwd.split(",")[0].split(";")) {
                String[] kv = pair.trim().split("=", 2);
                if (kv.length == 2 && kv[0].trim().equalsIgnoreCase("proto")
                        && kv[1].trim().replace("\"", "").equalsIgnoreCase("https")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String normalized(String ip) {
        try {
            return java.net.InetAddress.getByName(ip).getHostAddress();
        } catch (java.net.UnknownHostException | RuntimeException e) {
            return ip;
        }
    }

    private static boolean insecure(List<String> bases) {
        for (String b : bases) {
            if (!b.startsWith("https:")) {
                return true;
            }
        }
        return false;
    }

    /** Whether origin is the page's own: this request's scheme and Host. */
    static boolean sameOrigin(String origin, HttpServletRequest request, CometConfig cfg) {
        String host = request.getHeader("Host");
        if (host == null) {
            return false;
        }
        String scheme = secure(request, cfg) ? "https://" : "http://";
        String self = scheme + host;
        String bare = host.endsWith(":443") && scheme.equals("https://") ? scheme + host.substring(0, host.length() - 4)
                : host.endsWith(":80") && scheme.equals("http://") ? scheme + host.substring(0, host.length() - 3)
                : self;
        return origin.equalsIgnoreCase(self) || origin.equalsIgnoreCase(bare);
    }

    private static void cors(HttpServletResponse response, String origin) {
        response.setHeader("Access-Control-Allow-Origin", origin);
        response.setHeader("Access-Control-Allow-Credentials", "true");
        response.addHeader("Vary", "Origin");
    }

    /**
     * 403 {"error":{"code":4033,...}} with the CORS headers that let the
     * page read it (its stop cause then says "origin"); logged at most once
     * a minute per origin, and counted.
     */
    private static void refuseOrigin(CometEngine engine, HttpServletResponse response, String origin)
            throws IOException {
        engine.originRefused();
        engine.originLog().event(origin, o -> "comet4j: handshake refused for origin " + o + ": not in "
                + CometProtocol.CONFIG_ALLOWEDORIGINS + " (" + engine.getConfig().getAllowedOrigins()
                + "); add it there if its pages may connect (logged once a minute per origin)");
        cors(response, origin);
        error(response, 403, CometProtocol.ERR_ORIGIN, "origin not allowed: " + origin + " ("
                + CometProtocol.CONFIG_ALLOWEDORIGINS + ")");
    }

    /** A Comet.PublicUrl entry (checked by CometConfig) as an http(s) base. */
    static String base(String publicUrl) {
        URI u = URI.create(publicUrl);
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("ws")) {
            scheme = "http";
        } else if (scheme.equals("wss")) {
            scheme = "https";
        }
        String path = u.getRawPath() == null ? "" : u.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.endsWith(PATH_WS)) {
            path = path.substring(0, path.length() - PATH_WS.length());
        }
        return scheme + "://" + u.getRawAuthority() + path;
    }

    /** base + path for each base; with ws, http→ws and https→wss. */
    static List<String> urls(List<String> bases, String path, boolean ws) {
        List<String> out = new ArrayList<>(bases.size());
        for (String b : bases) {
            String u = b + path;
            if (ws) {
                u = u.startsWith("https:") ? "wss:" + u.substring(6) : "ws:" + u.substring(u.indexOf(':') + 1);
            }
            out.add(u);
        }
        return out;
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
