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
            CometContext.getInstance().init(event);
            CometConfig cfg = CometContext.getInstance().getConfig();
            sc.log(cfg.isOnePort() ? Language.text(cfg.getLocale(), "StartedOnePort", sc.getContextPath())
                    : Language.text(cfg.getLocale(), "Started", CometContext.getInstance().getPort()));
        } catch (RuntimeException | LinkageError e) {
            String msg = Language.t("StartFailed", e.getMessage());
            LOG.log(Level.SEVERE, msg, e);
            sc.log(msg, e);
            CometContext.getInstance().destroy();
            throw e;
        }
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        java.util.Locale l = CometContext.getInstance().getLocale(); // before destroy forgets the instance
        CometContext.getInstance().destroy();
        event.getServletContext().log(Language.text(l, "Stopped"));
    }
}
