package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.http.HttpServlet;

import org.comet4j.core.event.BeforeConnectEvent;
import org.comet4j.core.event.BeforeDropEvent;
import org.comet4j.core.event.BeforeRemoveEvent;
import org.comet4j.core.event.CometContextEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.event.DyingEvent;
import org.comet4j.core.event.ErrorEvent;
import org.comet4j.core.event.MessageEvent;
import org.comet4j.core.event.RemovedEvent;
import org.comet4j.core.event.RevivalEvent;
import org.comet4j.core.listener.CometContextListener;
import org.comet4j.event.Event;
import org.comet4j.event.ListenerInterface;
import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Comet4J's events through the real library, written as a Comet4J
 * application writes them (engine.addListener(XEvent.class, listener), as
 * its event monitor does): their order (BeforeConnect, Connect, Message,
 * Dying, Revival, BeforeDrop, BeforeRemove, Removed, Drop), the vetoes
 * (BeforeConnect refuses, BeforeDrop keeps a connection whose page asked
 * for the drop, BeforeRemove keeps it in the list and is asked again every
 * Comet.ConnFrequency), CometContextEvent, ErrorEvent, interceptors, and
 * the servlet names of Comet4J's web.xml.
 */
class Comet4jEventsTest {

    static final Class<?>[] TYPES = {BeforeConnectEvent.class, ConnectEvent.class, MessageEvent.class,
        DyingEvent.class, RevivalEvent.class, BeforeDropEvent.class, BeforeRemoveEvent.class,
        RemovedEvent.class, DropEvent.class};

    final List<String> log = new ArrayList<>();

    @AfterEach
    void stop() {
        Harness.stop();
    }

    private synchronized void record(Event<?> e) {
        log.add(e.getClass().getSimpleName().replace("Event", ""));
        notifyAll();
    }

    private synchronized List<String> log() {
        return new ArrayList<>(log);
    }

    /** Waits until the log ends with what; fails after ms. */
    private synchronized void await(String what, long ms) throws InterruptedException {
        long end = System.currentTimeMillis() + ms;
        while (!log.contains(what)) {
            long left = end - System.currentTimeMillis();
            if (left <= 0) {
                throw new AssertionError("no " + what + " within " + ms + " ms: " + log);
            }
            wait(left);
        }
    }

    /** Every Comet4J event of the engine into the log, with a lambda as Comet4J's ListenerInterface. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private void recordAll(CometEngine engine) {
        for (Class<?> t : TYPES) {
            ListenerInterface l = e -> {
                record(e);
                return true;
            };
            engine.addListener((Class) t, l);
        }
    }

    private static FakeHttp.Resp drop(String cid) throws Exception {
        return Harness.handshake(new FakeHttp.Req().param("cmd", "drop").param("cid", cid));
    }

    @Test
    void comet4jsOrderFromConnectToDrop() throws Exception {
        Harness.start(Map.of("Comet.ConnExpires", "3000"), "news");
        CometEngine engine = Harness.engine();
        recordAll(engine);
        Map<String, Object> hs = Harness.handshake();
        String cid = (String) hs.get("cId");
        Harness.Client c = Harness.connect((String) hs.get("ticket"));
        assertEquals("open", c.next(5000).get("t"));
        await("Connect", 5000);
        engine.sendTo("news", engine.getConnection(cid), "hi");
        assertEquals("hi", c.nextMsg(5000).get("data"));
        c.abort();
        await("Dying", 5000);
        Harness.Client again = Harness.connect((String) hs.get("ticket"));
        assertEquals("open", again.next(5000).get("t"));
        await("Revival", 5000);
        FakeHttp.Resp r = drop(cid);
        assertEquals(200, r.status);
        await("Drop", 5000);
        assertEquals(List.of("BeforeConnect", "Connect", "Message", "Dying", "Revival", "BeforeDrop",
                "BeforeRemove", "Removed", "Drop"), log());
        assertNull(engine.getConnection(cid));
        again.abort();
    }

    @Test
    void beforeDropVetoKeepsTheConnectionItsPageAskedToDrop() throws Exception {
        Harness.start(Map.of(), "news");
        CometEngine engine = Harness.engine();
        recordAll(engine);
        AtomicBoolean keep = new AtomicBoolean(true);
        List<String> asked = new ArrayList<>();
        engine.addBeforeDropListener(new org.comet4j.core.listener.BeforeDropListener() {
            @Override
            public boolean handleEvent(BeforeDropEvent e) {
                if (e.getCode() == 0) { // asked for by a request
                    asked.add(e.getRequest().getParameter("cid") + " " + (e.getConn() != null));
                }
                return !keep.get();
            }
        });
        Map<String, Object> hs = Harness.handshake();
        String cid = (String) hs.get("cId");
        Harness.Client c = Harness.connect((String) hs.get("ticket"));
        assertEquals("open", c.next(5000).get("t"));
        await("Connect", 5000);
        assertEquals(200, drop(cid).status);
        assertEquals(List.of(cid + " true"), asked);
        engine.sendTo("news", engine.getConnection(cid), "still here");
        assertEquals("still here", c.nextMsg(5000).get("data"));
        assertFalse(log().contains("BeforeRemove"));

        keep.set(false);
        assertEquals(200, drop(cid).status);
        await("Drop", 5000);
        assertEquals(List.of("BeforeConnect", "Connect", "BeforeDrop", "Message", "BeforeDrop", "BeforeRemove",
                "Removed", "Drop"), log(), "one BeforeDrop per request, none more for the core's drop");
        c.abort();
    }

    @Test
    void beforeRemoveVetoKeepsTheConnectionAndAsksAgainEveryConnFrequency() throws Exception {
        Harness.start(Map.of("Comet.ConnFrequency", "300"), "news");
        CometEngine engine = Harness.engine();
        recordAll(engine);
        AtomicInteger asked = new AtomicInteger();
        engine.addBeforeRemoveListener(new org.comet4j.core.listener.BeforeRemoveListener() {
            @Override
            public boolean handleEvent(BeforeRemoveEvent e) {
                return asked.incrementAndGet() >= 3; // kept twice, then let go
            }
        });
        Map<String, Object> hs = Harness.handshake();
        String cid = (String) hs.get("cId");
        Harness.Client c = Harness.connect((String) hs.get("ticket"));
        assertEquals("open", c.next(5000).get("t"));
        await("Connect", 5000);
        CometConnection conn = engine.getConnection(cid);
        c.close(); // the client closes: a purposeful close, dropped at once
        await("BeforeRemove", 5000);
        for (long end = System.currentTimeMillis() + 2000; !CometProtocol.STATE_DYING.equals(conn.getState())
                && System.currentTimeMillis() < end;) {
            Thread.sleep(10); // the veto is applied once the listener returned
        }
        assertSame(conn, engine.getConnection(cid), "kept in the list");
        assertEquals(CometProtocol.STATE_DYING, conn.getState());
        assertTrue(conn.getDyingTime() > 0);
        assertFalse(log().contains("Drop"));
        long t0 = System.currentTimeMillis();
        await("Drop", 5000);
        assertTrue(System.currentTimeMillis() - t0 >= 250, "asked again after Comet.ConnFrequency");
        assertEquals(3, asked.get());
        assertNull(engine.getConnection(cid));
        List<String> l = log();
        assertEquals(List.of("Removed", "Drop"), l.subList(l.size() - 2, l.size()));
    }

    @Test
    void beforeConnectVetoAndInterceptors() throws Exception {
        Harness.start(Map.of(), "news");
        CometEngine engine = Harness.engine();
        recordAll(engine);
        // An interceptor that stops every BeforeConnect refuses the handshake.
        org.comet4j.event.InterceptorInterface<Event<?>> no = e -> !(e instanceof BeforeConnectEvent);
        engine.addEventInterceptor(no);
        assertEquals(403, Harness.handshake(new FakeHttp.Req().param("cmd", "conn")).status);
        assertTrue(log().isEmpty(), "an interceptor runs before the listeners");
        engine.removeEventInterceptor(no);
        // Suspended: no listener hears, the handshake goes on.
        engine.suspendEvents();
        assertEquals(200, Harness.handshake(new FakeHttp.Req().param("cmd", "conn")).status);
        assertTrue(log().isEmpty());
        engine.resumeEvents();
        engine.addBeforeConnectListener(new org.comet4j.core.listener.BeforeConnectListener() {
            @Override
            public boolean handleEvent(BeforeConnectEvent e) {
                return false;
            }
        });
        FakeHttp.Resp r = Harness.handshake(new FakeHttp.Req().param("cmd", "conn"));
        assertEquals(403, r.status);
        assertEquals(4030L, ((Map<?, ?>) MiniJson.object(r.body.toString()).get("error")).get("code"));
    }

    @Test
    void errorEventForAListenerThatThrows() throws Exception {
        Harness.start(Map.of(), "news");
        CometEngine engine = Harness.engine();
        List<Exception> errors = new ArrayList<>();
        engine.addErrorListener(new org.comet4j.core.listener.ErrorListener() {
            @Override
            public boolean handleEvent(ErrorEvent e) {
                synchronized (errors) {
                    errors.add(e.getErr());
                    errors.notifyAll();
                }
                return true;
            }
        });
        engine.addConnectListener(new org.comet4j.core.listener.ConnectListener() {
            @Override
            public boolean handleEvent(ConnectEvent e) {
                throw new IllegalStateException("boom");
            }
        });
        Map<String, Object> hs = Harness.handshake();
        Harness.Client c = Harness.connect((String) hs.get("ticket"));
        assertEquals("open", c.next(5000).get("t"));
        synchronized (errors) {
            long end = System.currentTimeMillis() + 5000;
            while (errors.isEmpty() && System.currentTimeMillis() < end) {
                errors.wait(200);
            }
        }
        assertEquals(1, errors.size());
        assertEquals("boom", errors.get(0).getMessage());
        c.abort();
    }

    @Test
    void cometContextEventsInitializedAndDestroyed() throws Exception {
        List<String> heard = new ArrayList<>();
        CometContext cc = CometContext.getInstance();
        cc.addListener(CometContextEvent.class, new CometContextListener() {
            @Override
            public boolean onInitialized(CometContextEvent event) {
                heard.add("init " + (event.getServletContext() != null) + " " + event.getCometContext().isInit());
                return false; // stops nothing, as in Comet4J
            }

            @Override
            public boolean onDestroyed(CometContextEvent event) {
                heard.add("destroyed " + event.getCometContext().getEngine().isRunning());
                return false;
            }
        });
        Map<String, String> p = new HashMap<>();
        p.put("Comet.Port", "0");
        p.put("Comet.Host", "127.0.0.1");
        p.put("Comet.Timeout", "5000");
        List<String> scLog = new ArrayList<>();
        cc.init(new ServletContextEvent(CometAppListenerTest.context(p, scLog)));
        assertTrue(cc.isInit());
        assertNotNull(cc.getServletContext());
        assertEquals(5000, cc.getTimeout());
        cc.init(new ServletContextEvent(CometAppListenerTest.context(p, scLog))); // Comet4J: once
        cc.destroy();
        assertEquals(List.of("init true true", "destroyed false"), heard);
    }

    @Test
    void comet4jsServletNamesAreTheHandshake() throws Exception {
        Harness.start(Map.of(), "news");
        for (HttpServlet s : new HttpServlet[] {new CometServletTomcat7(), new CometServletTomcat6(),
            new CometServlet3()}) {
            assertTrue(s instanceof CometServlet, s.getClass().getName());
            FakeHttp.Resp r = new FakeHttp.Resp();
            ((CometServlet) s).handle(FakeHttp.request(new FakeHttp.Req().param("cmd", "conn")),
                    FakeHttp.response(r));
            assertEquals(200, r.status, s.getClass().getSimpleName());
            Map<String, Object> a = MiniJson.object(r.body.toString());
            assertEquals(List.of("news"), a.get("channels"));
            assertEquals(60000L, a.get("timeout"), "Comet.Timeout, as Comet4J's connect answer");
        }
    }
}
