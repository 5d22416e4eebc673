package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import javax.management.MBeanAttributeInfo;
import javax.management.MBeanException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.ReflectionException;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXServiceURL;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's MBean read and driven through a real JMX connector (RMI, on
 * an ephemeral loopback port of this JVM's platform MBean server, as
 * jconsole reaches Tomcat's): its figures are getStats()', its operations
 * reach a real page, and it comes and goes with the engine.
 */
class EngineMBeanTest {

    static final String[] ONE = {String.class.getName()};
    static final String[] TWO = {String.class.getName(), String.class.getName()};

    static JMXConnectorServer server;
    static JMXConnector connector;
    static MBeanServerConnection jmx;
    static final ObjectName NAME = EngineMBean.nameOf(null);

    @BeforeAll
    static void connect() throws Exception {
        server = JMXConnectorServerFactory.newJMXConnectorServer(new JMXServiceURL("service:jmx:rmi://127.0.0.1"),
                null, ManagementFactory.getPlatformMBeanServer());
        server.start();
        connector = JMXConnectorFactory.connect(server.getAddress());
        jmx = connector.getMBeanServerConnection();
    }

    @AfterAll
    static void disconnect() throws Exception {
        connector.close();
        server.stop();
    }

    static Set<ObjectName> engines() throws Exception {
        return jmx.queryNames(new ObjectName("org.comet4j:type=Engine,*"), null);
    }

    static Object await(String attribute, Object want) throws Exception {
        long end = System.currentTimeMillis() + 10000;
        Object v = jmx.getAttribute(NAME, attribute);
        while (!want.equals(v) && System.currentTimeMillis() < end) {
            Thread.sleep(20);
            v = jmx.getAttribute(NAME, attribute);
        }
        return v;
    }

    @Test
    void figuresAndOperationsThroughAConnector() throws Exception {
        assertEquals(Set.of(), engines(), "no engine, no MBean");
        Harness.start(Map.of(), "news", "other");
        try {
            assertEquals(Set.of(NAME), engines());
            assertEquals("org.comet4j:type=Engine,context=none", NAME.toString());

            // Every figure of getStats() is an attribute of that name.
            Set<String> attrs = new HashSet<>();
            for (MBeanAttributeInfo a : jmx.getMBeanInfo(NAME).getAttributes()) {
                attrs.add(a.getName());
            }
            Set<String> figures = Harness.engine().getStats().keySet();
            assertTrue(attrs.containsAll(figures), "missing: " + figures + " in " + attrs);
            assertTrue(attrs.containsAll(Set.of("Running", "Port", "ConnectionCount", "OnlineCount", "Channels")));
            assertEquals(true, jmx.getAttribute(NAME, "Running"));
            assertEquals(Harness.engine().getPort(), jmx.getAttribute(NAME, "Port"));

            Map<String, Object> a = Harness.handshake();
            String id = (String) a.get("cId");
            Harness.Client page = Harness.connect((String) a.get("ticket"));
            assertEquals("open", page.next(10000).get("t"));
            assertEquals(1, await("ConnectionCount", 1));
            assertEquals(1L, await("conns", 1L));
            assertEquals(1L, jmx.getAttribute(NAME, "accepted"));

            TabularData channels = (TabularData) jmx.getAttribute(NAME, "Channels");
            assertEquals(2, channels.size());
            CompositeData news = channels.get(new Object[] {"news"});
            assertEquals(1, news.get("subscribers"), "the page is subscribed to the registered channels");
            assertEquals(1, jmx.invoke(NAME, "getMemberCount", new Object[] {"news"}, ONE));

            // sendToAll through JMX: the page gets it.
            long out = (Long) jmx.getAttribute(NAME, "messagesOut");
            jmx.invoke(NAME, "sendToAll", new Object[] {"news", "from jconsole"}, TWO);
            Map<String, Object> m = page.nextMsg(10000);
            assertEquals("news", m.get("ch"));
            assertEquals("from jconsole", m.get("data"));
            assertTrue((Long) await("messagesOut", out + 1) > out, "the figure moved");

            // A bad call: a clear error that a client without comet4j's classes can read.
            MBeanException bad = assertThrows(MBeanException.class,
                    () -> jmx.invoke(NAME, "sendToAll", new Object[] {"", "x"}, TWO));
            assertTrue(bad.getMessage().contains("channel must not be empty"), bad.getMessage());
            assertThrows(ReflectionException.class, () -> jmx.invoke(NAME, "nothing", new Object[0], new String[0]));

            // drop through JMX: the page sees its close (4003: dropped).
            assertEquals(true, jmx.invoke(NAME, "drop", new Object[] {id}, ONE));
            assertEquals(CometProtocol.CLOSE_DROPPED, page.closeCode(10000));
            assertEquals(0, await("ConnectionCount", 0));
            assertEquals(false, jmx.invoke(NAME, "drop", new Object[] {id}, ONE), "gone: this node holds it no more");
        } finally {
            Harness.stop();
        }
        assertFalse(jmx.isRegistered(NAME), "unregistered with the engine");
    }

    @Test
    void oneMBeanAnEngineAcrossRestarts() throws Exception {
        for (int i = 0; i < 3; i++) {
            Harness.start(Map.of(), "news");
            try {
                assertEquals(Set.of(NAME), engines());
                assertEquals(0L, jmx.getAttribute(NAME, "accepted"), "this engine's figures, not the last one's");
            } finally {
                Harness.stop();
            }
            assertEquals(Set.of(), engines());
        }
    }

    @Test
    void namesOfContexts() throws Exception {
        assertEquals("org.comet4j:type=Engine,context=/", EngineMBean.nameOf("").toString(), "ROOT");
        assertEquals("org.comet4j:type=Engine,context=/shop", EngineMBean.nameOf("/shop").toString());
        ObjectName odd = EngineMBean.nameOf("/a,b=c:d");
        assertEquals("/a,b=c:d", ObjectName.unquote(odd.getKeyProperty("context")));
        assertEquals("Engine", odd.getKeyProperty("type"));
    }
}
