package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.comet4j.core.event.BeforeDropEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.event.DyingEvent;
import org.comet4j.core.event.RevivalEvent;
import org.comet4j.core.listener.BeforeDropListener;
import org.comet4j.core.listener.ConnectListener;
import org.comet4j.core.listener.DropListener;
import org.comet4j.core.listener.DyingListener;
import org.comet4j.core.listener.RevivalListener;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the engine does with each event record, fed in the order the core
 * sends them (the dispatcher's calls, without a core): connect, dying,
 * revival, drop.  The same path through the real library is in DyingTest.
 */
class ConnectionStateTest {

    CometEngine engine;
    final List<String> log = new ArrayList<>();
    final List<Object> events = new ArrayList<>();

    @BeforeEach
    void setUp() {
        engine = new CometEngine();
        engine.addConnectListener(new ConnectListener() {
            @Override
            public boolean handleEvent(ConnectEvent e) {
                log.add("connect " + e.getConn().getId() + " " + e.getConn().getWorkStyle());
                events.add(e);
                return true;
            }
        });
        engine.addDyingListener(new DyingListener() {
            @Override
            public boolean handleEvent(DyingEvent e) {
                log.add("dying " + e.getConn().getId() + " " + e.getCode() + " " + e.getConn().getState());
                events.add(e);
                return true;
            }
        });
        engine.addRevivalListener(new RevivalListener() {
            @Override
            public boolean handleEvent(RevivalEvent e) {
                log.add("revival " + e.getConn().getId() + " " + e.getConn().getWorkStyle() + " "
                        + e.getConn().getState());
                events.add(e);
                return true;
            }
        });
        engine.addBeforeDropListener(new BeforeDropListener() {
            @Override
            public boolean handleEvent(BeforeDropEvent e) {
                log.add("beforeDrop " + e.getConn().getId() + " " + e.getCode());
                return true;
            }
        });
        engine.addDropListener(new DropListener() {
            @Override
            public boolean handleEvent(DropEvent e) {
                log.add("drop " + e.getConn().getId() + " " + e.getCode() + " " + e.getConn().getState());
                events.add(e);
                return true;
            }
        });
    }

    @Test
    void dyingRevivalDrop() {
        engine.onConnect("c1", "alice", "10.0.0.1", 50001, "websocket");
        CometConnection c = engine.getConnection("c1");
        long connectedAt = c.getConnectTime();

        engine.onDying("c1", 1006, "lost");
        assertSame(c, engine.getConnection("c1"), "a dying connection stays known");
        assertEquals(List.of(c), engine.getConnections());
        assertEquals(CometProtocol.STATE_DYING, c.getState());
        DyingEvent dying = (DyingEvent) events.get(1);
        assertSame(c, dying.getConn());
        assertSame(engine, dying.getTarget());
        assertEquals(1006, dying.getCode());
        assertEquals("lost", dying.getReason());

        engine.onRevival("c1", "alice", "10.0.0.2", 50002, "stream");
        assertSame(c, engine.getConnection("c1"), "revival keeps the object");
        assertEquals(CometProtocol.STATE_ALIVE, c.getState());
        assertEquals("stream", c.getWorkStyle());
        assertEquals("10.0.0.2", c.getClientIp());
        assertEquals(50002, c.getClientPort());
        assertEquals("alice", c.getUser());
        assertEquals(connectedAt, c.getConnectTime());
        assertSame(c, ((RevivalEvent) events.get(2)).getConn());
        assertSame(engine, ((RevivalEvent) events.get(2)).getTarget());

        engine.onDying("c1", 4002, "idle");
        engine.onRevival("c1", "alice", "10.0.0.3", 50003, "lpool");
        assertEquals("lpool", c.getWorkStyle());
        engine.onDying("c1", 1006, "");
        engine.onDrop("c1", 4005, "dying period over");
        assertNull(engine.getConnection("c1"));
        assertTrue(engine.getConnections().isEmpty());
        assertEquals(CometProtocol.STATE_DROPPED, c.getState());
        assertSame(c, ((DropEvent) events.get(events.size() - 1)).getConn());
        assertEquals(List.of(
                "connect c1 websocket",
                "dying c1 1006 dying",
                "revival c1 stream alive",
                "dying c1 4002 dying",
                "revival c1 lpool alive",
                "dying c1 1006 dying",
                "beforeDrop c1 4005",
                "drop c1 4005 dropped"), log);
    }

    @Test
    void aLiveIdOnANewTransportIsTheSameConnection() {
        engine.onConnect("c5", "", "10.0.0.1", 50001, "websocket");
        CometConnection c = engine.getConnection("c5");
        // Attached on another worker: the new CONNECT, then the old transport's 4004.
        engine.onConnect("c5", "", "10.0.0.1", 50002, "stream");
        engine.onDrop("c5", CometProtocol.CLOSE_REPLACED, "replaced");
        assertSame(c, engine.getConnection("c5"));
        assertEquals("stream", c.getWorkStyle());
        assertEquals(50002, c.getClientPort());
        assertEquals(CometProtocol.STATE_ALIVE, c.getState());
        // On the same worker: the 4004 first.
        engine.onDrop("c5", CometProtocol.CLOSE_REPLACED, "replaced");
        engine.onConnect("c5", "", "10.0.0.1", 50003, "lpool");
        assertSame(c, engine.getConnection("c5"));
        assertEquals("lpool", c.getWorkStyle());
        assertEquals(List.of("connect c5 websocket", "revival c5 stream alive", "revival c5 lpool alive"), log);
        // A 4004 for an id Java does not hold is a plain drop.
        engine.onDrop("c6", CometProtocol.CLOSE_REPLACED, "replaced");
        assertEquals("drop c6 4004 dropped", log.get(log.size() - 1));
    }

    @Test
    void theCoresCloseCodesAreRefused() {
        CometConnection c = new CometConnection(engine, "c7", null, 0, null, "websocket", null);
        for (int code : new int[] {4002, 4004, 4005}) {
            assertThrows(IllegalArgumentException.class, () -> engine.drop(c, code, "no"));
        }
    }

    @Test
    void revivalOfAnUnknownIdIsAConnect() {
        // Java saw its drop already (or lost its records): a new connection.
        engine.onRevival("c2", "", "10.0.0.1", 50001, "lpool");
        CometConnection c = engine.getConnection("c2");
        assertEquals("lpool", c.getWorkStyle());
        assertEquals(CometProtocol.STATE_ALIVE, c.getState());
        assertNull(c.getUser());
        assertEquals(List.of("connect c2 lpool"), log);
    }

    @Test
    void dyingOfAnUnknownIdIsKnownFromThen() {
        engine.onDying("c3", 1006, "lost");
        CometConnection c = engine.getConnection("c3");
        assertEquals(CometProtocol.STATE_DYING, c.getState());
        engine.onRevival("c3", "", "10.0.0.1", 50001, "websocket");
        assertSame(c, engine.getConnection("c3"));
        assertEquals("10.0.0.1", c.getClientIp());
        assertEquals(List.of("dying c3 1006 dying", "revival c3 websocket alive"), log);
    }

    @Test
    void revivalTakesThePendingHandshakeWithoutANewObject() {
        engine.addPending("c4", null, "bob", System.currentTimeMillis() + 60000);
        engine.onConnect("c4", "bob", "10.0.0.1", 50001, "websocket");
        CometConnection c = engine.getConnection("c4");
        engine.onDying("c4", 1006, "");
        engine.addPending("c4", null, "bob", System.currentTimeMillis() + 60000); // the cId handshake
        int before = engine.pendingCount();
        engine.onRevival("c4", "bob", "10.0.0.1", 50002, "websocket");
        assertSame(c, engine.getConnection("c4"));
        assertEquals(before - 1, engine.pendingCount(), "the pending handshake is used up");
    }
}
