package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.comet4j.core.event.PresenceEvent;
import org.comet4j.core.listener.PresenceListener;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Membership alone, on an engine that is not running (so no presence
 * frame and no cluster map: this node's indexes only): who is in which
 * channel, which connections each user has, and the PresenceEvents of a
 * presence channel.
 */
class MembershipTest {

    final Map<String, ChannelOptions> channels = new ConcurrentHashMap<>();
    final List<String> presence = new ArrayList<>();
    CometEngine engine;
    Membership m;

    @BeforeEach
    void setUp() {
        channels.put("lobby", ChannelOptions.defaults().presence());
        channels.put("news", ChannelOptions.defaults());
        engine = new CometEngine(channels);
        engine.addPresenceListener(new PresenceListener() {
            @Override
            public boolean handleEvent(PresenceEvent e) {
                presence.add((e.isJoined() ? "join " : "leave ") + e.getChannel() + " " + e.getConn().getId()
                        + " " + e.getUser());
                return true;
            }
        });
        m = new Membership(engine, channels, new ClusterMaps(engine));
    }

    static CometConnection conn(String id, String user) {
        return new CometConnection(id, "10.0.0.1", 50000, user, CometProtocol.WORKSTYLE_WEBSOCKET, null);
    }

    @Test
    void membersOfAChannelSortedWithTheirUsers() {
        CometConnection b = conn("b", "bob");
        CometConnection a = conn("a", null);
        m.joined(b, "news");
        m.joined(a, "news");
        m.joined(a, "news"); // once only
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("a", null);
        expected.put("b", "bob");
        assertEquals(expected, m.members("news"));
        assertEquals(List.of("a", "b"), new ArrayList<>(m.members("news").keySet()), "sorted by id");
        assertEquals(2, m.count("news"));
        assertEquals(Set.of(a, b), Set.copyOf(m.connections("news")));
        assertEquals(List.of("news"), a.getChannels());
        assertTrue(presence.isEmpty(), "news is not a presence channel");

        m.left(a, "news");
        m.left(a, "news"); // not a member any more: nothing
        assertEquals(Map.of("b", "bob"), m.members("news"));
        m.left(b, "news");
        assertEquals(0, m.count("news"));
        assertTrue(m.connections("news").isEmpty());
        assertTrue(m.members("news").isEmpty());
        assertFalse(b.isSubscribed("news"));
    }

    @Test
    void aCopyIsACopy() {
        CometConnection a = conn("a", "alice");
        m.connected(a);
        m.joined(a, "news");
        m.connections("news").clear();
        m.userConnections("alice").clear();
        assertEquals(1, m.count("news"));
        assertEquals(List.of(a), m.userConnections("alice"));
    }

    @Test
    void presenceChannelsGetOneEventPerJoinAndLeave() {
        CometConnection a = conn("a", "alice");
        CometConnection z = conn("z", null);
        m.joined(a, "lobby");
        m.joined(a, "lobby");
        m.joined(z, "lobby");
        m.left(a, "lobby");
        m.left(a, "lobby");
        assertEquals(List.of("join lobby a alice", "join lobby z null", "leave lobby a alice"), presence);
        assertEquals(Collections.singletonMap("z", null), m.members("lobby"));
        assertEquals(1, m.count("lobby"));
    }

    @Test
    void usersAndTheirConnections() {
        CometConnection a1 = conn("a1", "alice");
        CometConnection a2 = conn("a2", "alice");
        CometConnection b = conn("b", "bob");
        CometConnection anon = conn("x", null);
        CometConnection empty = conn("e", "");
        for (CometConnection c : List.of(a1, a2, b, anon, empty)) {
            m.connected(c);
        }
        assertTrue(m.online("alice"));
        assertTrue(m.online("bob"));
        assertFalse(m.online("carol"));
        assertFalse(m.online(null));
        assertFalse(m.online(""), "an empty user is anonymous");
        assertEquals(2, m.onlineCount(), "distinct users; anonymous connections not counted");
        assertEquals(Set.of(a1, a2), Set.copyOf(m.userConnections("alice")));
        assertTrue(m.userConnections(null).isEmpty());

        a1.setState(CometProtocol.STATE_DROPPED);
        m.dropped(a1);
        assertTrue(m.online("alice"), "alice has another connection");
        assertEquals(List.of(a2), m.userConnections("alice"));
        a2.setState(CometProtocol.STATE_DROPPED);
        m.dropped(a2);
        assertFalse(m.online("alice"));
        assertTrue(m.userConnections("alice").isEmpty());
        assertEquals(1, m.onlineCount());
    }

    @Test
    void droppedLeavesEveryChannelAndJoinsNothingAfter() {
        CometConnection a = conn("a", "alice");
        m.connected(a);
        m.joined(a, "lobby");
        m.joined(a, "news");
        a.setState(CometProtocol.STATE_DROPPED); // as Connections does, under the lock, before dropped()
        m.dropped(a);
        assertEquals(0, m.count("lobby"));
        assertEquals(0, m.count("news"));
        assertTrue(a.getChannels().isEmpty());
        assertEquals(List.of("join lobby a alice", "leave lobby a alice"), presence);

        m.joined(a, "lobby"); // a late subscribe of a dropped connection
        assertEquals(0, m.count("lobby"));
        assertFalse(a.isSubscribed("lobby"));
        assertEquals(2, presence.size(), "no join for a dropped connection");
    }

    @Test
    void unknownAndNullChannels() {
        assertTrue(m.members(null).isEmpty());
        assertEquals(0, m.count(null));
        assertTrue(m.connections(null).isEmpty());
        assertEquals(0, m.count("nobody-here"));
        CometConnection a = conn("a", null);
        m.joined(a, "unregistered"); // the server's subscribe() may name any channel
        assertEquals(1, m.count("unregistered"));
        assertTrue(presence.isEmpty());
    }

    @Test
    void clearForgetsEverything() {
        CometConnection a = conn("a", "alice");
        m.connected(a);
        m.joined(a, "news");
        m.clear();
        assertEquals(0, m.count("news"));
        assertFalse(m.online("alice"));
        assertEquals(0, m.onlineCount());
    }
}
