package org.comet4j.core;

import java.util.Map;
import java.util.logging.Logger;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRegistration;

/**
 * What can keep pages from connecting although the engine started, checked
 * once when the webapp starts, each found told in one log line that names
 * the fix: no CometServlet mapped (pages would get 404 on the handshake),
 * and the jar in Tomcat's own lib/ (every webapp would share one
 * CometContext and one engine).
 */
final class StartupChecks {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    private StartupChecks() {}

    /** Runs every check; returns the lines it logged (for tests). */
    static java.util.List<String> run(ServletContext sc) {
        java.util.List<String> out = new java.util.ArrayList<>();
        try {
            check(sc, out);
        } catch (RuntimeException e) {
            // A container that does not tell (a listener added in code may
            // not ask for the class loader or the registrations): nothing
            // to say, and never a failed start-up for a check.
        }
        for (String line : out) {
            LOG.warning(line);
        }
        return out;
    }

    private static void check(ServletContext sc, java.util.List<String> out) {
        String mapping = mapping(sc);
        if ("".equals(mapping)) {
            out.add("comet4j: no CometServlet is mapped in " + name(sc) + ": pages cannot connect (their"
                    + " handshake gets 404); map org.comet4j.core.CometServlet at /conn in web.xml");
        }
        String shared = sharedJar(sc);
        if (shared != null) {
            out.add("comet4j: the comet4j jar is " + shared + ", in the container's lib/, not in " + name(sc)
                    + "'s WEB-INF/lib: every webapp of this Tomcat shares one CometContext and one engine;"
                    + " put the jar in WEB-INF/lib of each webapp instead");
        }
    }

    /**
     * The URL patterns of the CometServlets (or of their subclasses), "" when
     * none is mapped, null when the container does not tell (a listener
     * added in code may not ask).
     */
    static String mapping(ServletContext sc) {
        Map<String, ? extends ServletRegistration> regs;
        try {
            regs = sc.getServletRegistrations();
        } catch (UnsupportedOperationException | IllegalStateException e) {
            return null;
        }
        if (regs == null) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        for (ServletRegistration r : regs.values()) {
            if (isCometServlet(r.getClassName(), sc.getClassLoader())) {
                for (String m : r.getMappings()) {
                    b.append(b.length() == 0 ? "" : ",").append(m);
                }
            }
        }
        return b.toString();
    }

    private static boolean isCometServlet(String className, ClassLoader loader) {
        if (className == null) {
            return false;
        }
        if (className.equals(CometServlet.class.getName())) {
            return true;
        }
        try {
            Class<?> c = Class.forName(className, false, loader != null ? loader : CometServlet.class
                    .getClassLoader());
            return CometServlet.class.isAssignableFrom(c);
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * The jar's path when Tomcat's own lib/ (catalina.home's or
     * catalina.base's) holds it and the webapp did not load it itself; else
     * null (WEB-INF/lib, an embedded server's class path, tests).
     */
    static String sharedJar(ServletContext sc) {
        if (sc.getClassLoader() == CometContext.class.getClassLoader()) {
            return null;
        }
        String where;
        try {
            java.security.CodeSource cs = CometContext.class.getProtectionDomain().getCodeSource();
            where = cs == null || cs.getLocation() == null ? null
                    : new java.io.File(cs.getLocation().toURI()).getCanonicalPath();
        } catch (Exception e) { // SecurityException, URISyntaxException, IOException
            return null;
        }
        if (where == null) {
            return null;
        }
        for (String prop : new String[] {"catalina.home", "catalina.base"}) {
            String dir = System.getProperty(prop);
            try {
                if (dir != null && where.startsWith(new java.io.File(dir, "lib").getCanonicalPath()
                        + java.io.File.separator)) {
                    return where;
                }
            } catch (java.io.IOException e) {
                // an odd property: not Tomcat's lib/
            }
        }
        return null;
    }

    private static String name(ServletContext sc) {
        String p = sc.getContextPath();
        return p == null || p.isEmpty() ? "the root webapp" : p;
    }
}
