package org.comet4j.core;

import java.util.Objects;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRegistration;

import org.comet4j.core.exception.ConfigException;
import org.comet4j.core.util.CharacterEncodingFilter;

/**
 * Starts and stops comet4j with the web application (register it first in
 * web.xml, or in code with {@link #register(ServletContext, String)}).
 * contextInitialized loads the native library (extracted to
 * {@code Comet.NativeDir}, else java.io.tmpdir: see {@link NativeLoader}),
 * reads the {@code Comet.*} context-params, starts the engine and its
 * dispatcher thread; any failure (a bad parameter, the port in use, no
 * library for this platform, no folder it can be loaded from) is logged
 * with its message and rethrown, which fails the deployment: the webapp
 * does not start.  contextDestroyed
 * stops the engine, joins the dispatcher, frees the native engine and clears
 * the CometContext singleton: nothing (thread, socket, port) stays behind,
 * so a redeploy in the same container works.  A second CometAppListener in
 * the same context (web.xml and Comet.Mapping both) does nothing.
 */
public class CometAppListener implements ServletContextListener {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    /** The handshake's usual mapping: pages call {@code JS.Engine.start('conn')}. */
    public static final String DEFAULT_MAPPING = "/conn";

    /** The servlet name {@link #register(ServletContext, String)} gives CometServlet. */
    public static final String SERVLET_NAME = "CometServlet";

    /** Context attribute: the CometAppListener that started the engine of this context. */
    private static final String STARTED_BY = CometAppListener.class.getName() + ".startedBy";

    /** Context attribute: register() already added a CometAppListener to this context. */
    private static final String REGISTERED = CometAppListener.class.getName() + ".registered";

    /**
     * Registers comet4j in a context without web.xml: a CometAppListener and
     * CometServlet at {@code mapping} (e.g. {@code /conn}).  Call it while the
     * context starts, from a {@code ServletContainerInitializer} (the servlet
     * API lets only those add a ServletContextListener): embedded Tomcat's
     * {@code context.addServletContainerInitializer((c, sc) -> CometAppListener.register(sc, "/conn"), null)},
     * Spring Boot's {@code ServletContextInitializer} bean, or the jar's own
     * {@link CometInitializer} (context-param {@code Comet.Mapping}).  The
     * listener added here runs after those declared in web.xml or with
     * {@code @WebListener}; registering channels and listeners works before
     * the engine starts, sending does not.  A CometServlet already declared
     * (web.xml) gets the mapping added instead of a second servlet; calling
     * this twice adds one listener.
     * @return CometServlet's registration (add mappings, set init parameters)
     * @throws ConfigException (naming Comet.Mapping) if mapping is not a URL pattern
     * @throws IllegalStateException if the mapping belongs to another servlet,
     *         or a servlet of another class is named CometServlet
     */
    public static ServletRegistration register(ServletContext sc, String mapping) {
        Objects.requireNonNull(sc, "sc");
        String m = checkMapping(mapping);
        ServletRegistration servlet = null;
        for (ServletRegistration r : sc.getServletRegistrations().values()) {
            if (CometServlet.class.getName().equals(r.getClassName())) {
                servlet = r;
                break;
            }
        }
        if (servlet == null) {
            servlet = sc.addServlet(SERVLET_NAME, CometServlet.class);
            if (servlet == null) {
                throw new IllegalStateException("comet4j: a servlet named " + SERVLET_NAME
                        + " of another class (" + sc.getServletRegistration(SERVLET_NAME).getClassName()
                        + ") exists in this context");
            }
        }
        if (!servlet.getMappings().contains(m) && !servlet.addMapping(m).isEmpty()) {
            throw new IllegalStateException("comet4j: " + m + " is mapped to another servlet");
        }
        // The listener added below may not add servlets: these are added now, when set.
        if (isSet(sc.getInitParameter(CometProtocol.CONFIG_METRICS))) {
            MetricsServlet.register(sc);
        }
        if (isSet(sc.getInitParameter(CometProtocol.CONFIG_ADMIN))) {
            AdminServlet.register(sc);
        }
        if (sc.getAttribute(REGISTERED) == null) {
            sc.addListener(new CometAppListener());
            sc.setAttribute(REGISTERED, m);
        }
        return servlet;
    }

    /** Whether a Comet.Metrics or Comet.Admin value turns it on (CometConfig checks it further). */
    private static boolean isSet(String v) {
        return v != null && !v.trim().isEmpty() && !v.trim().equalsIgnoreCase("false");
    }

    /** {@link #register(ServletContext, String)} at {@link #DEFAULT_MAPPING}. */
    public static ServletRegistration register(ServletContext sc) {
        return register(sc, DEFAULT_MAPPING);
    }

    /** A servlet URL pattern: /path, /path/*, *.ext; no spaces. */
    static String checkMapping(String mapping) {
        String m = mapping == null ? "" : mapping.trim();
        boolean ok = (m.startsWith("/") || m.startsWith("*.") && m.length() > 2)
                && m.chars().noneMatch(ch -> ch <= ' ' || ch == 0x7f)
                && (m.indexOf('*') < 0 || m.startsWith("*.") && m.indexOf('*', 1) < 0
                        || m.endsWith("/*") && m.indexOf('*') == m.length() - 1);
        if (!ok) {
            throw new ConfigException(CometProtocol.CONFIG_MAPPING,
                    "not a servlet URL pattern (/conn, /push/*, *.comet): '" + mapping + "'");
        }
        return m;
    }

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext sc = event.getServletContext();
        if (sc.getAttribute(STARTED_BY) != null) {
            LOG.info("comet4j: a CometAppListener already runs in this context; this second one does nothing"
                    + " (CometAppListener in web.xml and Comet.Mapping, or registered twice)");
            return;
        }
        try {
            // First, and from Comet.NativeDir: where the library is extracted.
            NativeLoader.load(sc.getInitParameter(NativeLoader.PARAM));
            CometContext.getInstance().init(event);
            CometConfig cfg = CometContext.getInstance().getConfig();
            sc.setAttribute(STARTED_BY, this);
            if (cfg.isMetricsEnabled()) {
                MetricsServlet.register(sc); // <context>/comet4j/metrics (docs/metrics.md)
            }
            if (cfg.isAdminEnabled()) {
                AdminServlet.register(sc); // <context>/comet4j/admin (docs/metrics.md)
            }
            LOG.info(cfg.isOnePort() ? Language.text(cfg.getLocale(), "StartedOnePort", sc.getContextPath())
                    : Language.text(cfg.getLocale(), "Started", CometContext.getInstance().getPort()));
            StartupChecks.run(sc);
            if (cfg.isOnePort()) {
                asyncSupported(sc);
                // Which way each connector's pages take, and why (docs/protocol.md section 10).
                for (String line : Takeover.connectors(sc)) {
                    LOG.info("comet4j: " + line);
                }
            }
        } catch (RuntimeException | LinkageError e) {
            String msg = Language.t("StartFailed", e.getMessage());
            LOG.log(Level.SEVERE, msg, e);
            CometContext.getInstance().destroy();
            throw e;
        }
    }

    /**
     * The container way streams SSE and long-poll answers on async
     * responses: CometServlet and comet4j's own filters are made
     * async-supported here, so that a Comet4J web.xml needs no
     * {@code <async-supported>} (a filter of the application's own on the
     * servlet's path still needs it, or ContainerWay says so).
     */
    static void asyncSupported(ServletContext sc) {
        try {
            for (ServletRegistration r : sc.getServletRegistrations().values()) {
                if (r instanceof ServletRegistration.Dynamic && ours(sc, r.getClassName(), CometServlet.class)) {
                    ((ServletRegistration.Dynamic) r).setAsyncSupported(true);
                }
            }
            for (FilterRegistration r : sc.getFilterRegistrations().values()) {
                if (r instanceof FilterRegistration.Dynamic
                        && ours(sc, r.getClassName(), CharacterEncodingFilter.class)) {
                    ((FilterRegistration.Dynamic) r).setAsyncSupported(true);
                }
            }
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "comet4j: cannot mark the servlet async-supported", e);
        }
    }

    private static boolean ours(ServletContext sc, String className, Class<?> k) {
        if (className == null) {
            return false;
        }
        if (className.equals(k.getName())) {
            return true;
        }
        try {
            return k.isAssignableFrom(Class.forName(className, false, sc.getClassLoader()));
        } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
            return false;
        }
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        ServletContext sc = event.getServletContext();
        Object owner = sc.getAttribute(STARTED_BY);
        if (owner != null && owner != this) {
            return; // the second one of a context: the first stops the engine
        }
        CometContext.getInstance().destroy(); // logs "stopped"
        sc.removeAttribute(STARTED_BY);
    }
}
