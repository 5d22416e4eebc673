package org.comet4j.core;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code <context>/comet4j/metrics}: the engine's figures in Prometheus's
 * text format 0.0.4 (docs/metrics.md), the core's
 * ({@code c4j_metrics_text}, one renderer for this servlet, the native
 * port's /metrics and comet4j-node's) with Java's own appended
 * ({@link Figures}).  CometAppListener registers it only when
 * Comet.Metrics allows someone to read: {@code true} opens it to a request
 * with Comet.ApiKey as a bearer ({@code Authorization: Bearer <key>}), a
 * list of addresses to those clients (and to the key, when one is set).
 * Anyone else gets 401 (no key, a wrong key) or 403 (an address not
 * listed); while the engine does not run, 503.
 */
public class MetricsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger("org.comet4j");

    /** Where CometAppListener maps it, under the context path. */
    static final String MAPPING = "/comet4j/metrics";
    static final String NAME = "comet4jMetrics";
    /** Context attribute: register() added (or found) the servlet. */
    private static final String REGISTERED = MetricsServlet.class.getName() + ".registered";

    /**
     * Adds this servlet at {@link #MAPPING} to sc, once (nothing when it is
     * there already).  From a listener the container added itself (web.xml,
     * {@code @WebListener}) or from a ServletContainerInitializer; a
     * listener added by code may not add servlets (the servlet API), and
     * is told so in the log.
     */
    static void register(jakarta.servlet.ServletContext sc) {
        if (sc.getAttribute(REGISTERED) != null) {
            return;
        }
        try {
            if (sc.getServletRegistration(NAME) == null) {
                jakarta.servlet.ServletRegistration.Dynamic r = sc.addServlet(NAME, MetricsServlet.class);
                if (r != null && !r.addMapping(MAPPING).isEmpty()) {
                    LOG.warning("comet4j: " + MAPPING + " is mapped to another servlet: the metrics are not"
                            + " served there");
                }
            }
            sc.setAttribute(REGISTERED, MAPPING);
        } catch (UnsupportedOperationException | IllegalStateException e) {
            LOG.warning("comet4j: " + CometProtocol.CONFIG_METRICS + " is set but " + MAPPING
                    + " cannot be registered now (" + e.getMessage() + ")");
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        CometEngine engine = CometContext.getInstance().getEngine();
        CometConfig cfg = engine.getConfig();
        if (cfg == null || !engine.isRunning()) {
            plain(response, 503, "engine not running\n");
            return;
        }
        int status = allowed(cfg.getMetrics(), cfg.getApiKey(), request.getRemoteAddr(),
                request.getHeader("Authorization"));
        if (status != 0) {
            if (status == 401) {
                response.setHeader("WWW-Authenticate", "Bearer realm=\"comet4j metrics\"");
            }
            plain(response, status, status == 401 ? "invalid API key\n" : "address not allowed\n");
            return;
        }
        String text;
        try {
            text = engine.metricsText();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "comet4j: metrics", e);
            plain(response, 503, "metrics unavailable: " + e.getMessage() + "\n");
            return;
        }
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        response.setStatus(200);
        response.setContentType("text/plain; version=0.0.4; charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(body.length);
        try (OutputStream out = response.getOutputStream()) {
            out.write(body);
        }
    }

    /**
     * 0 when a request from addr with the Authorization header auth may
     * read under spec (CometConfig.getMetrics()), else 401 or 403.  A
     * bearer, when one is sent, must be the key; else the address must be
     * listed.
     */
    static int allowed(String spec, String apiKey, String addr, String auth) {
        if (spec == null) {
            return 404;
        }
        if (auth != null && !auth.isEmpty() && apiKey != null && !apiKey.isEmpty()) {
            return bearerIs(auth, apiKey) ? 0 : 401;
        }
        if ("true".equals(spec)) {
            return 401;
        }
        return listed(spec, addr) ? 0 : 403;
    }

    private static boolean bearerIs(String auth, String key) {
        if (auth.length() < 7 || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] got = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(got, key.getBytes(StandardCharsets.UTF_8));
    }

    private static boolean listed(String spec, String addr) {
        if (addr == null) {
            return false;
        }
        Set<InetAddress> list = new HashSet<>();
        try {
            for (String s : spec.split(",")) {
                list.add(InetAddress.getByName(s)); // IP literals only (CometConfig checked them): no lookup
            }
            InetAddress a = InetAddress.getByName(addr);
            if (list.contains(a)) {
                return true;
            }
            // An IPv4 client seen as ::ffff:a.b.c.d
            byte[] b = a.getAddress();
            if (b.length == 16) {
                byte[] mapped = new byte[16];
                mapped[10] = (byte) 0xff;
                mapped[11] = (byte) 0xff;
                if (Arrays.equals(Arrays.copyOf(b, 12), Arrays.copyOf(mapped, 12))) {
                    return list.contains(InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16)));
                }
            }
        } catch (UnknownHostException e) {
            return false;
        }
        return false;
    }

    private static void plain(HttpServletResponse response, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("text/plain; charset=utf-8");
        response.setContentLength(body.length);
        try (OutputStream out = response.getOutputStream()) {
            out.write(body);
        }
    }
}
