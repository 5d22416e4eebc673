package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.comet4j.core.event.BeforeDropEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.event.PresenceEvent;
import org.comet4j.core.listener.BeforeDropListener;
import org.comet4j.core.listener.ConnectListener;
import org.comet4j.core.listener.DropListener;
import org.comet4j.core.listener.PresenceListener;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Connections alone, with its Membership, on an engine that is not running:
 * the pending handshakes and their purge, connections Java learns of
 * without a connect event, and the order of the bookkeeping and the events
 * (ConnectionStateTest has the life cycle itself through the engine).
 */
class ConnectionsTest {

    final Map<String, ChannelOptions> channels = new ConcurrentHashMap<>();
    final List<String> log = new ArrayList<>();
    CometEngine engine;
    Membership membership;
    Connections connections;

    @BeforeEach
    void setUp() {
        channels.put("lobby", ChannelOptions.defaults().presence());
        channels.put("news", ChannelOptions.defaults());
        engine = new CometEngine(channels);
        ClusterMaps cluster = new ClusterMaps(engine);
        membership = new Membership(engine, channels, cluster);
        connections = new Connections(engine, channels.keySet(), membership, cluster);
        engine.addPresenceListener(new PresenceListener() {
            @Override
            public boolean handleEvent(PresenceEvent e) {
                log.add((e.isJoined() ? "join " : "leave ") + e.getChannel() + " " + e.getConn().getId());
                return true;
            }
        });
    }

    static long future() {
        return System.currentTimeMillis() + 60000;
    }

    @Test
    void thePurgeForgetsOnlyHandshakesPastTheirGrace() {
        long now = System.currentTimeMillis();
        connections.addPending("old", null, "olga", List.of(), now - Connections.PENDING_GRACE_MS - 60000);
        connections.addPending("grace", null, "greg", List.of(), now - 1000); // expired, within the grace
        connections.addPending("fresh", null, "fred", List.of(), now + 60000);
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
        connections.addPending("first", null, null, List.of(), future()); // purges (nothing yet)
        connections.addPending("expired", null, null, List.of(), now - Connections.PENDING_GRACE_MS - 60000);
        connections.addPending("second", null, null, List.of(), future()); // within the second: no purge
        assertEquals(3, connections.pendingCount());
        Thread.sleep(1100);
        connections.addPending("next", null, null, List.of(), future()); // a second later: purges again
        assertEquals(3, connections.pendingCount(), "the expired handshake was purged");
    }

    @Test
    void knownTakesItsHandshake() {
        connections.addPending("c1", null, "alice", List.of("lobby"), future());
        CometConnection c = connections.known("c1");
        assertEquals("alice", c.getUser());
        assertEquals(List.of("lobby"), c.getChannels(), "the ticket's channels, not all registered ones");
        assertEquals(0, connections.pendingCount(), "the handshake is used up");
        assertTrue(membership.online("alice"));
        assertEquals(List.of("join lobby c1"), log);

        assertSame(c, connections.known("c1"));
        assertSame(c, connections.get("c1"));
        assertEquals(1, log.size(), "known once: tracked once");
    }

    @Test
    void knownWithoutAHandshakeJoinsTheRegisteredChannels() {
        CometConnection c = connections.known("c2");
        assertNull(c.getUser());
        assertEquals(Set.of("lobby", "news"), Set.copyOf(c.getChannels()));
        assertEquals(CometProtocol.WORKSTYLE_WEBSOCKET, c.getWorkStyle());
        assertEquals(List.of(c), new ArrayList<>(connections.all()));
        assertThrows(UnsupportedOperationException.class, () -> connections.all().clear());
    }

    @Test
    void connectTakesTheHandshakesUserUnlessTheCoreGivesOne() {
        connections.addPending("c3", null, "bob", List.of(), future());
        connections.onConnect("c3", "", "10.0.0.1", 50001, "");
        assertEquals("bob", connections.get("c3").getUser());
        assertEquals(CometProtocol.WORKSTYLE_WEBSOCKET, connections.get("c3").getWorkStyle(), "no transport: websocket");
        connections.addPending("c4", null, "bob", List.of(), future());
        connections.onConnect("c4", "carol", "10.0.0.1", 50002, "stream");
        assertEquals("carol", connections.get("c4").getUser(), "the ticket's sub, as the core read it");
        assertEquals(0, connections.pendingCount());
    }

    @Test
    void bookkeepingComesBeforeEachEventAndJoinsAfterTheConnect() {
        engine.addConnectListener(new ConnectListener() {
            @Override
            public boolean handleEvent(ConnectEvent e) {
                log.add("connect members=" + membership.count("lobby") + " online=" + membership.online("alice")
                        + " known=" + (connections.get(e.getConn().getId()) != null));
                return true;
            }
        });
        engine.addBeforeDropListener(new BeforeDropListener() {
            @Override
            public boolean handleEvent(BeforeDropEvent e) {
                log.add("beforeDrop members=" + membership.count("lobby") + " online=" + membership.online("alice")
                        + " known=" + (connections.get(e.getConn().getId()) != null) + " " + e.getConn().getState());
                return true;
            }
        });
        engine.addDropListener(new DropListener() {
            @Override
            public boolean handleEvent(DropEvent e) {
                log.add("drop " + e.getCode());
                return true;
            }
        });
        connections.addPending("c5", null, "alice", List.of("lobby"), future());
        connections.onConnect("c5", "alice", "10.0.0.1", 50001, "websocket");
        connections.onDrop("c5", 1000, "bye");
        assertEquals(List.of(
                "connect members=0 online=true known=true",
                "join lobby c5",
                "leave lobby c5",
                "beforeDrop members=0 online=false known=false dropped",
                "drop 1000"), log);
    }

    @Test
    void clearForgetsConnectionsAndHandshakes() {
        connections.addPending("c6", null, null, List.of(), future());
        connections.known("c7");
        connections.clear();
        assertEquals(0, connections.pendingCount());
        assertNull(connections.get("c7"));
        assertNull(connections.get(null));
        assertTrue(connections.all().isEmpty());
    }
}
