package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRegistration;

import org.junit.jupiter.api.Test;

/** The start-up checks: a CometServlet mapped or not, the jar's place. */
class StartupChecksTest {

    private static ServletRegistration reg(String className, String... mappings) {
        return (ServletRegistration) Proxy.newProxyInstance(StartupChecksTest.class.getClassLoader(),
                new Class<?>[] {ServletRegistration.class}, (p, m, a) -> {
                    switch (m.getName()) {
                        case "getClassName": return className;
                        case "getMappings": return List.of(mappings);
                        default: return null;
                    }
                });
    }

    private static ServletContext context(Object regs, List<String> log) {
        return context(regs, log, StartupChecksTest.class.getClassLoader());
    }

    private static ServletContext context(Object regs, List<String> log, ClassLoader loader) {
        return (ServletContext) Proxy.newProxyInstance(StartupChecksTest.class.getClassLoader(),
                new Class<?>[] {ServletContext.class}, (p, m, a) -> {
                    switch (m.getName()) {
                        case "getServletRegistrations":
                            if (regs instanceof RuntimeException) {
                                throw (RuntimeException) regs;
                            }
                            return regs;
                        case "getContextPath": return "/shop";
                        case "getClassLoader": return loader;
                        case "log": log.add((String) a[0]); return null;
                        default: return null;
                    }
                });
    }

    /** A subclass counts, as Comet4J's servlet names do. */
    public static class MyServlet extends CometServlet {
        private static final long serialVersionUID = 1L;
    }

    @Test
    void noCometServletMappedIsTold() {
        List<String> log = new ArrayList<>();
        List<String> said;
        List<String> warned;
        try (LogCapture jul = new LogCapture("org.comet4j")) {
            said = StartupChecks.run(context(Map.of("default", reg("org.apache.catalina.servlets"
                    + ".DefaultServlet", "/"), "comet", reg(CometServlet.class.getName())), log));
            warned = jul.messages();
        }
        assertEquals(1, said.size(), said.toString());
        assertTrue(said.get(0).contains("no CometServlet is mapped in /shop"), said.get(0));
        assertTrue(said.get(0).contains("map org.comet4j.core.CometServlet at /conn"), said.get(0));
        assertEquals(said, warned, "through java.util.logging");
        assertEquals(List.of(), log, "nothing to the servlet context's log");
    }

    @Test
    void aMappedCometServletOrSubclassIsFine() {
        assertEquals("/conn", StartupChecks.mapping(context(Map.of("c", reg(CometServlet.class.getName(),
                "/conn")), new ArrayList<>())));
        assertEquals("/push/*", StartupChecks.mapping(context(Map.of("c", reg(MyServlet.class.getName(),
                "/push/*")), new ArrayList<>())));
        assertEquals(List.of(), StartupChecks.run(context(Map.of("c", reg(MyServlet.class.getName(), "/c")),
                new ArrayList<>())));
    }

    @Test
    void aContainerThatDoesNotTellIsNotBlamed() {
        assertNull(StartupChecks.mapping(context(new UnsupportedOperationException(), new ArrayList<>())));
        assertEquals(List.of(), StartupChecks.run(context(new UnsupportedOperationException(),
                new ArrayList<>())));
        // Loaded by the webapp's own loader (here: the tests'): not shared.
        assertNull(StartupChecks.sharedJar(context(Map.of(), new ArrayList<>())));
    }

    @Test
    void theJarInTomcatsLibIsTold() throws Exception {
        // Where the jar's classes are, taken for Tomcat's lib/ through a
        // link: catalina.base/lib -> their parent folder.
        java.io.File classes = new java.io.File(CometContext.class.getProtectionDomain().getCodeSource()
                .getLocation().toURI()).getCanonicalFile();
        java.nio.file.Path base = java.nio.file.Files.createTempDirectory("c4j-base");
        java.nio.file.Files.createSymbolicLink(base.resolve("lib"), classes.getParentFile().toPath());
        String old = System.getProperty("catalina.base");
        System.setProperty("catalina.base", base.toString());
        try (java.net.URLClassLoader webapp = new java.net.URLClassLoader(new java.net.URL[0])) {
            List<String> log = new ArrayList<>();
            List<String> said = StartupChecks.run(context(Map.of("c", reg(CometServlet.class.getName(), "/conn")),
                    log, webapp));
            assertEquals(1, said.size(), said.toString());
            assertTrue(said.get(0).contains("in the container's lib/, not in /shop's WEB-INF/lib"), said.get(0));
            assertTrue(said.get(0).contains(classes.getPath()), said.get(0));
        } finally {
            if (old == null) {
                System.clearProperty("catalina.base");
            } else {
                System.setProperty("catalina.base", old);
            }
            java.nio.file.Files.delete(base.resolve("lib"));
            java.nio.file.Files.delete(base);
        }
    }
}
