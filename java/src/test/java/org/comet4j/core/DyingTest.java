package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.comet4j.core.event.BeforeConnectEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.event.DyingEvent;
import org.comet4j.core.event.RevivalEvent;
import org.comet4j.core.listener.BeforeConnectListener;
import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dying and revival through the real library (Comet.ConnExpires): a client
 * that loses its transport keeps its connection, which is revived by an
 * attach with the same id (same ticket, or a fresh one from a handshake
 * with cId) over any transport, or dropped with 4005 when the time is up.
 */
class DyingTest {

    static final int CONN_EXPIRES = 1500;
    static Recorder events;

    @BeforeAll
    static void start() {
        Harness.start(Map.of("Comet.ConnExpires", String.valueOf(CONN_EXPIRES)), "news");
        events = new Recorder(Harness.engine());
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    /** A handshake's answer, an attached WebSocket client and its connection. */
    static final class Attached {
        Map<String, Object> answer;
        String cid;
        String ticket;
        Harness.Client client;
        CometConnection conn;
    }

    static Attached attach() throws Exception {
        Attached a = new Attached();
        a.answer = Harness.handshake();
        a.cid = (String) a.answer.get("cId");
        a.ticket = (String) a.answer.get("ticket");
        a.client = Harness.connect(a.ticket);
        assertEquals("open", a.client.next(5000).get("t"));
        a.conn = events.await(ConnectEvent.class, a.cid, 5000).getConn();
        return a;
    }

    /** Loses the transport without a close frame, and waits for DYING. */
    static DyingEvent lose(Attached a) throws Exception {
        a.client.abort();
        return events.await(DyingEvent.class, a.cid, 5000);
    }

    @Test
    void dyingThenRevivalWithTheSameTicket() throws Exception {
        Attached a = attach();
        CometEngine engine = Harness.engine();
        DyingEvent dying = lose(a);
        assertSame(a.conn, dying.getConn());
        assertSame(engine, dying.getTarget());
        assertEquals(CometProtocol.STATE_DYING, a.conn.getState());
        assertSame(a.conn, engine.getConnection(a.cid), "a dying connection stays known");
        assertTrue(engine.getConnections().contains(a.conn));

        // Sent while dying: the core keeps it and delivers it on revival.
        engine.sendTo("news", a.conn, "kept while dying");

        Harness.Client again = Harness.connect(a.ticket);
        try {
            Map<String, Object> open = again.next(5000);
            assertEquals("open", open.get("t"));
            assertEquals(a.cid, open.get("cId"));
            Map<String, Object> msg = again.nextMsg(5000);
            assertEquals("news", msg.get("ch"));
            assertEquals("kept while dying", msg.get("data"));

            RevivalEvent revival = events.await(RevivalEvent.class, a.cid, 5000);
            assertSame(a.conn, revival.getConn(), "the same CometConnection");
            assertSame(engine, revival.getTarget());
            assertEquals(CometProtocol.STATE_ALIVE, a.conn.getState());
            assertEquals(CometProtocol.WORKSTYLE_WEBSOCKET, a.conn.getWorkStyle());
            assertEquals("127.0.0.1", a.conn.getClientIp());
            assertSame(a.conn, engine.getConnection(a.cid));
            assertEquals(List.of("connect", "dying", "revival"), events.kinds(a.cid));

            engine.sendTo("news", a.conn, "alive again");
            assertEquals("alive again", again.nextMsg(5000).get("data"));
        } finally {
            engine.drop(a.conn);
            events.await(DropEvent.class, a.cid, 5000);
        }
    }

    @Test
    void dyingEndsWithDrop4005() throws Exception {
        Attached a = attach();
        lose(a);
        long dyingAt = System.currentTimeMillis();
        DropEvent drop = events.await(DropEvent.class, a.cid, CONN_EXPIRES + 5000);
        long waited = System.currentTimeMillis() - dyingAt;
        assertEquals(4005, drop.getCode());
        assertSame(a.conn, drop.getConn());
        assertTrue(waited >= CONN_EXPIRES - 500, "dropped after " + waited + " ms");
        assertEquals(CometProtocol.STATE_DROPPED, a.conn.getState());
        assertNull(Harness.engine().getConnection(a.cid));
        assertEquals(List.of("connect", "dying", "beforeDrop", "drop"), events.kinds(a.cid));
    }

    @Test
    void handshakeWithTheCidOfADyingConnectionRevivesIt() throws Exception {
        Attached a = attach();
        lose(a);
        AtomicInteger beforeConnects = new AtomicInteger();
        BeforeConnectListener count = new BeforeConnectListener() {
            @Override
            public boolean handleEvent(BeforeConnectEvent e) {
                beforeConnects.incrementAndGet();
                return true;
            }
        };
        Harness.engine().addBeforeConnectListener(count);
        Map<String, Object> answer;
        try {
            answer = MiniJson.object(Harness.handshake(
                    new FakeHttp.Req().param("cmd", "conn").param("cId", a.cid)).body.toString());
        } finally {
            Harness.engine().removeBeforeConnectListener(count);
        }
        assertEquals(a.cid, answer.get("cId"));
        assertEquals(0, beforeConnects.get());
        Harness.Client again = Harness.connect((String) answer.get("ticket"));
        try {
            assertEquals(a.cid, again.next(5000).get("cId"));
            assertSame(a.conn, events.await(RevivalEvent.class, a.cid, 5000).getConn());
            assertSame(a.conn, Harness.engine().getConnection(a.cid));
            assertEquals(List.of("connect", "dying", "revival"), events.kinds(a.cid));
        } finally {
            Harness.engine().drop(a.conn);
            events.await(DropEvent.class, a.cid, 5000);
        }
    }

    @Test
    void revivalOverSseTakesItsWorkStyle() throws Exception {
        Attached a = attach();
        lose(a);
        Harness.Sse sse = new Harness.Sse(Harness.httpUrl("/sse", a.ticket, null));
        try {
            assertEquals(200, sse.response.statusCode());
            Map<String, Object> open = sse.next(5000);
            assertEquals("open", open.get("t"));
            assertEquals(a.cid, open.get("cId"));
            assertSame(a.conn, events.await(RevivalEvent.class, a.cid, 5000).getConn());
            assertEquals(CometProtocol.WORKSTYLE_STREAM, a.conn.getWorkStyle());
            assertEquals(CometProtocol.STATE_ALIVE, a.conn.getState());
        } finally {
            Harness.engine().drop(a.conn);
            events.await(DropEvent.class, a.cid, 5000);
            sse.close();
        }
    }

    @Test
    void attachingALiveIdMovesTheConnectionToTheNewTransport() throws Exception {
        Attached a = attach();
        // The page reconnects (handshake with cId) before the old transport is seen lost.
        Map<String, Object> answer = MiniJson.object(Harness.handshake(
                new FakeHttp.Req().param("cmd", "conn").param("cId", a.cid)).body.toString());
        assertEquals(a.cid, answer.get("cId"));
        Harness.Sse sse = new Harness.Sse(Harness.httpUrl("/sse", (String) answer.get("ticket"), null));
        try {
            assertEquals(a.cid, sse.next(5000).get("cId"));
            assertEquals(CometProtocol.CLOSE_REPLACED, a.client.closeCode(5000));
            assertSame(a.conn, events.await(RevivalEvent.class, a.cid, 5000).getConn());
            assertSame(a.conn, Harness.engine().getConnection(a.cid), "the same CometConnection");
            assertEquals(CometProtocol.WORKSTYLE_STREAM, a.conn.getWorkStyle());
            assertEquals(CometProtocol.STATE_ALIVE, a.conn.getState());
            Harness.engine().sendTo("news", a.conn, "over sse");
            assertEquals("over sse", sse.nextMsg(5000).get("data"));
            Thread.sleep(200); // the old transport's DROP 4004 has come and gone
            assertEquals(List.of("connect", "revival"), events.kinds(a.cid));
        } finally {
            Harness.engine().drop(a.conn);
            events.await(DropEvent.class, a.cid, 5000);
            sse.close();
        }
    }

    @Test
    void dropByTheApplicationHasNoDyingPhase() throws Exception {
        Attached a = attach();
        Harness.engine().drop(a.conn);
        DropEvent drop = events.await(DropEvent.class, a.cid, 5000);
        assertEquals(CometProtocol.CLOSE_DROPPED, drop.getCode());
        assertEquals(List.of("connect", "beforeDrop", "drop"), events.kinds(a.cid));
        assertNull(Harness.engine().getConnection(a.cid));
    }
}
