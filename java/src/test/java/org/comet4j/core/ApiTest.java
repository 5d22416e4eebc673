package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.comet4j.core.exception.ConfigException;
import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP API on the native port (docs/protocol.md section 8), with
 * java.net.http as the "backend in any language" and WebSocket clients as
 * the pages.
 */
class ApiTest {

    static final String KEY = "api-key-0123456789-test";

    final List<Harness.Client> clients = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start() {
        CometContext cc = CometContext.getInstance();
        cc.registChannel("news");
        cc.registChannel("lobby", false, true);
        Harness.start(Map.of("Comet.ApiKey", KEY));
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

    Harness.Client open(String user) throws Exception {
        FakeHttp.Req req = new FakeHttp.Req();
        req.user = user;
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

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long end = System.currentTimeMillis() + 10000;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(10);
        }
    }

    static HttpResponse<String> call(String method, String pathAndQuery, String body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + Harness.engine().getPort() + pathAndQuery))
                .timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        return Harness.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> api(String method, String pathAndQuery, String body) throws Exception {
        return call(method, pathAndQuery, body, "Authorization", "Bearer " + KEY,
                "Content-Type", "application/json");
    }

    static Map<String, Object> json(HttpResponse<String> r) {
        return MiniJson.object(r.body());
    }

    /** The next msg frame on channel ch, or null when none comes within ms. */
    static Map<String, Object> msgOn(Harness.Client c, String ch, long ms) throws InterruptedException {
        long end = System.currentTimeMillis() + ms;
        while (System.currentTimeMillis() < end) {
            Map<String, Object> m;
            try {
                m = c.nextMsg(Math.max(1, end - System.currentTimeMillis()));
            } catch (AssertionError timeout) {
                return null;
            }
            if (m == null) {
                return null;
            }
            if (ch.equals(m.get("ch"))) {
                return m;
            }
        }
        return null;
    }

    @Test
    void publishReachesWebSocketClients() throws Exception {
        Harness.Client c = open(null);
        HttpResponse<String> r = api("POST", "/api/publish", "{\"channel\":\"news\",\"data\":{\"n\":1}}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(true, json(r).get("ok"));
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""));
        assertFalse(r.headers().firstValue("Access-Control-Allow-Origin").isPresent());
        Map<String, Object> m = msgOn(c, "news", 10000);
        assertEquals(Map.of("n", 1L), m.get("data"));
        // X-Api-Key works as well
        r = call("POST", "/api/publish", "{\"channel\":\"news\",\"data\":2}", "X-Api-Key", KEY);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(2L, msgOn(c, "news", 10000).get("data"));
    }

    @Test
    void sendToConnectionAndUser() throws Exception {
        Harness.Client a = open("ann");
        Harness.Client a2 = open("ann");
        Harness.Client b = open("bob");
        HttpResponse<String> r = api("POST", "/api/send",
                "{\"channel\":\"dm\",\"data\":\"to-b\",\"cId\":\"" + b.id + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("to-b", msgOn(b, "dm", 10000).get("data"));
        r = api("POST", "/api/send", "{\"channel\":\"dm\",\"data\":\"to-ann\",\"user\":\"ann\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("to-ann", msgOn(a, "dm", 10000).get("data"));
        assertEquals("to-ann", msgOn(a2, "dm", 10000).get("data"));
        // b got only its own message; a only ann's
        assertEquals(null, msgOn(b, "dm", 300));
        r = api("POST", "/api/send", "{\"channel\":\"dm\",\"data\":1,\"cId\":\"nobody-here\"}");
        assertEquals(404, r.statusCode(), r.body());
        assertEquals(404L, ((Map<?, ?>) json(r).get("error")).get("code"));
    }

    @Test
    void onlineAndPresence() throws Exception {
        Harness.Client c = open("carol");
        Harness.Client c2 = open("carol");
        HttpResponse<String> r = api("GET", "/api/online?user=carol", null);
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> m = json(r);
        assertEquals("carol", m.get("user"));
        assertEquals(true, m.get("online"));
        assertEquals(2L, m.get("connections"));
        m = json(api("GET", "/api/online?user=nobody", null));
        assertEquals(false, m.get("online"));
        assertEquals(0L, m.get("connections"));
        m = json(api("GET", "/api/online", null));
        assertEquals((long) Harness.engine().getOnlineCount(), m.get("users"));
        assertEquals((long) Harness.engine().getConnections().size(), m.get("connections"));
        assertTrue((Long) m.get("connections") >= 2);

        Harness.engine().subscribe(c.id, "lobby");
        await(() -> Harness.engine().getConnections("lobby").contains(Harness.engine().getConnection(c.id)),
                "lobby member");
        m = json(api("GET", "/api/presence?channel=lobby", null));
        assertEquals("lobby", m.get("channel"));
        List<?> members = (List<?>) m.get("members");
        assertEquals((long) members.size(), m.get("count"));
        assertEquals((long) Harness.engine().getMemberCount("lobby"), m.get("count"));
        assertTrue(members.contains(Map.of("cId", c.id, "user", "carol")), members.toString());
        m = json(api("GET", "/api/presence?channel=empty", null));
        assertEquals(0L, m.get("count"));
        assertEquals(List.of(), m.get("members"));
        assertTrue(c2.id != null);
    }

    /** The answers are the core's JSON, byte for byte what comet4j-node answers (native/node/api.c). */
    @Test
    void onlineAndPresenceAreTheCoresText() throws Exception {
        Harness.Client c = open("olga");
        assertEquals("{\"user\":\"nobody\",\"online\":false,\"connections\":0}",
                api("GET", "/api/online?user=nobody", null).body());
        assertEquals("{\"user\":\"\",\"online\":false,\"connections\":0}",
                api("GET", "/api/online?user=", null).body());
        assertEquals("{\"user\":\"olga\",\"online\":true,\"connections\":1}",
                api("GET", "/api/online?user=olga", null).body());
        assertTrue(api("GET", "/api/online", null).body().matches("\\{\"users\":\\d+,\"connections\":\\d+\\}"));
        assertEquals("{\"channel\":\"solo\",\"count\":0,\"members\":[]}",
                api("GET", "/api/presence?channel=solo", null).body());
        Harness.engine().subscribe(c.id, "solo");
        await(() -> Harness.engine().getMemberCount("solo") == 1, "olga on solo");
        assertEquals("{\"channel\":\"solo\",\"count\":1,\"members\":[{\"cId\":\"" + c.id
                + "\",\"user\":\"olga\"}]}", api("GET", "/api/presence?channel=solo", null).body());
        HttpResponse<String> r = api("GET", "/api/presence?channel=a%20b", null);
        assertEquals(400, r.statusCode(), r.body());
    }

    @Test
    void refusals() throws Exception {
        HttpResponse<String> r = call("GET", "/api/online", null);
        assertEquals(401, r.statusCode());
        assertEquals(401L, ((Map<?, ?>) json(r).get("error")).get("code"));
        assertEquals(401, call("GET", "/api/online", null, "Authorization", "Bearer wrong-key-0123456789")
                .statusCode());
        assertEquals(401, call("GET", "/api/online", null, "X-Api-Key", KEY + "x").statusCode());
        assertEquals(404, api("GET", "/api/nothing", null).statusCode());
        r = api("POST", "/api/publish", "{not json");
        assertEquals(400, r.statusCode());
        assertEquals(400L, ((Map<?, ?>) json(r).get("error")).get("code"));
        assertEquals(400, api("POST", "/api/publish", "{\"data\":1}").statusCode());
        assertEquals(400, api("POST", "/api/publish", "{\"channel\":\"news\"}").statusCode());
        assertEquals(400, api("POST", "/api/publish", "[1]").statusCode());
        assertEquals(400, api("POST", "/api/send", "{\"channel\":\"news\",\"data\":1}").statusCode());
        assertEquals(400, api("GET", "/api/presence", null).statusCode());
        assertEquals(405, api("GET", "/api/publish", null).statusCode());
        assertEquals(405, api("POST", "/api/online", "{}").statusCode());
    }

    @Test
    void configRefusesShortKey() {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> CometConfig.parse(Map.of("Comet.Secret", Harness.SECRET, "Comet.ApiKey", "short")));
        assertTrue(e.getMessage().contains("Comet.ApiKey"), e.getMessage());
        assertFalse(CometConfig.parse(Map.of("Comet.Secret", Harness.SECRET)).isApiEnabled());
    }
}
