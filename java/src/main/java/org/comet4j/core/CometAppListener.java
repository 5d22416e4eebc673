package org.comet4j.core;

import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;

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
            StartupChecks.run(sc);
        } catch (RuntimeException | LinkageError e) {
            String msg = "comet4j: start-up failed: " + e.getMessage();
            LOG.log(Level.SEVERE, msg, e);
            sc.log(msg, e);
            CometContext.getInstance().destroy();
            throw e;
        }
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        CometContext.getInstance().destroy();
        event.getServletContext().log("comet4j: stopped");
    }
}
