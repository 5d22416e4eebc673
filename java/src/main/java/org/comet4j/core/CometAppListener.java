package org.comet4j.core;

import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;

/**
 * Starts and stops comet4j with the web application (register it first in
 * web.xml).  contextInitialized loads the native library (extracted to
 * {@code Comet.NativeDir}, else java.io.tmpdir: see {@link NativeLoader}),
 * reads the {@code Comet.*} context-params, starts the engine and its
 * dispatcher thread; any failure (a bad parameter, the port in use, no
 * library for this platform, no folder it can be loaded from) is logged
 * with its message and rethrown, which fails the deployment: the webapp
 * does not start.  contextDestroyed
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
            // First, and from Comet.NativeDir: where the library is extracted.
            NativeLoader.load(sc.getInitParameter(NativeLoader.PARAM));
            CometConfig cfg = CometConfig.fromServletContext(sc);
            CometContext.getInstance().init(cfg);
            sc.log("comet4j: started, native port " + CometContext.getInstance().getPort());
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
