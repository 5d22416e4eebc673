package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.comet4j.core.exception.ConfigException;
import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Comet.Admin and AdminServlet (docs/metrics.md, "The admin page") over a
 * real engine and real WebSocket clients: off (404), who may (a listed
 * address, the key as a bearer; 401, 403), the page and its script from
 * the jar, the stats JSON's fields moving with a connection and a
 * broadcast, the publish reaching a connected page (and what it refuses),
 * and the settings refused at start naming Comet.Admin.
 */
class AdminServletTest {

    static final String KEY = "admin-test-key-0123456789abcdef";

    @AfterEach
    void stop() {
        Harness.stop();
    }

    private static void start(String admin) {
        CometContext.getInstance().registChannel("room", ChannelOptions.defaults().presence());
        Harness.start(admin == null ? Map.of("Comet.ApiKey", KEY) : Map.of("Comet.ApiKey", KEY, "Comet.Admin", admin),
                "news");
    }

    private static FakeHttp.Resp get(String pathInfo, FakeHttp.Req req) throws Exception {
        req.pathInfo = pathInfo;
        FakeHttp.Resp resp = new FakeHttp.Resp();
        new AdminServlet().doGet(FakeHttp.request(req), FakeHttp.response(resp));
        return resp;
    }

    private static FakeHttp.Resp publish(FakeHttp.Req req, String type, String body) throws Exception {
        req.method = "POST";
        req.pathInfo = "/publish";
        req.contentType = type;
        req.body = body.getBytes(StandardCharsets.UTF_8);
        FakeHttp.Resp resp = new FakeHttp.Resp();
        new AdminServlet().doPost(FakeHttp.request(req), FakeHttp.response(resp));
        return resp;
    }

    private static String text(FakeHttp.Resp r) {
        return new String(r.bytes.toByteArray(), StandardCharsets.UTF_8);
    }

    private static Map<String, Object> stats() throws Exception {
        FakeHttp.Resp r = get("/stats", new FakeHttp.Req());
        assertEquals(200, r.status, text(r));
        assertEquals("application/json; charset=utf-8", r.contentType);
        return MiniJson.object(text(r));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> channel(Map<String, Object> stats, String name) {
        for (Object o : (List<Object>) stats.get("channels")) {
            Map<String, Object> c = (Map<String, Object>) o;
            if (name.equals(c.get("name"))) {
                return c;
            }
        }
        throw new AssertionError("no channel " + name + " in " + stats);
    }

    @Test
    void offIsNotFound() throws Exception {
        start(null);
        assertFalse(CometContext.getInstance().getConfig().isAdminEnabled());
        assertEquals(404, get(null, new FakeHttp.Req()).status);
        assertEquals(404, get("/stats", new FakeHttp.Req().header("Authorization", "Bearer " + KEY)).status);
        assertEquals(404, publish(new FakeHttp.Req().header("Authorization", "Bearer " + KEY), "application/json",
                "{\"channel\":\"news\",\"data\":1}").status);
    }

    @Test
    void aListedAddressOrTheKeyGetsInAnyOtherIsRefused() throws Exception {
        start("10.1.2.3, 127.0.0.1");
        FakeHttp.Resp page = get(null, new FakeHttp.Req());
        assertEquals(200, page.status);
        assertEquals("text/html; charset=utf-8", page.contentType);
        assertTrue(text(page).contains("<script src=\"admin/admin.js\">"), text(page));
        assertTrue(page.headers.get("Content-Security-Policy").contains("connect-src 'self'"));
        FakeHttp.Resp js = get("/admin.js", new FakeHttp.Req());
        assertEquals(200, js.status);
        assertEquals("text/javascript; charset=utf-8", js.contentType);
        assertTrue(text(js).contains("'/stats'"), "the script polls the stats");
        assertEquals(404, get("/nothing", new FakeHttp.Req()).status);

        FakeHttp.Req other = new FakeHttp.Req();
        other.remoteAddr = "192.0.2.7";
        assertEquals(403, get(null, other).status);
        assertEquals(403, get("/stats", other).status);
        assertEquals(403, publish(other, "application/json", "{\"channel\":\"news\",\"data\":1}").status);
        other.header("Authorization", "Bearer " + KEY);
        assertEquals(200, get("/stats", other).status);
        other.header("Authorization", "Bearer not-the-key-0123456789");
        assertEquals(401, get("/stats", other).status);
    }

    @Test
    void withTrueThePageIsForAnyoneItsFiguresForTheKey() throws Exception {
        start("true");
        FakeHttp.Req anyone = new FakeHttp.Req();
        anyone.remoteAddr = "192.0.2.7";
        assertEquals(200, get(null, anyone).status, "a browser cannot send a bearer as it navigates");
        assertEquals(200, get("/admin.js", anyone).status);
        FakeHttp.Resp refused = get("/stats", anyone);
        assertEquals(401, refused.status);
        assertEquals("invalid API key", MiniJson.object(text(refused)).get("error"));
        assertEquals(401, publish(anyone, "application/json", "{\"channel\":\"news\",\"data\":1}").status);
        anyone.header("Authorization", "Bearer " + KEY);
        assertEquals(200, get("/stats", anyone).status);
    }

    @Test
    @SuppressWarnings("unchecked")
    void theStatsMoveWithAConnectionAndABroadcast() throws Exception {
        start("127.0.0.1");
        Map<String, Object> before = stats();
        for (String k : new String[] {"time", "context", "version", "stats", "handshakes", "online", "channels",
            "hub"}) {
            assertTrue(before.containsKey(k), k + " in " + before);
        }
        Map<String, Object> s0 = (Map<String, Object>) before.get("stats");
        for (String k : new String[] {"conns", "messagesOut", "messagesIn", "fanouts", "fanoutNanos",
            "slowConsumers", "httpRefused", "originsRefused", "hubUp", "hubOutbox", "hubRefused", "hubLost", "broadcasts"}) {
            assertTrue(s0.containsKey(k), k + " in " + s0);
        }
        assertEquals("local", ((Map<String, Object>) before.get("hub")).get("mode"));
        assertEquals(0L, channel(before, "news").get("subscribers"));
        assertEquals(Boolean.TRUE, channel(before, "room").get("presence"));
        assertEquals(Boolean.FALSE, channel(before, "news").get("presence"));

        Harness.Client c = Harness.connect((String) Harness.handshake().get("ticket"));
        assertEquals("open", c.next(10000).get("t"));
        // The page hears "open" from the core; the CometConnection follows
        // when the engine's poll thread reports the attach.
        long deadline = System.currentTimeMillis() + 10000;
        while (Harness.engine().getConnections().isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(1, Harness.engine().getConnections().size());
        c.id = (String) Harness.engine().getConnections().get(0).getId();
        assertTrue(Harness.engine().subscribe(c.id, "room"));
        deadline = System.currentTimeMillis() + 10000;
        Map<String, Object> after = stats();
        while (((List<Object>) channel(after, "room").get("members")).isEmpty()
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
            after = stats();
        }
        Harness.engine().sendToAll("news", "one");
        assertEquals("one", c.nextMsg(10000).get("data"));
        deadline = System.currentTimeMillis() + 10000;
        after = stats();
        // Two fan-outs timed: the presence join frame on room, and the broadcast.
        while (((Map<String, Long>) after.get("stats")).get("fanouts") < (Long) s0.get("fanouts") + 2
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
            after = stats();
        }
        Map<String, Object> s1 = (Map<String, Object>) after.get("stats");
        assertEquals(1L, s1.get("conns"));
        assertEquals((Long) s0.get("broadcasts") + 1, s1.get("broadcasts"));
        assertEquals((Long) s0.get("fanouts") + 2, s1.get("fanouts"));
        assertTrue((Long) s1.get("fanoutNanos") > (Long) s0.get("fanoutNanos"));
        assertEquals((Long) ((Map<String, Object>) before.get("handshakes")).get("ticketsIssued") + 1,
                ((Map<String, Object>) after.get("handshakes")).get("ticketsIssued"));
        assertEquals(1L, channel(after, "news").get("subscribers"), "every connection hears news");
        Map<String, Object> room = channel(after, "room");
        assertEquals(1L, room.get("memberCount"));
        assertEquals(c.id, ((Map<String, Object>) ((List<Object>) room.get("members")).get(0)).get("cId"));
        c.abort();
    }

    @Test
    void thePublishFormReachesAPage() throws Exception {
        start("127.0.0.1");
        Harness.Client c = Harness.connect((String) Harness.handshake().get("ticket"));
        assertEquals("open", c.next(10000).get("t"));
        FakeHttp.Resp ok = publish(new FakeHttp.Req().header("Origin", "http://127.0.0.1:8080")
                .header("Host", "127.0.0.1:8080"), "application/json; charset=utf-8",
                "{\"channel\":\"news\",\"data\":{\"text\":\"from the admin page\"}}");
        assertEquals(200, ok.status, text(ok));
        assertEquals(1L, MiniJson.object(text(ok)).get("subscribers"));
        Map<String, Object> m = c.nextMsg(10000);
        assertEquals("news", m.get("ch"));
        assertEquals("from the admin page", ((Map<?, ?>) m.get("data")).get("text"));

        // What it refuses, and says why.
        FakeHttp.Resp form = publish(new FakeHttp.Req(), "application/x-www-form-urlencoded", "channel=news");
        assertEquals(415, form.status);
        FakeHttp.Resp cross = publish(new FakeHttp.Req().header("Origin", "http://evil.example")
                .header("Host", "127.0.0.1:8080"), "application/json", "{\"channel\":\"news\",\"data\":1}");
        assertEquals(403, cross.status);
        FakeHttp.Resp unknown = publish(new FakeHttp.Req(), "application/json", "{\"channel\":\"nope\",\"data\":1}");
        assertEquals(404, unknown.status);
        assertTrue(((String) MiniJson.object(text(unknown)).get("error")).contains("nope"));
        assertEquals(400, publish(new FakeHttp.Req(), "application/json", "{\"channel\":").status);
        assertEquals(400, publish(new FakeHttp.Req(), "application/json", "{\"data\":1}").status);
        assertEquals(413, publish(new FakeHttp.Req(), "application/json",
                "\"" + "x".repeat(AdminServlet.MAX_BODY) + "\"").status);
        c.abort();
    }

    @Test
    @SuppressWarnings("unchecked")
    void withARedisHubTheNodesAreListed() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            CometContext.getInstance().registChannel("room", ChannelOptions.defaults().presence());
            Harness.start(Map.of("Comet.Admin", "127.0.0.1", "Comet.Hub", redis.url, "Comet.HubPrefix", "admintest"),
                    "news");
            Map<String, Object> hub = null;
            long deadline = System.currentTimeMillis() + 10000;
            while (System.currentTimeMillis() < deadline) {
                hub = (Map<String, Object>) stats().get("hub");
                Object nodes = hub.get("nodes");
                if (nodes instanceof List && !((List<Object>) nodes).isEmpty()) {
                    break;
                }
                Thread.sleep(50);
            }
            assertEquals("redis", hub.get("mode"));
            assertEquals(redis.url, hub.get("redis"));
            assertEquals("admintest", hub.get("prefix"));
            List<Object> nodes = (List<Object>) hub.get("nodes");
            assertEquals(1, nodes.size(), String.valueOf(hub));
            Map<String, Object> self = (Map<String, Object>) nodes.get(0);
            assertEquals(Boolean.TRUE, self.get("self"));
            assertEquals(Boolean.TRUE, self.get("alive"));
            long age = System.currentTimeMillis() - (Long) self.get("heartbeat");
            assertTrue(age >= -1000 && age < 10000, "heartbeat " + age + " ms ago");
            assertTrue(((String) self.get("id")).length() > 0);
            Harness.stop();
        }
    }

    @Test
    void theOriginRule() {
        assertTrue(AdminServlet.sameOrigin(null, "a.example"));
        assertTrue(AdminServlet.sameOrigin("https://a.example", "a.example"));
        assertTrue(AdminServlet.sameOrigin("https://a.example", "a.example:443"));
        assertTrue(AdminServlet.sameOrigin("http://a.example:8080", "A.example:8080"));
        assertFalse(AdminServlet.sameOrigin("http://a.example:8080", "a.example:8081"));
        assertFalse(AdminServlet.sameOrigin("null", "a.example"));
        assertFalse(AdminServlet.sameOrigin("http://b.example", "a.example"));
    }

    @Test
    void badSettingsNameComet_Admin() {
        ConfigException e = assertThrows(ConfigException.class, () -> CometConfig.parse(Map.of("Comet.Admin", "true")));
        assertEquals("Comet.Admin", e.getParameter());
        assertTrue(e.getMessage().contains("Comet.ApiKey"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> CometConfig.parse(Map.of("Comet.Admin", "yes please")));
        assertEquals("Comet.Admin", e.getParameter());
        assertTrue(e.getMessage().contains("yes"), e.getMessage());
        assertNull(CometConfig.parse(Map.of("Comet.Admin", "false")).getAdmin());
        assertEquals("true", CometConfig.parse(Map.of("Comet.Admin", "True", "Comet.ApiKey", KEY)).getAdmin());
        assertEquals("127.0.0.1", CometConfig.parse(Map.of("Comet.Admin", " 127.0.0.1 ")).getAdmin());
    }
}
