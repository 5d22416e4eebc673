package org.comet4j.core;

import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRegistration;

import org.comet4j.core.util.CharacterEncodingFilter;

/**
 * Starts and stops comet4j with the web application (register it first in
 * web.xml).  contextInitialized reads the {@code Comet.*} context-params,
 * loads the native library, starts the engine and its dispatcher thread;
 * any failure (a bad parameter, the port in use, no library) is logged with
 * its cause and rethrown, which fails the deployment.  contextDestroyed
 * stops the engine, joins the dispatcher, frees the native engine and clears
 * the CometContext singleton: nothing (thread, socket, port) stays behind,
 * so a redeploy in the same container works.
 */
public class CometAppListener implements ServletContextListener {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext sc = event.getServletContext();
        try {
            CometConfig cfg = CometConfig.fromServletContext(sc);
            CometContext.getInstance().init(cfg);
            sc.log(cfg.isOnePort() ? "comet4j: started, one port (pages attach through " + sc.getContextPath()
                    + "'s own URL)" : "comet4j: started, native port " + CometContext.getInstance().getPort());
            if (cfg.isOnePort()) {
                asyncSupported(sc);
                // Which way each connector's pages take, and why (docs/protocol.md section 10).
                for (String line : Takeover.connectors(sc)) {
                    LOG.info("comet4j: " + line);
                }
            }
        } catch (RuntimeException | LinkageError e) {
            String msg = "comet4j: start-up failed: " + e.getMessage();
            LOG.log(Level.SEVERE, msg, e);
            sc.log(msg, e);
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
        CometContext.getInstance().destroy();
        event.getServletContext().log("comet4j: stopped");
    }
}
