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
import java.util.function.BooleanSupplier;

import org.comet4j.core.event.BeforeDropEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.event.DyingEvent;
import org.comet4j.core.event.PresenceEvent;
import org.comet4j.core.event.RevivalEvent;
import org.comet4j.core.listener.BeforeDropListener;
import org.comet4j.core.listener.ConnectListener;
import org.comet4j.core.listener.DropListener;
import org.comet4j.core.listener.DyingListener;
import org.comet4j.core.listener.PresenceListener;
import org.comet4j.core.listener.RevivalListener;
import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who is here, through a real engine and real WebSocket pages: the members,
 * counts, users and channels the engine answers are the core's (there is no
 * Java index to drift from it), and PresenceEvents follow the core's SUB
 * records in its order.  Each page has a ticket minted here with the
 * channels the test chooses.
 */
class MembershipTest {

    /** Every event of the engine, as "type id [channel]", in the order fired. */
    static final List<String> EVENTS = Collections.synchronizedList(new ArrayList<>());

    final List<Harness.Client> clients = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start() {
        CometContext cc = CometContext.getInstance();
        cc.registChannel("lobby", ChannelOptions.defaults().presence());
        cc.registChannel("news");
        Harness.start(Map.of("Comet.ConnExpires", "1000"));
        // Registered after the start, as applications usually do: a presence channel too.
        cc.registChannel("room", ChannelOptions.defaults().clientWritable().presence());
        CometEngine e = Harness.engine();
        e.addConnectListener(new ConnectListener() {
            @Override
            public boolean handleEvent(ConnectEvent ev) {
                EVENTS.add("connect " + ev.getConn().getId());
                return true;
            }
        });
        e.addPresenceListener(new PresenceListener() {
            @Override
            public boolean handleEvent(PresenceEvent ev) {
                EVENTS.add((ev.isJoined() ? "join " : "leave ") + ev.getConn().getId() + " " + ev.getChannel()
                        + " " + ev.getUser());
                return true;
            }
        });
        e.addDyingListener(new DyingListener() {
            @Override
            public boolean handleEvent(DyingEvent ev) {
                EVENTS.add("dying " + ev.getConn().getId());
                return true;
            }
        });
        e.addRevivalListener(new RevivalListener() {
            @Override
            public boolean handleEvent(RevivalEvent ev) {
                EVENTS.add("revival " + ev.getConn().getId());
                return true;
            }
        });
        e.addBeforeDropListener(new BeforeDropListener() {
            @Override
            public boolean handleEvent(BeforeDropEvent ev) {
                EVENTS.add("beforeDrop " + ev.getConn().getId() + " members " + engine().getMemberCount("lobby"));
                return true;
            }
        });
        e.addDropListener(new DropListener() {
            @Override
            public boolean handleEvent(DropEvent ev) {
                EVENTS.add("drop " + ev.getConn().getId() + " " + ev.getCode());
                return true;
            }
        });
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    @BeforeEach
    void clearEvents() {
        EVENTS.clear();
    }

    @AfterEach
    void closeClients() throws InterruptedException {
        for (Harness.Client c : clients) {
            c.abort();
        }
        await(() -> engine().getConnections().isEmpty(), "every page dropped (Comet.ConnExpires=1000)");
    }

    static CometEngine engine() {
        return Harness.engine();
    }

    /** A ticket for cid, user (null: anonymous) and the given channels, minted here. */
    static String ticket(String cid, String user, String... channels) {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("cid", cid);
        if (user != null) {
            claims.put("sub", user);
        }
        claims.put("exp", System.currentTimeMillis() / 1000 + 60);
        claims.put("ch", List.of(channels));
        return Harness.jwt(Harness.SECRET, claims);
    }

    /** A page attached over WebSocket with ticket, once Java has its connection. */
    Harness.Client attach(String cid, String ticket) throws Exception {
        Harness.Client c = Harness.connect(ticket);
        clients.add(c);
        c.id = cid;
        assertEquals("open", c.next(10000).get("t"));
        await(() -> engine().getConnection(cid) != null, "connect event of " + cid);
        return c;
    }

    /** A page attached with a ticket for user (null: anonymous) and the given channels. */
    Harness.Client open(String user, String... channels) throws Exception {
        String cid = engine().newId();
        return attach(cid, ticket(cid, user, channels));
    }

    /** A page attached through the servlet's handshake: its ticket has every registered channel. */
    Harness.Client openByHandshake(String user) throws Exception {
        FakeHttp.Req req = new FakeHttp.Req().param("cmd", "conn");
        req.user = user;
        FakeHttp.Resp r = Harness.handshake(req);
        assertEquals(200, r.status, r.body.toString());
        Map<String, Object> a = MiniJson.object(r.body.toString());
        Harness.Client c = Harness.connect((String) a.get("ticket"));
        clients.add(c);
        c.id = (String) a.get("cId");
        assertEquals("open", c.next(10000).get("t"));
        await(() -> engine().getConnection(c.id) != null, "connect event of " + c.id);
        return c;
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long end = System.currentTimeMillis() + 10000;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(10);
        }
    }

    /** The events of one page, in order, its id left out. */
    static List<String> eventsOf(String id) {
        List<String> out = new ArrayList<>();
        synchronized (EVENTS) {
            for (String e : EVENTS) {
                if (e.contains(" " + id)) {
                    out.add(e.replace(" " + id, ""));
                }
            }
        }
        return out;
    }

    static void send(Harness.Client c, String frame) {
        c.ws.sendText(frame, true).join();
    }

    // ---- the drift the core's one model ends ------------------------------------------------

    /**
     * A page with C4J_MAX_CHANNELS subscriptions asks for one more: the core
     * refuses it (4290), and nothing counts it.  (Java's own index counted it
     * as soon as Native.subscribe had queued it.)
     */
    @Test
    void aSubscriptionTheCoreRefusesIsCountedNowhere() throws Exception {
        CometEngine e = engine();
        Harness.Client c = openByHandshake("rita"); // lobby, news, room
        send(c, "{\"t\":\"unsub\",\"id\":0,\"ch\":\"room\"}");
        assertEquals("ack", c.answer(0, 5000).get("t"));
        for (int i = 0; i < 254; i++) {
            assertTrue(e.subscribe(c.id, "x" + i));
        }
        CometConnection conn = e.getConnection(c.id);
        await(() -> conn.isSubscribed("x253"), "256 subscriptions");
        send(c, "{\"t\":\"sub\",\"id\":1,\"ch\":\"room\"}");
        Map<String, Object> err = c.answer(1, 5000);
        assertEquals("err", err.get("t"), err.toString());
        assertEquals(4290L, err.get("code"), err.toString());
        assertEquals("too many subscriptions", err.get("message"));

        assertEquals(0, e.getMemberCount("room"));
        assertFalse(e.getConnections("room").contains(conn));
        assertFalse(e.getMembers("room").containsKey(c.id));
        assertFalse(conn.isSubscribed("room"));
        assertEquals(256, conn.getChannels().size());
        // The refusal made no join: the ticket's join of room, its leave by the unsub, nothing since.
        List<String> got = eventsOf(c.id);
        assertEquals(1, Collections.frequency(got, "join room rita"), got.toString());
        assertEquals("leave room rita", got.get(got.size() - 1), got.toString());

        // The Java API refused the same way: one unsubscription makes room.
        assertTrue(e.subscribe(c.id, "x254"));
        assertTrue(e.unsubscribe(c.id, "x0"));
        await(() -> !conn.isSubscribed("x0"), "x0 left");
        send(c, "{\"t\":\"sub\",\"id\":2,\"ch\":\"room\"}");
        assertEquals("ack", c.answer(2, 5000).get("t"));
        assertEquals(1, e.getMemberCount("room"));
        assertEquals(List.of(conn), e.getConnections("room"));
        assertFalse(conn.isSubscribed("x254"), "refused while it had 256");
    }

    // ---- members and users through a page's life -----------------------------------------------

    @Test
    void membersAndUsersThroughConnectSubscribeDyingAndDrop() throws Exception {
        CometEngine e = engine();
        Harness.Client a = open("alice", "lobby", "news");
        Harness.Client b = open(null, "lobby");
        CometConnection ca = e.getConnection(a.id);
        CometConnection cb = e.getConnection(b.id);
        await(() -> e.getMemberCount("lobby") == 2, "both in the lobby");
        Map<String, String> lobby = new LinkedHashMap<>();
        if (a.id.compareTo(b.id) < 0) {
            lobby.put(a.id, "alice");
            lobby.put(b.id, null);
        } else {
            lobby.put(b.id, null);
            lobby.put(a.id, "alice");
        }
        assertEquals(lobby, e.getMembers("lobby"));
        assertEquals(new ArrayList<>(lobby.keySet()), new ArrayList<>(e.getMembers("lobby").keySet()), "sorted");
        assertEquals(Set.of(ca, cb), Set.copyOf(e.getConnections("lobby")));
        assertEquals(List.of(ca), e.getConnections("news"));
        assertEquals(Set.of("lobby", "news"), Set.copyOf(ca.getChannels()));
        assertTrue(e.isOnline("alice"));
        assertFalse(e.isOnline("bob"));
        assertFalse(e.isOnline(null));
        assertFalse(e.isOnline(""), "an empty user is nobody");
        assertEquals(1, e.getOnlineCount(), "anonymous pages are not users");
        assertEquals(List.of(ca), e.getUserConnections("alice"));
        assertTrue(e.getUserConnections(null).isEmpty());
        assertEquals(0, e.getMemberCount("nobody-here"));
        assertEquals(0, e.getMemberCount(null));
        assertTrue(e.getConnections(null).isEmpty());
        assertEquals(0, e.getMemberCount("x".repeat(200)), "a name nobody can have");

        // A second page of alice's; the application subscribes and unsubscribes.
        Harness.Client a2 = open("alice");
        CometConnection ca2 = e.getConnection(a2.id);
        assertEquals(Set.of(ca, ca2), Set.copyOf(e.getUserConnections("alice")));
        assertEquals(1, e.getOnlineCount());
        assertTrue(ca2.getChannels().isEmpty());
        assertTrue(e.subscribe(a2.id, "lobby"));
        await(() -> e.getMemberCount("lobby") == 3, "a2 joined");
        assertTrue(ca2.isSubscribed("lobby"));
        assertTrue(e.unsubscribe(b.id, "lobby"));
        await(() -> e.getMemberCount("lobby") == 2, "b left");
        assertEquals(Set.of(ca, ca2), Set.copyOf(e.getConnections("lobby")));
        assertTrue(cb.getChannels().isEmpty());

        // Dying: still a member and online, until its dying period ends.
        a.abort();
        await(() -> CometProtocol.STATE_DYING.equals(ca.getState()), "a dying");
        assertEquals(2, e.getMemberCount("lobby"));
        assertTrue(e.getConnections("lobby").contains(ca));
        assertEquals(Set.of("lobby", "news"), Set.copyOf(ca.getChannels()));
        assertEquals(Set.of(ca, ca2), Set.copyOf(e.getUserConnections("alice")));
        await(() -> e.getConnection(a.id) == null, "a dropped (Comet.ConnExpires=1000)");
        assertEquals(1, e.getMemberCount("lobby"));
        assertEquals(List.of(ca2), e.getConnections("lobby"));
        assertTrue(ca.getChannels().isEmpty(), "a dropped connection has no channel");
        assertFalse(ca.isSubscribed("lobby"));
        assertEquals(List.of(ca2), e.getUserConnections("alice"));
        assertTrue(e.isOnline("alice"));

        a2.close();
        await(() -> !e.isOnline("alice"), "alice offline");
        assertEquals(0, e.getOnlineCount());
        assertEquals(0, e.getMemberCount("lobby"));
    }

    // ---- PresenceEvents, in the core's order ------------------------------------------------------

    @Test
    void presenceEventsComeAfterTheConnectAndBeforeTheDrop() throws Exception {
        CometEngine e = engine();
        Harness.Client p = open("pat", "lobby", "news", "room");
        send(p, "{\"t\":\"unsub\",\"id\":1,\"ch\":\"room\"}");
        assertEquals("ack", p.answer(1, 5000).get("t"));
        send(p, "{\"t\":\"sub\",\"id\":2,\"ch\":\"room\"}");
        assertEquals("ack", p.answer(2, 5000).get("t"));
        send(p, "{\"t\":\"sub\",\"id\":3,\"ch\":\"room\"}"); // twice: nothing changes
        assertEquals("ack", p.answer(3, 5000).get("t"));
        p.close();
        await(() -> eventsOf(p.id).contains("drop 1000"), "the drop");
        List<String> got = eventsOf(p.id);
        // The ticket's presence channels joined in the core's order (either first).
        assertEquals("connect", got.get(0), got.toString());
        assertEquals(Set.of("join lobby pat", "join room pat"), Set.copyOf(got.subList(1, 3)), got.toString());
        assertEquals(List.of("leave room pat", "join room pat"), got.subList(3, 5), got.toString());
        assertEquals(Set.of("leave lobby pat", "leave room pat"), Set.copyOf(got.subList(5, 7)), got.toString());
        assertEquals(List.of("beforeDrop members 0", "drop 1000"), got.subList(7, got.size()), got.toString());
        assertEquals(0, e.getMemberCount("room"));
    }

    @Test
    void presenceFramesComeFromTheCore() throws Exception {
        Harness.Client watcher = open("walt", "room");
        Harness.Client q = open("quinn", "room");
        Map<String, Object> join = watcher.nextWhere(m -> "join".equals(m.get("t")) && q.id.equals(m.get("cId")),
                5000);
        assertEquals(Map.of("t", "join", "ch", "room", "cId", q.id, "user", "quinn"), join);
        Harness.Client anon = open(null, "room");
        join = watcher.nextWhere(m -> "join".equals(m.get("t")) && anon.id.equals(m.get("cId")), 5000);
        assertTrue(join.containsKey("user") && join.get("user") == null, join.toString());
        q.close();
        Map<String, Object> leave = watcher.nextWhere(
                m -> "leave".equals(m.get("t")) && q.id.equals(m.get("cId")), 5000);
        assertEquals(Map.of("t", "leave", "ch", "room", "cId", q.id, "user", "quinn"), leave);
        // news has no presence: a page there hears of nobody.
        Harness.Client n = open("nina", "news");
        open("nick", "news");
        engine().sendToAll("news", "marker");
        Map<String, Object> m = n.nextWhere(f -> !"pong".equals(f.get("t")), 5000);
        assertEquals("msg", m.get("t"), m.toString());
    }

    // ---- identities without a socket -------------------------------------------------------------

    @Test
    void aRevivalKeepsTheMembershipWithoutALeave() throws Exception {
        CometEngine e = engine();
        String cid = e.newId();
        String t = ticket(cid, "ravi", "lobby");
        Harness.Client first = attach(cid, t);
        CometConnection conn = e.getConnection(cid);
        first.abort();
        await(() -> CometProtocol.STATE_DYING.equals(conn.getState()), "dying");
        attach(cid, t); // the same id again, within Comet.ConnExpires
        await(() -> eventsOf(cid).contains("revival"), "the revival");
        assertEquals(List.of("connect", "join lobby ravi", "dying", "revival"), eventsOf(cid));
        assertEquals(List.of("lobby"), conn.getChannels());
        assertEquals(List.of(conn), e.getConnections("lobby"));
        assertTrue(e.isOnline("ravi"));
    }

    @Test
    void aLongPollPageBetweenTwoPollsIsAMember() throws Exception {
        CometEngine e = engine();
        String cid = e.newId();
        String url = Harness.httpUrl("/poll", ticket(cid, "lena", "lobby"), null);
        assertEquals("open", Harness.poll(url, 10000).get(0).get("t"));
        await(() -> e.getConnection(cid) != null, "connect event");
        CometConnection conn = e.getConnection(cid);
        Thread.sleep(200); // no poll held: the identity waits for the next one
        assertEquals(List.of(conn), e.getConnections("lobby"));
        assertEquals(List.of("lobby"), conn.getChannels());
        assertTrue(e.isOnline("lena"));
        e.drop(conn);
        await(() -> eventsOf(cid).contains("drop 4003"), "the drop event");
        assertEquals(0, e.getMemberCount("lobby"));
        assertFalse(e.isOnline("lena"));
        assertEquals(List.of("connect", "join lobby lena", "leave lobby lena", "beforeDrop members 0",
                "drop 4003"), eventsOf(cid));
    }

    @Test
    void anEngineThatDoesNotRunKnowsNobody() {
        CometEngine idle = new CometEngine();
        assertTrue(idle.getConnections("lobby").isEmpty());
        assertTrue(idle.getMembers("lobby").isEmpty());
        assertEquals(0, idle.getMemberCount("lobby"));
        assertFalse(idle.isOnline("alice"));
        assertEquals(0, idle.getOnlineCount());
        assertTrue(idle.getUserConnections("alice").isEmpty());
        assertTrue(CometConnection.remote("AZaz09-_AZaz09-_AZaz09", "zed").getChannels().isEmpty());
    }
}
