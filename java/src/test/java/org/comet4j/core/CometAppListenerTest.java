package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;

import org.comet4j.core.exception.ConfigException;
import org.junit.jupiter.api.Test;

/** The servlet listener's start and stop, with a fake ServletContext; and a second class loader. */
class CometAppListenerTest {

    static ServletContext context(Map<String, String> params, List<String> log) {
        return (ServletContext) Proxy.newProxyInstance(getClass(CometAppListenerTest.class),
                new Class<?>[] {ServletContext.class}, (proxy, m, a) -> {
                    switch (m.getName()) {
                        case "getInitParameterNames": return Collections.enumeration(params.keySet());
                        case "getInitParameter": return params.get((String) a[0]);
                        case "log": log.add((String) a[0]); return null;
                        default: return null;
                    }
                });
    }

    private static ClassLoader getClass(Class<?> c) {
        return c.getClassLoader();
    }

    @Test
    void startsAndStops() {
        Map<String, String> p = new HashMap<>();
        p.put("Comet.Port", "0");
        p.put("Comet.Host", "127.0.0.1");
        List<String> log = new ArrayList<>();
        ServletContextEvent ev = new ServletContextEvent(context(p, log));
        CometAppListener l = new CometAppListener();
        try (LogCapture jul = new LogCapture("org.comet4j")) {
            l.contextInitialized(ev);
            try {
                assertTrue(CometContext.getInstance().isInit());
                assertTrue(CometContext.getInstance().getEngine().isRunning());
                assertTrue(CometContext.getInstance().getPort() > 0);
                assertEquals(1, jul.containing("comet4j: started").size(), jul.messages().toString());
            } finally {
                l.contextDestroyed(ev);
            }
            assertFalse(CometContext.getInstance().isInit());
            List<String> m = jul.messages();
            assertTrue(m.get(m.size() - 1).contains("stopped"), m.toString());
            // Everything through java.util.logging, nothing to the servlet context's log.
            assertEquals(List.of(), log);
        }
    }

    @Test
    void badParameterFailsDeploymentNamingIt() {
        List<String> log = new ArrayList<>();
        ServletContextEvent ev = new ServletContextEvent(context(Map.of("Comet.Port", "abc"), log));
        try (LogCapture jul = new LogCapture("org.comet4j")) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> new CometAppListener().contextInitialized(ev));
            assertEquals("Comet.Port: not a number: 'abc'", e.getMessage());
            assertEquals(1, jul.containing("Comet.Port: not a number: 'abc'").size(), jul.messages().toString());
            assertEquals(java.util.logging.Level.SEVERE, jul.containing("Comet.Port").get(0).getLevel());
        }
        assertFalse(CometContext.getInstance().isInit());
    }

    /**
     * Two web applications (two class loaders) each load their own copy of
     * the library and run their own engine at the same time.
     */
    @Test
    void secondClassLoaderLoadsItsOwnLibrary() throws Exception {
        URL classes = Path.of("target/classes").toUri().toURL();
        URL servlet = ServletContext.class.getProtectionDomain().getCodeSource().getLocation();
        Harness.start(Map.of(), "a");
        try (URLClassLoader webapp = new URLClassLoader(new URL[] {classes, servlet},
                ClassLoader.getPlatformClassLoader())) {
            Class<?> ctx = webapp.loadClass("org.comet4j.core.CometContext");
            Class<?> cfg = webapp.loadClass("org.comet4j.core.CometConfig");
            assertNotEquals(CometContext.class, ctx);
            Object config = cfg.getMethod("parse", Map.class)
                    .invoke(null, Map.of("Comet.Port", "0", "Comet.Host", "127.0.0.1"));
            Object instance = ctx.getMethod("getInstance").invoke(null);
            ctx.getMethod("init", cfg).invoke(instance, config);
            try {
                int port = (Integer) ctx.getMethod("getPort").invoke(instance);
                assertTrue(port > 0);
                assertNotEquals(Harness.engine().getPort(), port);
            } finally {
                ctx.getMethod("destroy").invoke(instance);
            }
        } finally {
            Harness.stop();
        }
    }
}
