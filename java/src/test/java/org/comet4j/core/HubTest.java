package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.comet4j.core.event.BeforeConnectEvent;
import org.comet4j.core.event.PublishEvent;
import org.comet4j.core.event.SubscribeEvent;
import org.comet4j.core.exception.ConfigException;
import org.comet4j.core.exception.NativeException;
import org.comet4j.core.listener.BeforeConnectListener;
import org.comet4j.core.listener.PublishListener;
import org.comet4j.core.listener.SubscribeListener;
import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two engines in this JVM on one real redis-server (docs/protocol.md
 * section 9): A is CometContext's (the handshake servlet's), with
 * Comet.ListenActions=false; B is a second CometEngine that runs the
 * actions.  Pages attach over real WebSockets to either; what A sends
 * reaches pages on B, A's pages' requests run once on B, and online and
 * presence are the cluster's.
 */
class HubTest {

    static final String KEY = "hub-test-api-key-0123456789";

    static RedisServer redis;
    static String prefix;
    static CometEngine a;
    static CometEngine b;
    static final Map<String, ChannelOptions> channelsB = new ConcurrentHashMap<>();
    static final AtomicInteger echoOnA = new AtomicInteger();
    static final AtomicInteger echoOnB = new AtomicInteger();
    static final List<ActionRequest> requestsOnB = Collections.synchronizedList(new ArrayList<>());

    final List<Harness.Client> clients = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        prefix = "t" + System.nanoTime();
        CometContext.getInstance().registChannel("news");
        CometContext.getInstance().registChannel("lobby", false, true);
        Harness.start(Map.of("Comet.Hub", redis.url, "Comet.HubPrefix", prefix, "Comet.ListenActions", "false",
                "Comet.ApiKey", KEY, "Comet.ConnExpires", "200"));
        a = Harness.engine();
        a.addActionHandler("echo", req -> {
            echoOnA.incrementAndGet(); // must never run: A queues its requests
            return "from A";
        });

        channelsB.put("news", ChannelOptions.defaults());
        channelsB.put("lobby", ChannelOptions.defaults().presence());
        channelsB.put("chat", ChannelOptions.defaults().clientWritable());
        channelsB.put("vip", ChannelOptions.defaults());
        b = new CometEngine(channelsB);
        b.start(config(Map.of("Comet.ListenActions", "true")));
        b.addActionHandler("echo", req -> {
            echoOnB.incrementAndGet();
            requestsOnB.add(req);
            Map<String, Object> m = new HashMap<>();
            m.put("node", "B");
            m.put("params", req.getParams());
            m.put("user", req.getUser());
            return m;
        });
        b.addActionHandler("boom", req -> {
            throw new IllegalStateException("it broke on B");
        });
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (b != null) {
                b.stop();
            }
            Harness.stop();
        } finally {
            if (redis != null) {
                redis.close();
            }
        }
    }

    @AfterEach
    void closeClients() throws Exception {
        for (Harness.Client c : clients) {
            c.abort();
        }
        // Comet.ConnExpires=200: their drops (and the map entries' removal) follow.
        await(() -> a.getConnections().isEmpty() && b.getConnections().isEmpty(), "the clients' drops");
    }

    /** A config on this Redis with the test's prefix: loopback, a free port, short dying period. */
    static CometConfig config(Map<String, String> extra) {
        Map<String, String> cfg = new HashMap<>();
        cfg.put("Comet.Port", "0");
        cfg.put("Comet.Host", "127.0.0.1");
        cfg.put("Comet.Threads", "2");
        cfg.put("Comet.Secret", Harness.SECRET);
        cfg.put("Comet.Hub", redis.url);
        cfg.put("Comet.HubPrefix", prefix);
        cfg.put("Comet.ConnExpires", "200");
        cfg.putAll(extra);
        return CometConfig.parse(cfg);
    }

    // ---- helpers -------------------------------------------------------------------

    /** A page on A, through the servlet's handshake (user: the principal). */
    Harness.Client openOnA(String user) throws Exception {
        FakeHttp.Req req = new FakeHttp.Req();
        req.user = user;
        FakeHttp.Resp r = Harness.handshake(req.param("cmd", "conn"));
        assertEquals(200, r.status, r.body.toString());
        Map<String, Object> ans = MiniJson.object(r.body.toString());
        Harness.Client c = Harness.connect((String) ans.get("ticket"));
        clients.add(c);
        c.id = (String) ans.get("cId");
        assertEquals("open", c.next(10000).get("t"));
        await(() -> a.getConnection(c.id) != null, "connect event of " + c.id + " on A");
        return c;
    }

    /** A page on B, with a ticket B signs for its channels. */
    Harness.Client openOnB(String user) throws Exception {
        String cid = b.newId();
        String ticket = b.ticket(cid, user, System.currentTimeMillis() / 1000 + 60,
                new ArrayList<>(channelsB.keySet()));
        Harness.Client c = new Harness.Client();
        c.ws = Harness.HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create("ws://127.0.0.1:" + b.getPort() + "/ws?ticket=" + ticket), c)
                .get(10, TimeUnit.SECONDS);
        clients.add(c);
        c.id = cid;
        assertEquals("open", c.next(10000).get("t"));
        await(() -> b.getConnection(cid) != null, "connect event of " + cid + " on B");
        return c;
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long end = System.currentTimeMillis() + 10000;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    /** The next msg frame on channel ch (skipping others). */
    static Map<String, Object> msgOn(Harness.Client c, String ch, long ms) throws InterruptedException {
        return c.nextWhere(m -> "msg".equals(m.get("t")) && ch.equals(m.get("ch")), ms);
    }

    static Map<String, Object> api(String pathAndQuery) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort() + pathAndQuery))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + KEY).GET().build();
        HttpResponse<String> r = Harness.HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return MiniJson.object(r.body());
    }

    // ---- (a) configuration -----------------------------------------------------------

    @Test
    void badHubValueNamesCometHub() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> CometConfig.parse(Map.of("Comet.Hub", "redis:/127.0.0.1:6379")));
        assertEquals("Comet.Hub", e.getParameter());
        assertTrue(e.getMessage().startsWith("Comet.Hub: "), e.getMessage());
    }

    @Test
    void unreachableRedisFailsStartUpNamingCometHub() throws Exception {
        int nobody = RedisServer.freePort();
        CometEngine e = new CometEngine();
        NativeException x = assertThrows(NativeException.class,
                () -> e.start(config(Map.of("Comet.Hub", "redis://127.0.0.1:" + nobody + "/0"))));
        assertTrue(x.getMessage().startsWith("Comet.Hub: "), x.getMessage());
        assertTrue(x.getMessage().contains(String.valueOf(nobody)), x.getMessage());
        assertEquals(NativeException.EHUB, x.getCode());
        assertFalse(e.isRunning());
    }

    @Test
    void weakSecretOrKeyFailsStartUpNamingTheSetting() {
        CometEngine e = new CometEngine();
        ConfigException x = assertThrows(ConfigException.class,
                () -> e.start(config(Map.of("Comet.Secret", "x".repeat(32)))));
        assertEquals("Comet.Secret", x.getParameter());
        assertTrue(x.getMessage().startsWith("Comet.Secret: "), x.getMessage());
        assertTrue(x.getMessage().contains("too little variety"), x.getMessage());
        ConfigException k = assertThrows(ConfigException.class,
                () -> e.start(config(Map.of("Comet.ApiKey", "ab".repeat(10)))));
        assertTrue(k.getMessage().startsWith("Comet.ApiKey: "), k.getMessage());
        assertFalse(e.isRunning());
    }

    // ---- (b) sends cross nodes -----------------------------------------------------------

    @Test
    void sendToAllOnAReachesPagesOnBothNodes() throws Exception {
        assertEquals(1L, a.getStats().get("hubUp"));
        assertEquals(0L, b.getStats().get("hubRefused"));
        Harness.Client onB = openOnB("bob");
        Harness.Client onA = openOnA("alice");
        a.sendToAll("news", Map.of("n", 1L));
        assertEquals(Map.of("n", 1L), msgOn(onB, "news", 10000).get("data"));
        assertEquals(Map.of("n", 1L), msgOn(onA, "news", 10000).get("data"));
        b.sendToAll("news", "from B");
        assertEquals("from B", msgOn(onA, "news", 10000).get("data"));
        assertEquals("from B", msgOn(onB, "news", 10000).get("data"));
    }

    @Test
    void sendToAConnectionOrUserOnAnotherNode() throws Exception {
        Harness.Client onB = openOnB("carol");
        assertNull(a.getConnection(onB.id), "A does not hold it");
        a.sendToConnection(onB.id, "news", "just you");
        assertEquals("just you", msgOn(onB, "news", 10000).get("data"));
        a.sendToUser("carol", "news", "carol, on any node");
        assertEquals("carol, on any node", msgOn(onB, "news", 10000).get("data"));
        a.dropConnection(onB.id, 4100, "moved");
        assertEquals(4100, onB.closeCode(10000));
    }

    @Test
    void hubServerWithoutListenerSendsThroughTheHub() throws Exception {
        Harness.Client onB = openOnB("dave");
        CometEngine hs = new CometEngine();
        hs.start(config(Map.of("Comet.Port", "-1", "Comet.PublicUrl", "ws://127.0.0.1:" + b.getPort() + "/ws")));
        try {
            assertEquals(-1, hs.getPort());
            hs.sendToAll("news", "from the HubServer");
            assertEquals("from the HubServer", msgOn(onB, "news", 10000).get("data"));
            hs.sendToConnection(onB.id, "news", "by id");
            assertEquals("by id", msgOn(onB, "news", 10000).get("data"));
        } finally {
            hs.stop();
        }
    }

    // ---- (c) the action queue ----------------------------------------------------------------

    @Test
    void aRequestOnANonListeningNodeRunsOnceOnTheListeningOne() throws Exception {
        int onA = echoOnA.get();
        int onB = echoOnB.get();
        Harness.Client c = openOnA("erin");
        c.ws.sendText("{\"t\":\"req\",\"id\":7,\"route\":\"echo\",\"params\":{\"x\":1}}", true).join();
        Map<String, Object> res = c.answer(7, 10000);
        assertEquals("res", res.get("t"), res.toString());
        assertEquals(Map.of("node", "B", "params", Map.of("x", 1L), "user", "erin"), res.get("result"));
        Thread.sleep(500); // a second run would have happened by now
        assertEquals(onB + 1, echoOnB.get(), "ran exactly once on B");
        assertEquals(onA, echoOnA.get(), "never on A");
        ActionRequest r = requestsOnB.get(requestsOnB.size() - 1);
        assertEquals(c.id, r.getConnectionId());
        assertTrue(r.isRemote());
        assertNull(r.getConnection());
        assertEquals("erin", r.getUser());
        assertEquals(7, r.getId());
        assertEquals("0", redis.command("LLEN", prefix + ":actions").substring(1), "the queue is empty");
        // Answered, so done: no taken list keeps it (else, B gone, it would run again).
        await(() -> ":0".equals(taken()), "B's taken list is empty");
    }

    /** How many requests the nodes' taken lists hold, as Redis answers (":n"). */
    static String taken() {
        try {
            return redis.command("EVAL", "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do "
                    + "n = n + redis.call('LLEN', k) end return n", "0", prefix + ":taken:*");
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    @Test
    void queuedRequestErrorsComeBackFromTheListeningNode() throws Exception {
        Harness.Client c = openOnA(null);
        c.ws.sendText("{\"t\":\"req\",\"id\":8,\"route\":\"nowhere\"}", true).join();
        Map<String, Object> e = c.answer(8, 10000);
        assertEquals("err", e.get("t"), e.toString());
        assertEquals(4040L, e.get("code"), e.toString());
        c.ws.sendText("{\"t\":\"req\",\"id\":9,\"route\":\"boom\",\"params\":null}", true).join();
        e = c.answer(9, 10000);
        assertEquals(5000L, e.get("code"), e.toString());
        assertEquals("it broke on B", e.get("message"));
    }

    @Test
    void aRequestTheQueueRefusesIsAnswered5000AtOnce() throws Exception {
        int onB = echoOnB.get();
        Harness.Client c = openOnA("gina");
        // A 65516-byte frame; 65554 bytes once wrapped for the queue (at most 65535).
        String big = "x".repeat(65470);
        c.ws.sendText("{\"t\":\"req\",\"id\":11,\"route\":\"echo\",\"params\":\"" + big + "\"}", true).join();
        Map<String, Object> e = c.answer(11, 10000);
        assertEquals(5000L, e.get("code"), e.toString());
        assertTrue(((String) e.get("message")).startsWith("request not queued: "), e.toString());
        assertEquals(onB, echoOnB.get());
    }

    @Test
    void aRequestOnTheListeningNodeRunsThere() throws Exception {
        int onB = echoOnB.get();
        Harness.Client c = openOnB("frank");
        c.ws.sendText("{\"t\":\"req\",\"id\":3,\"route\":\"echo\"}", true).join();
        Map<String, Object> res = c.answer(3, 10000);
        assertEquals("res", res.get("t"), res.toString());
        assertEquals(onB + 1, echoOnB.get());
        ActionRequest r = requestsOnB.get(requestsOnB.size() - 1);
        assertFalse(r.isRemote());
        assertSame(b.getConnection(c.id), r.getConnection());
    }

    /**
     * What comet4j-node queues for its pages' sub, unsub and pub (and a req
     * without "t"), pushed from A (which does not listen) for a page A holds:
     * B decides with its listeners and channel options, for a stand-in of
     * the page, and every answer reaches the page on A.
     */
    @Test
    void subUnsubPubOfAPageOnAnotherNodeRunOnTheListeningNode() throws Exception {
        Harness.Client p = openOnA("paula");
        Harness.Client q = openOnB("quinn"); // on chat by its ticket
        List<CometConnection> subs = Collections.synchronizedList(new ArrayList<>());
        List<CometConnection> pubs = Collections.synchronizedList(new ArrayList<>());
        SubscribeListener noVip = new SubscribeListener() {
            @Override
            public boolean handleEvent(SubscribeEvent e) {
                subs.add(e.getConn());
                return !"vip".equals(e.getChannel());
            }
        };
        PublishListener countPubs = new PublishListener() {
            @Override
            public boolean handleEvent(PublishEvent e) {
                pubs.add(e.getConn());
                return true;
            }
        };
        b.addSubscribeListener(noVip);
        b.addPublishListener(countPubs);
        String who = "\"cId\":\"" + p.id + "\",\"user\":\"paula\"";
        try {
            // sub on a known channel: the ack with pos comes from A, then its broadcasts
            assertEquals(0, a.hubAction("{\"t\":\"sub\"," + who + ",\"id\":21,\"ch\":\"chat\"}"));
            Map<String, Object> ack = p.answer(21, 10000);
            assertEquals("ack", ack.get("t"), ack.toString());
            assertTrue(ack.get("pos") instanceof Map && ((Map<?, ?>) ack.get("pos")).containsKey("chat"),
                    ack.toString());
            assertEquals(1, subs.size(), "B's SubscribeListener asked once");
            CometConnection stand = subs.get(0);
            assertEquals(p.id, stand.getId());
            assertEquals("paula", stand.getUser());
            assertTrue(stand.isRemote());
            assertNull(stand.getRequest());
            assertEquals(CometProtocol.STATE_ALIVE, stand.getState());
            assertNull(b.getConnection(p.id), "B does not hold it, nor lists the stand-in");
            // A's core decided it: the membership is A's (its SUB record, its members).
            assertTrue(a.getConnection(p.id).isSubscribed("chat"));
            assertTrue(a.getConnections("chat").contains(a.getConnection(p.id)));
            b.sendToAll("chat", "hello chat");
            assertEquals("hello chat", msgOn(p, "chat", 10000).get("data"));
            assertEquals("hello chat", msgOn(q, "chat", 10000).get("data"));

            // refused by the SubscribeListener; unknown channel
            a.hubAction("{\"t\":\"sub\"," + who + ",\"id\":22,\"ch\":\"vip\"}");
            Map<String, Object> e = p.answer(22, 10000);
            assertEquals("err", e.get("t"), e.toString());
            assertEquals(4030L, e.get("code"), e.toString());
            a.hubAction("{\"t\":\"sub\"," + who + ",\"id\":23,\"ch\":\"nowhere\"}");
            assertEquals(4040L, p.answer(23, 10000).get("code"));

            // pub on a writable channel: every page on it (A and B), and the ack
            a.hubAction("{\"t\":\"pub\"," + who + ",\"id\":24,\"ch\":\"chat\",\"data\":{\"k\":[1,\"v\"]}}");
            String got = until(p, "\"t\":\"ack\",\"id\":24", "\"data\":{\"k\":[1,\"v\"]}");
            assertTrue(got.contains("\"ch\":\"chat\""), got);
            assertEquals(Map.of("k", List.of(1L, "v")), msgOn(q, "chat", 10000).get("data"));
            assertEquals(1, pubs.size(), "B's PublishListener asked once");
            assertEquals(p.id, pubs.get(0).getId());
            assertTrue(pubs.get(0).isRemote());

            // pub on a channel pages may not write
            a.hubAction("{\"t\":\"pub\"," + who + ",\"id\":25,\"ch\":\"news\",\"data\":1}");
            e = p.answer(25, 10000);
            assertEquals(4031L, e.get("code"), e.toString());
            assertEquals(1, pubs.size(), "no PublishListener for a channel pages may not write");

            // unsub: the ack, then no more of chat (q still gets it)
            a.hubAction("{\"t\":\"unsub\"," + who + ",\"id\":26,\"ch\":\"chat\"}");
            assertEquals(Map.of("t", "ack", "id", 26L), p.answer(26, 10000));
            await(() -> !a.getConnection(p.id).isSubscribed("chat"), "A's core unsubscribed p");
            b.sendToAll("chat", "after unsub");
            assertEquals("after unsub", msgOn(q, "chat", 10000).get("data"));
            a.sendToAll("news", "marker"); // after chat's on the bus: p has had chat's, if any
            String rest = until(p, "marker");
            assertFalse(rest.contains("after unsub"), rest);

            // a record without "t" is a request, as before; an unknown "t" is 4000
            a.hubAction("{" + who + ",\"id\":27,\"route\":\"echo\",\"params\":2}");
            Map<String, Object> res = p.answer(27, 10000);
            assertEquals("res", res.get("t"), res.toString());
            assertEquals(Map.of("node", "B", "params", 2L, "user", "paula"), res.get("result"));
            a.hubAction("{\"t\":\"nope\"," + who + ",\"id\":28}");
            assertEquals(4000L, p.answer(28, 10000).get("code"));
            assertEquals(2, subs.size(), "the listener saw sub 21 and 22 only");
        } finally {
            b.removeSubscribeListener(noVip);
            b.removePublishListener(countPubs);
        }
    }

    /** The frames of c until every needle was in one (fails after 10 s), joined. */
    static String until(Harness.Client c, String... needles) throws Exception {
        StringBuilder got = new StringBuilder();
        List<String> left = new ArrayList<>(List.of(needles));
        long end = System.currentTimeMillis() + 10000;
        while (!left.isEmpty()) {
            String f = c.messages.poll(Math.max(1, end - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
            assertNotNull(f, "not within 10 s: " + left + "; got " + got);
            got.append(f).append('\n');
            left.removeIf(f::contains);
        }
        return got.toString();
    }

    // ---- (d) online and presence across the cluster ----------------------------------------------

    @Test
    void onlineAndPresenceAreTheClusters() throws Exception {
        Harness.Client alice = openOnA("alice");
        Harness.Client bob = openOnB("bob");
        Harness.Client anon = openOnB(null);
        await(() -> a.getOnlineCount() == 2 && b.getOnlineCount() == 2, "two users on both nodes");
        assertTrue(a.isOnline("bob"), "bob, on B, seen from A");
        assertTrue(b.isOnline("alice"), "alice, on A, seen from B");
        assertFalse(a.isOnline("nobody"));
        await(() -> a.getMemberCount("lobby") == 3 && b.getMemberCount("lobby") == 3, "three in the lobby");
        assertEquals(1, a.getMemberCount("news"), "news is no presence channel: A's own members");
        Map<String, String> members = a.getMembers("lobby");
        assertEquals("bob", members.get(bob.id), members.toString());
        assertEquals("alice", members.get(alice.id), members.toString());
        assertTrue(members.containsKey(anon.id) && members.get(anon.id) == null, members.toString());

        // The joins on B reached alice's page on A (one channel frame each).
        String joins = frames(alice, 3, "\"t\":\"join\""); // hers too
        assertTrue(joins.contains(bob.id) && joins.contains(anon.id), joins);

        Map<String, Object> online = api("/api/online");
        assertEquals(2L, online.get("users"), online.toString());
        assertEquals(3L, online.get("connections"), online.toString());
        Map<String, Object> u = api("/api/online?user=bob");
        assertEquals(Map.of("user", "bob", "online", true, "connections", 1L), u);
        Map<String, Object> p = api("/api/presence?channel=lobby");
        assertEquals(3L, p.get("count"), p.toString());
        List<String> ids = new ArrayList<>();
        for (Object m : (List<?>) p.get("members")) {
            ids.add((String) ((Map<?, ?>) m).get("cId"));
        }
        assertTrue(ids.containsAll(List.of(alice.id, bob.id, anon.id)), p.toString());

        bob.abort();
        await(() -> !a.isOnline("bob"), "bob's drop seen from A");
        await(() -> a.getMemberCount("lobby") == 2, "bob left the lobby");
        assertEquals(1, a.getOnlineCount());
    }

    /** The next n frames of c holding needle, joined (fails after 5 s). */
    static String frames(Harness.Client c, int n, String needle) throws Exception {
        StringBuilder got = new StringBuilder();
        long end = System.currentTimeMillis() + 5000;
        for (int k = 0; k < n; ) {
            String f = c.messages.poll(Math.max(1, end - System.currentTimeMillis()),
                    java.util.concurrent.TimeUnit.MILLISECONDS);
            assertNotNull(f, "only " + k + " of " + n + " frames with " + needle + ": " + got);
            if (f.contains(needle)) {
                got.append(f).append('\n');
                k++;
            }
        }
        return got.toString();
    }

    // ---- (e) a page that moved: its old id, held by another node --------------------------

    /** A's servlet handshake with cId=id as user (null: anonymous); its answer. */
    static Map<String, Object> handshakeOnA(String id, String user) throws Exception {
        FakeHttp.Req req = new FakeHttp.Req().param("cmd", "conn").param("cId", id);
        req.user = user;
        FakeHttp.Resp r = Harness.handshake(req);
        assertEquals(200, r.status, r.body.toString());
        return MiniJson.object(r.body.toString());
    }

    static Map<String, Object> claims(Map<String, Object> answer) {
        String payload = ((String) answer.get("ticket")).split("\\.")[1];
        return MiniJson.object(new String(Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8));
    }

    @Test
    void aHandshakeKeepsAnIdAnotherNodeHolds() throws Exception {
        Harness.Client erin = openOnB("erin");
        Harness.Client anon = openOnB(null);
        assertNull(a.getConnection(erin.id), "A does not hold it");
        await(() -> a.knownElsewhere(erin.id) != null && a.knownElsewhere(anon.id) != null,
                "B's conn: entries seen from A");
        assertEquals("erin", a.knownElsewhere(erin.id)[0]);
        assertNull(a.knownElsewhere(anon.id)[0], "anonymous");

        AtomicInteger before = new AtomicInteger();
        BeforeConnectListener count = new BeforeConnectListener() {
            @Override
            public boolean handleEvent(BeforeConnectEvent e) {
                before.incrementAndGet();
                return true;
            }
        };
        a.addBeforeConnectListener(count);
        try {
            Map<String, Object> same = handshakeOnA(erin.id, "erin");
            assertEquals(erin.id, same.get("cId"), "the id B holds is kept");
            assertEquals(erin.id, claims(same).get("cid"), "a ticket for it");
            assertEquals("erin", claims(same).get("sub"));
            Map<String, Object> sameAnon = handshakeOnA(anon.id, null);
            assertEquals(anon.id, sameAnon.get("cId"), "an anonymous page keeps its id too");
            assertNull(claims(sameAnon).get("sub"));
            assertEquals(0, before.get(), "no second BeforeConnect for a kept id");

            Map<String, Object> other = handshakeOnA(erin.id, "mallory");
            assertNotEquals(erin.id, other.get("cId"), "another user's id gives a new one");
            assertEquals("mallory", claims(other).get("sub"));
            assertNotEquals(erin.id, handshakeOnA(erin.id, null).get("cId"), "nor to an anonymous page");
            assertNotEquals(anon.id, handshakeOnA(anon.id, "erin").get("cId"), "nor an anonymous id to erin");
            String unknown = b.newId();
            assertNotEquals(unknown, handshakeOnA(unknown, null).get("cId"), "an id nobody holds: a new one");
            assertEquals(4, before.get(), "BeforeConnect for each new id");

            b.dropConnection(erin.id, 4100, "gone");
            assertEquals(4100, erin.closeCode(10000));
            await(() -> b.getConnection(erin.id) == null, "the drop on B");
            await(() -> a.knownElsewhere(erin.id) == null, "B's conn: entry removed, seen from A");
            assertNotEquals(erin.id, handshakeOnA(erin.id, "erin").get("cId"), "dropped everywhere: a new id");
        } finally {
            a.removeBeforeConnectListener(count);
        }
    }

    @Test
    void aMovedPageAttachesToAnotherNodeWithItsId() throws Exception {
        Harness.Client onB = openOnB("frank");
        await(() -> a.knownElsewhere(onB.id) != null, "B's conn: entry seen from A");
        Map<String, Object> ans = handshakeOnA(onB.id, "frank");
        assertEquals(onB.id, ans.get("cId"));
        Harness.Client onA = Harness.connect((String) ans.get("ticket"));
        clients.add(onA);
        Map<String, Object> open = onA.next(10000);
        assertEquals("open", open.get("t"));
        assertEquals(onB.id, open.get("cId"));
        await(() -> a.getConnection(onB.id) != null, "connect event on A");
        assertEquals("frank", a.getConnection(onB.id).getUser());
        a.sendToConnection(onB.id, "news", "the same id on A");
        assertEquals("the same id on A", msgOn(onA, "news", 10000).get("data"));
    }

    @Test
    void idsAreCheckedBeforeRedisIsAsked() {
        assertTrue(ClusterMaps.isId(a.newId()));
        assertTrue(ClusterMaps.isId("AZaz09-_AZaz09-_AZaz09"));
        assertFalse(ClusterMaps.isId("AZaz09-_AZaz09-_AZaz0"), "21 chars");
        assertFalse(ClusterMaps.isId("AZaz09-_AZaz09-_AZaz09A"), "23 chars");
        assertFalse(ClusterMaps.isId("AZaz09+/AZaz09-_AZaz09"), "not URL-safe");
        assertFalse(ClusterMaps.isId("AZaz09-_AZaz09-_AZaz:0"));
        assertFalse(ClusterMaps.isId(null));
        assertNull(a.knownElsewhere("x:y"));
    }
}
