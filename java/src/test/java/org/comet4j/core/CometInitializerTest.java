package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EventListener;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.servlet.ServletContainerInitializer;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRegistration;

import org.comet4j.core.exception.ConfigException;
import org.junit.jupiter.api.Test;

/**
 * Registration without web.xml: CometInitializer (the jar's
 * ServletContainerInitializer, on with Comet.Mapping only) and
 * CometAppListener.register, against a fake container context that keeps
 * servlets, mappings, listeners and attributes as a container does.  The
 * same file runs in the javax module (javax.servlet), where it also proves
 * the rewritten META-INF/services name.
 */
class CometInitializerTest {

    /** What a container keeps for one context while it starts. */
    static final class Container {
        final Map<String, String> params = new HashMap<>();
        final Map<String, Object> attributes = new HashMap<>();
        final Map<String, String> servletClasses = new LinkedHashMap<>(); // name -> class
        final Map<String, String> mappings = new HashMap<>();             // pattern -> name
        final List<EventListener> listeners = new ArrayList<>();
        final List<String> log = new ArrayList<>();
        final ServletContext sc = (ServletContext) Proxy.newProxyInstance(
                CometInitializerTest.class.getClassLoader(), new Class<?>[] {ServletContext.class},
                (proxy, m, a) -> {
                    switch (m.getName()) {
                        case "getInitParameterNames": return Collections.enumeration(params.keySet());
                        case "getInitParameter": return params.get((String) a[0]);
                        case "getAttribute": return attributes.get((String) a[0]);
                        case "setAttribute": attributes.put((String) a[0], a[1]); return null;
                        case "removeAttribute": attributes.remove((String) a[0]); return null;
                        case "log": log.add((String) a[0]); return null;
                        case "addListener":
                            listeners.add((EventListener) a[0]);
                            return null;
                        case "addServlet": {
                            String name = (String) a[0];
                            if (servletClasses.containsKey(name)) {
                                return null; // the servlet API: null when the name is taken
                            }
                            servletClasses.put(name, a[1] instanceof Class ? ((Class<?>) a[1]).getName()
                                    : a[1] instanceof String ? (String) a[1] : a[1].getClass().getName());
                            return registration(name);
                        }
                        case "getServletRegistration":
                            return servletClasses.containsKey((String) a[0]) ? registration((String) a[0]) : null;
                        case "getServletRegistrations": {
                            Map<String, ServletRegistration> all = new LinkedHashMap<>();
                            for (String name : servletClasses.keySet()) {
                                all.put(name, registration(name));
                            }
                            return all;
                        }
                        default: return null;
                    }
                });

        /** A servlet as declared in web.xml. */
        void declare(String name, String className, String... patterns) {
            servletClasses.put(name, className);
            for (String p : patterns) {
                mappings.put(p, name);
            }
        }

        ServletRegistration.Dynamic registration(String name) {
            return (ServletRegistration.Dynamic) Proxy.newProxyInstance(
                    CometInitializerTest.class.getClassLoader(),
                    new Class<?>[] {ServletRegistration.Dynamic.class}, (proxy, m, a) -> {
                        switch (m.getName()) {
                            case "getName": return name;
                            case "getClassName": return servletClasses.get(name);
                            case "getMappings": {
                                Collection<String> mine = new LinkedHashSet<>();
                                mappings.forEach((p, n) -> { if (n.equals(name)) mine.add(p); });
                                return mine;
                            }
                            case "addMapping": {
                                // As Tomcat: a pattern mapped already (to any servlet) is a conflict.
                                Set<String> conflicts = new LinkedHashSet<>();
                                for (String p : (String[]) a[0]) {
                                    if (mappings.containsKey(p)) {
                                        conflicts.add(p);
                                    }
                                }
                                if (conflicts.isEmpty()) {
                                    for (String p : (String[]) a[0]) {
                                        mappings.put(p, name);
                                    }
                                }
                                return conflicts;
                            }
                            default: return null;
                        }
                    });
        }

        long cometListeners() {
            return listeners.stream().filter(l -> l instanceof CometAppListener).count();
        }
    }

    @Test
    void withoutCometMappingTheInitializerDoesNothing() throws ServletException {
        Container c = new Container();
        c.params.put("Comet.Port", "4100");
        new CometInitializer().onStartup(Collections.emptySet(), c.sc);
        c.params.put("Comet.Mapping", "  ");
        new CometInitializer().onStartup(null, c.sc);
        assertTrue(c.servletClasses.isEmpty(), c.servletClasses.toString());
        assertTrue(c.listeners.isEmpty());
        assertTrue(c.attributes.isEmpty());
        assertTrue(c.log.isEmpty(), c.log.toString());
    }

    @Test
    void cometMappingRegistersTheListenerAndTheServlet() throws ServletException {
        Container c = new Container();
        c.params.put("Comet.Mapping", " /conn ");
        try (LogCapture jul = new LogCapture("org.comet4j")) {
            new CometInitializer().onStartup(Collections.emptySet(), c.sc);
            assertEquals(1, jul.containing("CometServlet at /conn registered (Comet.Mapping)").size(),
                    jul.messages().toString());
        }
        assertEquals(Map.of("CometServlet", CometServlet.class.getName()), c.servletClasses);
        assertEquals(Map.of("/conn", "CometServlet"), c.mappings);
        assertEquals(1, c.listeners.size());
        assertInstanceOf(CometAppListener.class, c.listeners.get(0));
    }

    @Test
    void aBadCometMappingFailsTheDeploymentNamingIt() {
        for (String bad : new String[] {"conn", "/co nn", "/*/x", "*.", "/a*"}) {
            Container c = new Container();
            c.params.put("Comet.Mapping", bad);
            ServletException e = assertThrows(ServletException.class,
                    () -> new CometInitializer().onStartup(Collections.emptySet(), c.sc), bad);
            ConfigException cause = assertInstanceOf(ConfigException.class, e.getCause(), bad);
            assertEquals("Comet.Mapping", cause.getParameter());
            assertTrue(e.getMessage().startsWith("comet4j: start-up failed: Comet.Mapping: not a servlet URL pattern"),
                    e.getMessage());
            assertTrue(c.servletClasses.isEmpty() && c.listeners.isEmpty(), bad);
        }
    }

    @Test
    void registerAcceptsTheServletApisPatternForms() {
        for (String ok : new String[] {"/conn", "/push/*", "*.comet", "/", "/a/b/conn"}) {
            Container c = new Container();
            ServletRegistration r = CometAppListener.register(c.sc, ok);
            assertEquals(Set.of(ok), Set.copyOf(r.getMappings()), ok);
        }
    }

    @Test
    void registerTwiceAddsOneListenerAndOneServlet() {
        Container c = new Container();
        ServletRegistration first = CometAppListener.register(c.sc);
        ServletRegistration again = CometAppListener.register(c.sc, "/conn");
        assertEquals("CometServlet", first.getName());
        assertEquals("CometServlet", again.getName());
        assertEquals(1, c.cometListeners());
        assertEquals(Map.of("/conn", "CometServlet"), c.mappings);
        CometAppListener.register(c.sc, "/push/*"); // a second mapping for the same servlet
        assertEquals(Map.of("/conn", "CometServlet", "/push/*", "CometServlet"), c.mappings);
        assertEquals(1, c.cometListeners());
    }

    @Test
    void aCometServletFromWebXmlGetsTheMappingInsteadOfASecondServlet() {
        Container c = new Container();
        c.declare("push", CometServlet.class.getName(), "/old");
        ServletRegistration r = CometAppListener.register(c.sc, "/conn");
        assertEquals("push", r.getName());
        assertEquals(Map.of("push", CometServlet.class.getName()), c.servletClasses);
        assertEquals(Map.of("/old", "push", "/conn", "push"), c.mappings);
        c.declare("other", "com.example.Other", "/taken");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> CometAppListener.register(c.sc, "/taken"));
        assertEquals("comet4j: /taken is mapped to another servlet", e.getMessage());
    }

    @Test
    void aServletOfAnotherClassNamedCometServletIsAnError() {
        Container c = new Container();
        c.declare("CometServlet", "com.example.Mine");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> CometAppListener.register(c.sc, "/conn"));
        assertTrue(e.getMessage().contains("com.example.Mine"), e.getMessage());
        assertTrue(c.listeners.isEmpty());
    }

    /** web.xml's CometAppListener and Comet.Mapping's both: one engine, stopped once, by its owner. */
    @Test
    void aSecondCometAppListenerInTheSameContextDoesNothing() {
        Container c = new Container();
        c.params.put("Comet.Port", "0");
        c.params.put("Comet.Host", "127.0.0.1");
        ServletContextEvent ev = new ServletContextEvent(c.sc);
        CometAppListener declared = new CometAppListener();
        CometAppListener registered = new CometAppListener();
        declared.contextInitialized(ev);
        try {
            CometContext cc = CometContext.getInstance();
            assertTrue(cc.getEngine().isRunning());
            try (LogCapture jul = new LogCapture("org.comet4j")) {
                registered.contextInitialized(ev); // would throw "already initialized" without the guard
                assertEquals(1, jul.containing("this second one does nothing").size(), jul.messages().toString());
            }
            registered.contextDestroyed(ev);    // destroyed first (reverse order): must not stop it
            assertSame(cc, CometContext.getInstance());
            assertTrue(cc.getEngine().isRunning());
        } finally {
            declared.contextDestroyed(ev);
        }
        assertFalse(CometContext.getInstance().isInit());
        assertTrue(c.attributes.isEmpty(), c.attributes.toString());
    }

    /** The jar names the initializer under the servlet API's own name (javax's in the javax jar). */
    @Test
    void theServiceFileNamesCometInitializer() {
        List<Class<?>> found = new ArrayList<>();
        for (ServletContainerInitializer sci : ServiceLoader.load(ServletContainerInitializer.class,
                CometInitializerTest.class.getClassLoader())) {
            found.add(sci.getClass());
        }
        assertEquals(List.of(CometInitializer.class), found);
    }

    /** version.properties is filtered: getVersion() is the root POM's version. */
    @Test
    void theVersionIsTheParentPomsVersion() throws Exception {
        String pom = Files.readString(Path.of("../pom.xml"));
        Matcher m = Pattern.compile("<artifactId>comet4j-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(pom);
        assertTrue(m.find(), "no version in ../pom.xml");
        String version = CometContext.getInstance().getVersion();
        assertNotNull(version);
        assertEquals(m.group(1), version);
        assertEquals(version, CometContext.getInstance().version);
        CometContext.getInstance().destroy();
    }
}
