package org.comet4j.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRegistration;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.comet4j.core.util.JSONUtil;

/**
 * {@code <context>/comet4j/admin}: the admin page (docs/metrics.md, "The
 * admin page"), which CometAppListener registers only when Comet.Admin
 * allows someone in.  Four answers under one path:
 * <ul>
 * <li>{@code GET /comet4j/admin}: the page (admin.html in the jar);</li>
 * <li>{@code GET /comet4j/admin/admin.js}: its script;</li>
 * <li>{@code GET /comet4j/admin/stats}: a JSON snapshot the page polls
 * every second: CometEngine.getStats() and Java's handshake figures as
 * they are (the page keeps the ring of samples and the rates), the
 * registered channels with their subscriber counts and, for presence
 * channels, members, and the hub's state (with Redis, the nodes and
 * their last heartbeats, asked of the core);</li>
 * <li>{@code POST /comet4j/admin/publish}: {@code {"channel":..,"data":..}}
 * as {@code application/json}, sent through CometEngine.sendToAll.</li>
 * </ul>
 * Who may: as MetricsServlet (the same rules, {@link MetricsServlet#allowed}),
 * under Comet.Admin.  With a list of addresses every answer needs a listed
 * client (or the key as a bearer); with {@code true} the page and its
 * script, which hold no figure, are served to anyone, since a browser
 * cannot send a bearer when it navigates, and the page asks for the key and
 * sends it as a bearer on its fetches of stats and publish.  A publish
 * must be {@code application/json} (a form of another site cannot send
 * that without a preflight this servlet never answers) and, when it has an
 * Origin, come from this page's own host.
 */
public class AdminServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger("org.comet4j");

    /** Where CometAppListener maps it, under the context path. */
    static final String MAPPING = "/comet4j/admin";
    static final String NAME = "comet4jAdmin";
    private static final String REGISTERED = AdminServlet.class.getName() + ".registered";
    /** A publish's body, at most. */
    static final int MAX_BODY = 64 * 1024;
    /** How long a stats request waits for Redis to list the nodes. */
    static final int NODES_TIMEOUT_MS = 500;
    /** Members listed per presence channel, at most (memberCount says how many there are). */
    static final int MAX_MEMBERS = 100;
    /** The page's own policy: its script from here, fetches to here, no frame. */
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline';"
            + " connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none';"
            + " frame-ancestors 'none'";

    /** Adds this servlet at {@link #MAPPING} and below to sc, once (as MetricsServlet.register). */
    static void register(ServletContext sc) {
        if (sc.getAttribute(REGISTERED) != null) {
            return;
        }
        try {
            if (sc.getServletRegistration(NAME) == null) {
                ServletRegistration.Dynamic r = sc.addServlet(NAME, AdminServlet.class);
                if (r != null && !r.addMapping(MAPPING + "/*").isEmpty()) {
                    LOG.warning("comet4j: " + MAPPING + " is mapped to another servlet: the admin page is not"
                            + " served there");
                }
            }
            sc.setAttribute(REGISTERED, MAPPING);
        } catch (UnsupportedOperationException | IllegalStateException e) {
            LOG.warning("comet4j: " + CometProtocol.CONFIG_ADMIN + " is set but " + MAPPING
                    + " cannot be registered now (" + e.getMessage() + ")");
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo() == null ? "" : request.getPathInfo();
        boolean file = path.isEmpty() || path.equals("/admin.js");
        CometEngine engine = CometContext.getInstance().getEngine();
        if (!file && !path.equals("/stats")) {
            if (path.equals("/")) { // relative links resolve from .../admin, not .../admin/
                response.sendRedirect(request.getContextPath() + MAPPING);
                return;
            }
            send(response, 404, "text/plain; charset=utf-8", "no such admin resource\n");
            return;
        }
        if (!permitted(engine, request, response, file)) {
            return;
        }
        if (path.isEmpty()) {
            resource(response, "admin/admin.html", "text/html; charset=utf-8");
        } else if (file) {
            resource(response, "admin/admin.js", "text/javascript; charset=utf-8");
        } else {
            Map<String, Object> now;
            try {
                now = snapshot(engine, request.getContextPath());
            } catch (IllegalStateException e) { // stopped meanwhile
                send(response, 503, "text/plain; charset=utf-8", "engine not running\n");
                return;
            }
            json(response, 200, now);
        }
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        CometEngine engine = CometContext.getInstance().getEngine();
        if (!"/publish".equals(request.getPathInfo())) {
            send(response, 404, "text/plain; charset=utf-8", "no such admin resource\n");
            return;
        }
        if (!permitted(engine, request, response, false)) {
            return;
        }
        String type = request.getContentType();
        if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            json(response, 415, error("a publish is application/json: {\"channel\": ..., \"data\": ...}"));
            return;
        }
        if (!sameOrigin(request.getHeader("Origin"), request.getHeader("Host"))) {
            json(response, 403, error("a publish comes from the admin page's own origin"));
            return;
        }
        String body = read(request.getInputStream());
        if (body == null) {
            json(response, 413, error("a publish's body is at most " + MAX_BODY + " bytes"));
            return;
        }
        Object parsed;
        try {
            parsed = JSONUtil.parse(body);
        } catch (RuntimeException e) {
            json(response, 400, error("not JSON: " + e.getMessage()));
            return;
        }
        Object channel = parsed instanceof Map ? ((Map<?, ?>) parsed).get("channel") : null;
        if (!(channel instanceof String) || !((Map<?, ?>) parsed).containsKey("data")) {
            json(response, 400, error("{\"channel\": \"<a registered channel>\", \"data\": <any JSON>} expected"));
            return;
        }
        String ch = (String) channel;
        if (CometContext.getInstance().getChannelOptions(ch) == null) {
            json(response, 404, error("no registered channel " + ch));
            return;
        }
        try {
            engine.sendToAll(ch, ((Map<?, ?>) parsed).get("data"));
        } catch (RuntimeException e) {
            json(response, 503, error("not sent: " + e.getMessage()));
            return;
        }
        LOG.info("comet4j: the admin page published on " + ch + " (from " + request.getRemoteAddr() + ")");
        Map<String, Object> ok = new LinkedHashMap<>();
        ok.put("ok", true);
        ok.put("channel", ch);
        ok.put("subscribers", engine.getMemberCount(ch));
        json(response, 200, ok);
    }

    /**
     * Whether the request may go on; if not, the answer is sent: 404 with
     * Comet.Admin off (the servlet mapped by hand), 503 with the engine
     * stopped, 401 or 403 by {@link MetricsServlet#allowed}.  A file of the
     * page with Comet.Admin=true is for anyone.
     */
    private static boolean permitted(CometEngine engine, HttpServletRequest request, HttpServletResponse response,
            boolean file) throws IOException {
        CometConfig cfg = engine.getConfig();
        if (cfg != null && cfg.getAdmin() == null) {
            send(response, 404, "text/plain; charset=utf-8", "the admin page is off (" + CometProtocol.CONFIG_ADMIN
                    + ")\n");
            return false;
        }
        if (cfg == null || !engine.isRunning()) {
            send(response, 503, "text/plain; charset=utf-8", "engine not running\n");
            return false;
        }
        if (file && "true".equals(cfg.getAdmin())) {
            return true;
        }
        int status = MetricsServlet.allowed(cfg.getAdmin(), cfg.getApiKey(), request.getRemoteAddr(),
                request.getHeader("Authorization"));
        if (status == 0) {
            return true;
        }
        if (status == 401) {
            // Not "Bearer": a browser would then show its own password box for nothing.
            response.setHeader("WWW-Authenticate", "Comet4jKey realm=\"comet4j admin\"");
        }
        json(response, status, error(status == 401 ? "invalid API key" : "address not allowed"));
        return false;
    }

    /** The page's figures now: one model, asked of the engine each time, nothing kept here. */
    static Map<String, Object> snapshot(CometEngine engine, String contextPath) {
        CometConfig cfg = engine.getConfig();
        Figures f = engine.figures();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("time", System.currentTimeMillis());
        out.put("context", contextPath == null || contextPath.isEmpty() ? "/" : contextPath);
        out.put("version", CometContext.getInstance().getVersion());
        out.put("stats", engine.getStats());
        Map<String, Object> hs = new LinkedHashMap<>();
        hs.put("ticketsIssued", f.ticketsIssued.sum());
        hs.put("ticketsAttached", f.ticketsAttached.sum());
        hs.put("ticketsExpiredUnused", f.ticketsExpiredUnused.sum());
        hs.put("beforeConnectRefused", f.beforeConnectRefused.sum());
        out.put("handshakes", hs);
        out.put("online", engine.getOnlineCount());
        List<Map<String, Object>> channels = new ArrayList<>();
        for (String ch : CometContext.getInstance().getAppModules()) {
            ChannelOptions o = CometContext.getInstance().getChannelOptions(ch);
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("name", ch);
            c.put("subscribers", engine.getMemberCount(ch));
            boolean presence = o != null && o.isPresence();
            c.put("presence", presence);
            if (presence) {
                Map<String, String> members = engine.getMembers(ch);
                List<Map<String, Object>> list = new ArrayList<>();
                for (Map.Entry<String, String> m : members.entrySet()) {
                    if (list.size() == MAX_MEMBERS) {
                        break;
                    }
                    Map<String, Object> one = new LinkedHashMap<>();
                    one.put("cId", m.getKey());
                    one.put("user", m.getValue());
                    list.add(one);
                }
                c.put("memberCount", members.size());
                c.put("members", list);
            }
            channels.add(c);
        }
        out.put("channels", channels);
        Map<String, Object> hub = new LinkedHashMap<>();
        hub.put("mode", cfg.isHubRedis() ? "redis" : "local");
        if (cfg.isHubRedis()) {
            hub.put("redis", cfg.getHub());
            hub.put("prefix", cfg.getHubPrefix());
            // null: not known now (the link down, Redis silent for NODES_TIMEOUT_MS)
            hub.put("nodes", engine.cluster().nodes(NODES_TIMEOUT_MS));
        }
        out.put("hub", hub);
        return out;
    }

    /** Whether an Origin header (absent: a same-origin or non-browser client) names host. */
    static boolean sameOrigin(String origin, String host) {
        if (origin == null) {
            return true;
        }
        try {
            URI u = new URI(origin);
            if (u.getHost() == null || host == null) {
                return false;
            }
            String authority = u.getPort() < 0 ? u.getHost() : u.getHost() + ":" + u.getPort();
            return authority.equalsIgnoreCase(host) || u.getPort() < 0
                    && (host.equalsIgnoreCase(u.getHost() + ":80") && "http".equals(u.getScheme())
                        || host.equalsIgnoreCase(u.getHost() + ":443") && "https".equals(u.getScheme()));
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    /** The body as UTF-8, or null when longer than {@link #MAX_BODY}. */
    private static String read(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            b.write(buf, 0, n);
            if (b.size() > MAX_BODY) {
                return null;
            }
        }
        return new String(b.toByteArray(), StandardCharsets.UTF_8);
    }

    private static Map<String, Object> error(String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        return m;
    }

    private static void resource(HttpServletResponse response, String name, String type) throws IOException {
        try (InputStream in = AdminServlet.class.getResourceAsStream(name)) {
            if (in == null) {
                send(response, 500, "text/plain; charset=utf-8", "comet4j: " + name + " missing from the jar\n");
                return;
            }
            response.setHeader("Content-Security-Policy", CSP);
            send(response, 200, type, in.readAllBytes());
        }
    }

    private static void json(HttpServletResponse response, int status, Map<String, Object> body) throws IOException {
        send(response, status, "application/json; charset=utf-8", JSONUtil.map2json(body));
    }

    private static void send(HttpServletResponse response, int status, String type, String text) throws IOException {
        send(response, status, type, text.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpServletResponse response, int status, String type, byte[] body) throws IOException {
        response.setStatus(status);
        response.setContentType(type);
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("X-Frame-Options", "DENY");
        response.setContentLength(body.length);
        try (OutputStream out = response.getOutputStream()) {
            out.write(body);
        }
    }
}
