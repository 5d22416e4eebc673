package org.comet4j.core;

import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.ServletContainerInitializer;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;

/**
 * The jar's ServletContainerInitializer (META-INF/services): registers
 * CometAppListener and CometServlet when the context-param
 * {@code Comet.Mapping} gives the servlet's URL pattern, for applications
 * that have no web.xml or leave those lines out of it.  Without the
 * parameter it does nothing at all, so an application that declares them in
 * web.xml is unchanged.  The parameter can come from web.xml, from the
 * container's context configuration (Tomcat: {@code <Parameter>} in
 * context.xml, or {@code Context.addParameter} when embedded) or from a
 * {@code web-fragment.xml}.  A bad value fails the deployment with a message
 * naming Comet.Mapping.  Spring Boot's embedded containers run no
 * initializer found in jars: register the two beans instead (README).
 */
public class CometInitializer implements ServletContainerInitializer {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    @Override
    public void onStartup(Set<Class<?>> classes, ServletContext sc) throws ServletException {
        String mapping = sc.getInitParameter(CometProtocol.CONFIG_MAPPING);
        if (mapping == null || mapping.trim().isEmpty()) {
            return;
        }
        try {
            CometAppListener.register(sc, mapping);
        } catch (RuntimeException e) {
            String msg = "comet4j: start-up failed: " + e.getMessage();
            LOG.log(Level.SEVERE, msg, e);
            throw new ServletException(msg, e);
        }
        LOG.info("comet4j: CometAppListener and CometServlet at " + mapping.trim()
                + " registered (" + CometProtocol.CONFIG_MAPPING + ")");
    }
}
