package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.comet4j.core.event.ChannelEvent;
import org.comet4j.core.event.PresenceEvent;
import org.comet4j.core.event.PublishEvent;
import org.comet4j.core.event.SubscribeEvent;
import org.comet4j.core.listener.ChannelListener;
import org.comet4j.core.listener.PresenceListener;
import org.comet4j.core.listener.PublishListener;
import org.comet4j.core.listener.SubscribeListener;
import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Talking back (docs/protocol.md section 7) through the real library with
 * WebSocket clients: sub/unsub/pub/req and their errors, server-managed
 * subscriptions, users, presence.
 */
class TalkBackTest {

    static final BlockingQueue<ChannelEvent> CHANNEL_EVENTS = new LinkedBlockingQueue<>();
    static final BlockingQueue<PresenceEvent> PRESENCE = new LinkedBlockingQueue<>();
    static final Set<String> SLOW_STARTED = ConcurrentHashMap.newKeySet();

    final List<Harness.Client> clients = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start() {
        CHANNEL_EVENTS.clear();
        PRESENCE.clear();
        CometContext cc = CometContext.getInstance();
        cc.registChannel("news");                                         // server push only
        cc.registChannel("room", true, false);                            // pages publish
        cc.registChannel("chat", ChannelOptions.defaults().clientWritable().presence());
        cc.registChannel("secret");                                       // refused below
        Harness.start(Map.of("Comet.ActionTimeout", "1000", "Comet.ActionThreads", "4"));
        CometEngine e = Harness.engine();
        e.addSubscribeListener(new SubscribeListener() {
            @Override
            public boolean handleEvent(SubscribeEvent ev) {
                return !ev.getChannel().equals("secret");
            }
        });
        e.addPublishListener(new PublishListener() {
            @Override
            public boolean handleEvent(PublishEvent ev) {
                return !"forbidden".equals(ev.getData());
            }
        });
        e.addChannelListener("room", new ChannelListener() {
            @Override
            public boolean handleEvent(ChannelEvent ev) {
                CHANNEL_EVENTS.add(ev);
                return true;
            }
        });
        e.addPresenceListener(new PresenceListener() {
            @Override
            public boolean handleEvent(PresenceEvent ev) {
                PRESENCE.add(ev);
                return true;
            }
        });
        e.addActionHandler("echo", r -> {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("route", r.getRoute());
            m.put("params", r.getParams());
            m.put("user", r.getUser());
            m.put("cid", r.getConnection().getId());
            return m;
        });
        e.addActionHandler("boom", r -> {
            throw new IllegalStateException("cart is empty");
        });
        e.addActionHandler("slow", r -> {
            SLOW_STARTED.add(r.getConnection().getId());
            Thread.sleep(((Number) r.getParam("ms")).longValue());
            return "late";
        });
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    @AfterEach
    void closeClients() {
        for (Harness.Client c : clients) {
            c.abort();
        }
    }

    // ---- helpers -------------------------------------------------------------------

    Harness.Client open(FakeHttp.Req req) throws Exception {
        FakeHttp.Resp r = Harness.handshake(req.param("cmd", "conn"));
        assertEquals(200, r.status, r.body.toString());
        Map<String, Object> a = MiniJson.object(r.body.toString());
        Harness.Client c = Harness.connect((String) a.get("ticket"));
        clients.add(c);
        c.id = (String) a.get("cId");
        assertEquals("open", c.next(10000).get("t"));
        await(() -> Harness.engine().getConnection(c.id) != null, "connect event of " + c.id);
        return c;
    }

    Harness.Client open() throws Exception {
        return open(new FakeHttp.Req());
    }

    Harness.Client open(String user) throws Exception {
        FakeHttp.Req req = new FakeHttp.Req();
        req.user = user;
        return open(req);
    }

    static void send(Harness.Client c, String frame) {
        c.ws.sendText(frame, true).join();
    }

    /** The next frame of type t (skipping others, e.g. joins of other tests' clients). */
    static Map<String, Object> nextOf(Harness.Client c, String t, long ms) throws InterruptedException {
        return c.nextWhere(m -> t.equals(m.get("t")), ms);
    }

    static void assertErr(Map<String, Object> m, long code) {
        assertEquals("err", m.get("t"), m.toString());
        assertEquals(code, m.get("code"), m.toString());
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

    /** The next msg frame on channel ch (skipping others). */
    static Map<String, Object> nextMsg(Harness.Client c, String ch, long ms) throws InterruptedException {
        long end = System.currentTimeMillis() + ms;
        while (true) {
            Map<String, Object> m = c.nextMsg(Math.max(1, end - System.currentTimeMillis()));
            if (ch.equals(m.get("ch"))) {
                return m;
            }
        }
    }

    // ---- subscribe ---------------------------------------------------------------------

    @Test
    void subscribeAckedRefusedUnknown() throws Exception {
        Harness.Client c = open();
        send(c, "{\"t\":\"unsub\",\"id\":1,\"ch\":\"room\"}");
        assertEquals("ack", c.answer(1, 5000).get("t"));
        assertFalse(Harness.engine().getConnection(c.id).isSubscribed("room"));

        send(c, "{\"t\":\"sub\",\"id\":2,\"ch\":\"room\"}");
        Map<String, Object> ack = c.answer(2, 5000);
        assertEquals("ack", ack.get("t"), ack.toString());
        assertTrue(((Map<?, ?>) ack.get("pos")).containsKey("room"), ack.toString());
        assertTrue(Harness.engine().getConnection(c.id).isSubscribed("room"));
        assertTrue(Harness.engine().getConnections("room").contains(Harness.engine().getConnection(c.id)));

        Harness.engine().sendToAll("room", "after-sub");
        assertEquals("after-sub", nextMsg(c, "room", 5000).get("data"));

        send(c, "{\"t\":\"sub\",\"id\":3,\"ch\":\"secret\"}");
        assertErr(c.answer(3, 5000), 4030);
        send(c, "{\"t\":\"sub\",\"id\":4,\"ch\":\"nope\"}");
        assertErr(c.answer(4, 5000), 4040);
    }

    @Test
    void unsubscribedPageGetsNothingUntilSubscribed() throws Exception {
        Harness.Client c = open();
        send(c, "{\"t\":\"unsub\",\"id\":1,\"ch\":\"room\"}");
        c.answer(1, 5000);
        Harness.engine().sendToAll("room", "missed");
        Harness.engine().sendToAll("news", "marker");
        assertEquals("news", c.nextMsg(5000).get("ch")); // the room message never came
        send(c, "{\"t\":\"sub\",\"id\":2,\"ch\":\"room\"}");
        c.answer(2, 5000);
        Harness.engine().sendToAll("room", "live");
        assertEquals("live", c.nextMsg(5000).get("data"));
    }

    @Test
    void malformedCommands() throws Exception {
        Harness.Client c = open();
        send(c, "not json");
        Map<String, Object> e = nextOf(c, "err", 5000);
        assertErr(e, 4000);
        assertNull(e.get("id"));
        send(c, "{\"t\":\"dance\",\"id\":9}");
        assertErr(c.answer(9, 5000), 4000);
        send(c, "{\"t\":\"sub\",\"id\":10}");
        assertErr(c.answer(10, 5000), 4000);
        send(c, "{\"t\":\"sub\",\"ch\":\"room\"}");
        assertErr(nextOf(c, "err", 5000), 4000);
    }

    // ---- publish -------------------------------------------------------------------------

    @Test
    void publishReachesSubscribersAndChannelListener() throws Exception {
        CHANNEL_EVENTS.clear();
        Harness.Client a = open();
        Harness.Client b = open();
        send(a, "{\"t\":\"pub\",\"id\":3,\"ch\":\"room\",\"data\":{\"text\":\"hi\",\"n\":[1,2]}}");
        // the broadcast first (ChannelListeners, broadcast, then the ack), the publisher included
        assertEquals(Map.of("text", "hi", "n", List.of(1L, 2L)), nextMsg(a, "room", 5000).get("data"));
        assertEquals("ack", a.answer(3, 5000).get("t"));
        Map<String, Object> m = nextMsg(b, "room", 5000);
        assertEquals(Map.of("text", "hi", "n", List.of(1L, 2L)), m.get("data"));
        ChannelEvent ev = CHANNEL_EVENTS.poll(5, TimeUnit.SECONDS);
        assertNotNull(ev);
        assertEquals("room", ev.getChannel());
        assertEquals(a.id, ev.getConn().getId());
        assertEquals("hi", ((Map<?, ?>) ev.getData()).get("text"));
    }

    @Test
    void publishRefusals() throws Exception {
        Harness.Client a = open();
        send(a, "{\"t\":\"pub\",\"id\":1,\"ch\":\"news\",\"data\":1}");
        assertErr(a.answer(1, 5000), 4031);
        send(a, "{\"t\":\"pub\",\"id\":2,\"ch\":\"room\",\"data\":\"forbidden\"}");
        assertErr(a.answer(2, 5000), 4030);
        send(a, "{\"t\":\"pub\",\"id\":3,\"ch\":\"nope\",\"data\":1}");
        assertErr(a.answer(3, 5000), 4040);
    }

    // ---- requests --------------------------------------------------------------------------

    @Test
    void requestsAndTheirErrors() throws Exception {
        Harness.Client c = open("req-user");
        send(c, "{\"t\":\"req\",\"id\":4,\"route\":\"echo\",\"params\":{\"sku\":\"A1\",\"qty\":2}}");
        Map<String, Object> res = c.answer(4, 5000);
        assertEquals("res", res.get("t"), res.toString());
        Map<?, ?> r = (Map<?, ?>) res.get("result");
        assertEquals("echo", r.get("route"));
        assertEquals(Map.of("sku", "A1", "qty", 2L), r.get("params"));
        assertEquals("req-user", r.get("user"));
        assertEquals(c.id, r.get("cid"));

        send(c, "{\"t\":\"req\",\"id\":5,\"route\":\"boom\"}");
        Map<String, Object> e = c.answer(5, 5000);
        assertErr(e, 5000);
        assertEquals("cart is empty", e.get("message"));

        send(c, "{\"t\":\"req\",\"id\":6,\"route\":\"nope\"}");
        assertErr(c.answer(6, 5000), 4040);
    }

    @Test
    void requestTimeoutDropsTheLateResult() throws Exception {
        Harness.Client c = open();
        long t0 = System.currentTimeMillis();
        send(c, "{\"t\":\"req\",\"id\":7,\"route\":\"slow\",\"params\":{\"ms\":1500}}");
        assertErr(c.answer(7, 5000), 4080);
        long took = System.currentTimeMillis() - t0;
        assertTrue(took >= 900 && took < 1450, "4080 after " + took + " ms");
        send(c, "{\"t\":\"req\",\"id\":8,\"route\":\"echo\"}");
        assertEquals("res", c.answer(8, 5000).get("t"));
        Thread.sleep(700); // past the slow action's end: no second answer to 7
        Harness.engine().sendToAll("news", "marker");
        while (true) {
            Map<String, Object> m = c.next(5000);
            assertFalse(Long.valueOf(7).equals(m.get("id")), "a late answer: " + m);
            if ("msg".equals(m.get("t")) && "marker".equals(m.get("data"))) {
                break;
            }
        }
    }

    @Test
    void aSlowActionDelaysNoOther() throws Exception {
        Harness.Client c = open();
        send(c, "{\"t\":\"req\",\"id\":1,\"route\":\"slow\",\"params\":{\"ms\":700}}");
        await(() -> SLOW_STARTED.contains(c.id), "slow action started");
        long t0 = System.currentTimeMillis();
        send(c, "{\"t\":\"req\",\"id\":2,\"route\":\"echo\"}");
        Map<String, Object> first = nextOf(c, "res", 5000);
        assertEquals(2L, first.get("id"), "echo answered first");
        assertTrue(System.currentTimeMillis() - t0 < 500);
        Map<String, Object> second = nextOf(c, "res", 5000);
        assertEquals(1L, second.get("id"));
        assertEquals("late", second.get("result"));
    }

    // ---- users ------------------------------------------------------------------------------

    @Test
    void sendToUserReachesEveryConnectionOfTheUserOnly() throws Exception {
        CometEngine e = Harness.engine();
        assertFalse(e.isOnline("alice"));
        int before = e.getOnlineCount();
        Harness.Client a1 = open("alice");
        Harness.Client a2 = open("alice");
        Harness.Client b = open("bob");
        assertTrue(e.isOnline("alice"));
        assertTrue(e.isOnline("bob"));
        assertFalse(e.isOnline("carol"));
        assertEquals(2, e.getUserConnections("alice").size());
        assertEquals("alice", e.getConnection(a1.id).getUser());
        assertEquals(before + 2, e.getOnlineCount());

        e.sendToUser("alice", "news", Map.of("to", "alice"));
        e.sendTo("news", e.getConnection(b.id), "marker");
        assertEquals(Map.of("to", "alice"), a1.nextMsg(5000).get("data"));
        assertEquals(Map.of("to", "alice"), a2.nextMsg(5000).get("data"));
        assertEquals("marker", b.nextMsg(5000).get("data")); // and nothing for alice before it

        a1.close();
        a2.close();
        await(() -> !e.isOnline("alice"), "alice offline");
        assertTrue(e.isOnline("bob"));
        assertEquals(before + 1, e.getOnlineCount());
    }

    @Test
    void beforeConnectSetsTheUser() throws Exception {
        CometEngine e = Harness.engine();
        org.comet4j.core.listener.BeforeConnectListener l = new org.comet4j.core.listener.BeforeConnectListener() {
            @Override
            public boolean handleEvent(org.comet4j.core.event.BeforeConnectEvent ev) {
                String t = ev.getRequest().getParameter("token");
                if (t != null) {
                    ev.setUser("user-" + t);
                }
                return true;
            }
        };
        e.addBeforeConnectListener(l);
        try {
            Harness.Client c = open(new FakeHttp.Req().param("token", "42").header("X-Test", "yes"));
            CometConnection conn = e.getConnection(c.id);
            assertEquals("user-42", conn.getUser());
            assertTrue(e.isOnline("user-42"));
            assertEquals("42", conn.getParameter("token"));
            assertEquals("yes", conn.getHeader("x-test"));
            assertTrue(conn.getHeaders().containsKey("X-Test"), conn.getHeaders().toString());
            assertEquals("127.0.0.1", conn.getClientIp());
            assertTrue(conn.getClientPort() > 0);
            assertNotNull(conn.getRequest());
            e.sendToUser("user-42", "news", "hello");
            assertEquals("hello", c.nextMsg(5000).get("data"));
        } finally {
            e.removeBeforeConnectListener(l);
        }
    }

    // ---- presence ------------------------------------------------------------------------------

    @Test
    void presenceJoinAndLeave() throws Exception {
        CometEngine e = Harness.engine();
        PRESENCE.clear();
        Harness.Client a = open("ann");
        await(() -> e.getConnections("chat").contains(e.getConnection(a.id)), "ann in chat");
        int members = e.getMemberCount("chat");
        assertTrue(members >= 1);
        Harness.Client b = open("ben");
        await(() -> e.getMemberCount("chat") == members + 1, "ben in chat");
        Map<String, Object> join;
        do {
            join = nextOf(a, "join", 5000);
        } while (!b.id.equals(join.get("cId")));
        assertEquals("chat", join.get("ch"));
        assertEquals("ben", join.get("user"));
        // room has no presence: no join frame for it, ever
        assertFalse(a.messages.stream().anyMatch(s -> s.contains("\"join\"") && s.contains("\"room\"")));

        PresenceEvent pe = awaitPresence(b.id, true);
        assertEquals("chat", pe.getChannel());
        assertEquals("ben", pe.getUser());

        send(b, "{\"t\":\"unsub\",\"id\":1,\"ch\":\"chat\"}");
        b.answer(1, 5000);
        Map<String, Object> leave;
        do {
            leave = nextOf(a, "leave", 5000);
        } while (!b.id.equals(leave.get("cId")));
        assertEquals("chat", leave.get("ch"));
        assertTrue(awaitPresence(b.id, false).isLeft());
        assertEquals(members, e.getMemberCount("chat"));

        send(b, "{\"t\":\"sub\",\"id\":2,\"ch\":\"chat\"}");
        b.answer(2, 5000);
        do {
            join = nextOf(a, "join", 5000);
        } while (!b.id.equals(join.get("cId")));
        b.close(); // a drop is a leave
        do {
            leave = nextOf(a, "leave", 5000);
        } while (!b.id.equals(leave.get("cId")));
        await(() -> e.getMemberCount("chat") == members, "member count back");
    }

    static PresenceEvent awaitPresence(String cid, boolean joined) throws InterruptedException {
        long end = System.currentTimeMillis() + 5000;
        while (true) {
            PresenceEvent ev = PRESENCE.poll(Math.max(1, end - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
            if (ev == null) {
                throw new AssertionError("no presence event for " + cid);
            }
            if (ev.getConn().getId().equals(cid) && ev.isJoined() == joined && ev.getChannel().equals("chat")) {
                return ev;
            }
        }
    }

    // ---- server-managed subscriptions ------------------------------------------------------------

    @Test
    void engineSubscribeFromJava() throws Exception {
        CometEngine e = Harness.engine();
        Harness.Client c = open();
        assertTrue(e.unsubscribe(c.id, "room"));
        await(() -> !e.getConnection(c.id).isSubscribed("room"), "the core unsubscribed it");
        e.sendToAll("room", "missed");
        e.sendToAll("news", "marker");
        assertEquals("news", c.nextMsg(5000).get("ch"));

        assertTrue(e.subscribe(c.id, "room"));
        await(() -> e.getConnections("room").contains(e.getConnection(c.id)), "the core subscribed it");
        e.sendToAll("room", "now");
        assertEquals("now", nextMsg(c, "room", 5000).get("data"));

        assertTrue(e.subscribe(c.id, "extra")); // any channel, registered or not: the server decides
        e.sendToAll("extra", "x");
        assertEquals("x", nextMsg(c, "extra", 5000).get("data"));
        assertFalse(e.subscribe("AAAAAAAAAAAAAAAAAAAAAA", "room"));
        assertThrows(IllegalArgumentException.class, () -> e.subscribe(c.id, ""));
    }

    /** Destroy ends the action pool, even with an action running; then a fresh engine for the other tests. */
    @Test
    void destroyLeavesNoActionThread() throws Exception {
        Harness.Client c = open();
        send(c, "{\"t\":\"req\",\"id\":1,\"route\":\"slow\",\"params\":{\"ms\":60000}}");
        await(() -> SLOW_STARTED.contains(c.id), "slow action started");
        Harness.stop();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("comet4j-action")) {
                t.join(5000);
                assertFalse(t.isAlive(), t.getName() + " left after destroy");
            }
        }
        start(); // the other tests' engine again (the class order is not fixed)
    }

    @Test
    void duplicateActionRouteRefused() {
        assertThrows(IllegalArgumentException.class, () -> Harness.engine().addActionHandler("echo", r -> null));
    }
}
