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
import org.comet4j.core.listener.BeforeDropListener;
import org.comet4j.core.listener.ConnectListener;
import org.comet4j.core.listener.DropListener;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Connections alone, on an engine that is not running: the pending
 * handshakes and their purge, connections Java learns of without a connect
 * event, and the order of the bookkeeping and the events
 * (ConnectionStateTest has the life cycle itself through the engine; who
 * is subscribed to what is the core's, MembershipTest).
 */
class ConnectionsTest {

    final List<String> log = new ArrayList<>();
    CometEngine engine;
    Connections connections;

    @BeforeEach
    void setUp() {
        engine = new CometEngine();
        connections = new Connections(engine);
    }

    static long future() {
        return System.currentTimeMillis() + 60000;
    }

    @Test
    void thePurgeForgetsOnlyHandshakesPastTheirGrace() {
        long now = System.currentTimeMillis();
        connections.addPending("old", null, "olga", now - Connections.PENDING_GRACE_MS - 60000);
        connections.addPending("grace", null, "greg", now - 1000); // expired, within the grace
        connections.addPending("fresh", null, "fred", now + 60000);
        connections.purge(now + 1);
        assertEquals(2, connections.pendingCount());
        assertEquals("greg", connections.known("grace").getUser(), "kept through the grace period");
        assertEquals("fred", connections.known("fresh").getUser());
        assertNull(connections.known("old").getUser(), "its handshake was forgotten");
        assertEquals(0, connections.pendingCount());
    }

    @Test
    void addPendingPurgesAtMostOnceASecond() throws InterruptedException {
        long now = System.currentTimeMillis();
        connections.addPending("first", null, null, future()); // purges (nothing yet)
        connections.addPending("expired", null, null, now - Connections.PENDING_GRACE_MS - 60000);
        connections.addPending("second", null, null, future()); // within the second: no purge
        assertEquals(3, connections.pendingCount());
        Thread.sleep(1100);
        connections.addPending("next", null, null, future()); // a second later: purges again
        assertEquals(3, connections.pendingCount(), "the expired handshake was purged");
    }

    @Test
    void knownTakesItsHandshake() {
        connections.addPending("c1", null, "alice", future());
        CometConnection c = connections.known("c1");
        assertEquals("alice", c.getUser());
        assertEquals(0, connections.pendingCount(), "the handshake is used up");
        assertTrue(c.getChannels().isEmpty(), "the core holds the channels: none while it does not run");
        assertSame(c, connections.known("c1"));
        assertSame(c, connections.get("c1"));
    }

    @Test
    void knownWithoutAHandshake() {
        CometConnection c = connections.known("c2");
        assertNull(c.getUser());
        assertEquals(CometProtocol.WORKSTYLE_WEBSOCKET, c.getWorkStyle());
        assertEquals(List.of(c), new ArrayList<>(connections.all()));
        assertThrows(UnsupportedOperationException.class, () -> connections.all().clear());
    }

    @Test
    void connectTakesTheHandshakesUserUnlessTheCoreGivesOne() {
        connections.addPending("c3", null, "bob", future());
        connections.onConnect("c3", "", "10.0.0.1", 50001, "");
        assertEquals("bob", connections.get("c3").getUser());
        assertEquals(CometProtocol.WORKSTYLE_WEBSOCKET, connections.get("c3").getWorkStyle(), "no transport: websocket");
        connections.addPending("c4", null, "bob", future());
        connections.onConnect("c4", "carol", "10.0.0.1", 50002, "stream");
        assertEquals("carol", connections.get("c4").getUser(), "the ticket's sub, as the core read it");
        assertEquals(0, connections.pendingCount());
    }

    @Test
    void bookkeepingComesBeforeEachEvent() {
        engine.addConnectListener(new ConnectListener() {
            @Override
            public boolean handleEvent(ConnectEvent e) {
                log.add("connect known=" + (connections.get(e.getConn().getId()) != null));
                return true;
            }
        });
        engine.addBeforeDropListener(new BeforeDropListener() {
            @Override
            public boolean handleEvent(BeforeDropEvent e) {
                log.add("beforeDrop known=" + (connections.get(e.getConn().getId()) != null) + " "
                        + e.getConn().getState());
                return true;
            }
        });
        engine.addBeforeRemoveListener(new org.comet4j.core.listener.BeforeRemoveListener() {
            @Override
            public boolean handleEvent(org.comet4j.core.event.BeforeRemoveEvent e) {
                log.add("beforeRemove known=" + (connections.get(e.getConn().getId()) != null));
                return true;
            }
        });
        engine.addRemovedListener(new org.comet4j.core.listener.RemovedListener() {
            @Override
            public boolean handleEvent(org.comet4j.core.event.RemovedEvent e) {
                log.add("removed known=" + (connections.get(e.getConn().getId()) != null));
                return true;
            }
        });
        engine.addDropListener(new DropListener() {
            @Override
            public boolean handleEvent(DropEvent e) {
                log.add("drop " + e.getCode() + " known=" + (connections.get(e.getConn().getId()) != null));
                return true;
            }
        });
        connections.addPending("c5", null, "alice", future());
        connections.onConnect("c5", "alice", "10.0.0.1", 50001, "websocket");
        connections.onDrop("c5", 1000, "bye");
        // Comet4J's order: the connection is in the list until it is removed,
        // then Removed and Drop.
        assertEquals(List.of(
                "connect known=true",
                "beforeDrop known=true dropped",
                "beforeRemove known=true",
                "removed known=false",
                "drop 1000 known=false"), log);
    }

    @Test
    void clearForgetsConnectionsAndHandshakes() {
        connections.addPending("c6", null, null, future());
        connections.known("c7");
        connections.clear();
        assertEquals(0, connections.pendingCount());
        assertNull(connections.get("c7"));
        assertNull(connections.get(null));
        assertTrue(connections.all().isEmpty());
    }
}
