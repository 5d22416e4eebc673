package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.comet4j.core.event.BeforeConnectEvent;
import org.comet4j.core.listener.BeforeConnectListener;
import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The handshake servlet's logic, with fake requests and a real engine (for tickets). */
class CometServletTest {

    @BeforeAll
    static void start() {
        Harness.start(Map.of("Comet.TicketTtl", "30", "Comet.WorkStyle", "lpool", "Comet.ConnExpires", "7000"),
                "clock", "chat");
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    @Test
    void answer() throws Exception {
        long before = System.currentTimeMillis() / 1000;
        FakeHttp.Resp r = Harness.handshake(new FakeHttp.Req().param("cmd", "conn"));
        assertEquals(200, r.status);
        assertEquals("no-store", r.headers.get("Cache-Control"));
        assertTrue(r.contentType.startsWith("application/json"), r.contentType);
        Map<String, Object> a = MiniJson.object(r.body.toString());
        assertEquals(List.of("v", "cId", "channels", "ticket", "endpoints", "stream", "lpool", "cmd", "workStyle",
                "timeout", "hold", "idleTimeout", "heartbeat", "connExpires"), List.copyOf(a.keySet()));
        assertEquals(1L, a.get("v"));
        String cid = (String) a.get("cId");
        assertEquals(22, cid.length());
        assertTrue(cid.matches("[A-Za-z0-9_-]{22}"), cid);
        assertEquals(List.of("clock", "chat"), a.get("channels"));
        String base = "127.0.0.1:" + Harness.engine().getPort();
        assertEquals(List.of("ws://" + base + "/ws"), a.get("endpoints"));
        assertEquals(List.of("http://" + base + "/sse"), a.get("stream"));
        assertEquals(List.of("http://" + base + "/poll"), a.get("lpool"));
        assertEquals(List.of("http://" + base + "/cmd"), a.get("cmd"));
        assertEquals("lpool", a.get("workStyle"));
        assertEquals(60000L, a.get("timeout"));
        assertEquals(25000L, a.get("heartbeat"));
        assertEquals(7000L, a.get("connExpires"));

        String[] jwt = ((String) a.get("ticket")).split("\\.");
        assertEquals(3, jwt.length);
        Map<String, Object> claims = MiniJson.object(
                new String(Base64.getUrlDecoder().decode(jwt[1]), StandardCharsets.UTF_8));
        assertEquals(cid, claims.get("cid"));
        assertNull(claims.get("sub"));
        assertEquals(List.of("clock", "chat"), claims.get("ch"));
        long exp = (Long) claims.get("exp");
        assertTrue(exp >= before + 30 && exp <= before + 32, "exp " + exp);
        assertTrue(Harness.engine().pendingCount() > 0);
    }

    @Test
    void principalBecomesSubject() throws Exception {
        FakeHttp.Req req = new FakeHttp.Req().param("cmd", "conn");
        req.user = "alice";
        Map<String, Object> a = MiniJson.object(Harness.handshake(req).body.toString());
        String payload = ((String) a.get("ticket")).split("\\.")[1];
        Map<String, Object> claims = MiniJson.object(
                new String(Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8));
        assertEquals("alice", claims.get("sub"));
    }

    /** Every URL list of the answer for a request with this host and config. */
    static Map<String, List<String>> urls(CometConfig cfg, String serverName) {
        FakeHttp.Req req = new FakeHttp.Req();
        req.serverName = serverName;
        List<String> bases = CometServlet.bases(cfg, 4100, FakeHttp.request(req));
        return Map.of("endpoints", CometServlet.urls(bases, "/ws", true),
                "stream", CometServlet.urls(bases, "/sse", false),
                "lpool", CometServlet.urls(bases, "/poll", false),
                "cmd", CometServlet.urls(bases, "/cmd", false));
    }

    @Test
    void urlsFromThePlainRequestHost() {
        Map<String, List<String>> u = urls(CometConfig.defaults(), "app.example.com");
        assertEquals(List.of("ws://app.example.com:4100/ws"), u.get("endpoints"));
        assertEquals(List.of("http://app.example.com:4100/sse"), u.get("stream"));
        assertEquals(List.of("http://app.example.com:4100/poll"), u.get("lpool"));
        assertEquals(List.of("http://app.example.com:4100/cmd"), u.get("cmd"));
    }

    @Test
    void ipv6HostIsBracketed() {
        for (String host : new String[] {"::1", "[::1]"}) {
            Map<String, List<String>> u = urls(CometConfig.defaults(), host);
            assertEquals(List.of("ws://[::1]:4100/ws"), u.get("endpoints"), host);
            assertEquals(List.of("http://[::1]:4100/sse"), u.get("stream"), host);
            assertEquals(List.of("http://[::1]:4100/poll"), u.get("lpool"), host);
            assertEquals(List.of("http://[::1]:4100/cmd"), u.get("cmd"), host);
        }
        FakeHttp.Req req = new FakeHttp.Req();
        req.serverName = "fe80::1";
        assertEquals(List.of("ws://[fe80::1]:4100/ws"),
                CometServlet.endpoints(CometConfig.defaults(), 4100, FakeHttp.request(req)));
    }

    @Test
    void ipv6HostInTheAnswer() throws Exception {
        FakeHttp.Req req = new FakeHttp.Req().param("cmd", "conn");
        req.serverName = "::1";
        Map<String, Object> a = MiniJson.object(Harness.handshake(req).body.toString());
        String base = "[::1]:" + Harness.engine().getPort();
        assertEquals(List.of("ws://" + base + "/ws"), a.get("endpoints"));
        assertEquals(List.of("http://" + base + "/sse"), a.get("stream"));
        assertEquals(List.of("http://" + base + "/poll"), a.get("lpool"));
        assertEquals(List.of("http://" + base + "/cmd"), a.get("cmd"));
    }

    @Test
    void urlsFromPublicUrlBases() {
        CometConfig cfg = CometConfig.parse(Map.of("Comet.PublicUrl",
                "https://example.com/comet, wss://b.example.com/comet/ws, ws://[2001:db8::1]:4100/ws,"
                + " http://c.example.com:8000/"));
        Map<String, List<String>> u = urls(cfg, "ignored.example.com");
        assertEquals(List.of("wss://example.com/comet/ws", "wss://b.example.com/comet/ws",
                "ws://[2001:db8::1]:4100/ws", "ws://c.example.com:8000/ws"), u.get("endpoints"));
        assertEquals(List.of("https://example.com/comet/sse", "https://b.example.com/comet/sse",
                "http://[2001:db8::1]:4100/sse", "http://c.example.com:8000/sse"), u.get("stream"));
        assertEquals(List.of("https://example.com/comet/poll", "https://b.example.com/comet/poll",
                "http://[2001:db8::1]:4100/poll", "http://c.example.com:8000/poll"), u.get("lpool"));
        assertEquals(List.of("https://example.com/comet/cmd", "https://b.example.com/comet/cmd",
                "http://[2001:db8::1]:4100/cmd", "http://c.example.com:8000/cmd"), u.get("cmd"));
    }

    /** Counts BeforeConnect events while the body runs. */
    static int beforeConnects(ThrowingRunnable body) throws Exception {
        AtomicInteger n = new AtomicInteger();
        BeforeConnectListener count = new BeforeConnectListener() {
            @Override
            public boolean handleEvent(BeforeConnectEvent e) {
                n.incrementAndGet();
                return true;
            }
        };
        Harness.engine().addBeforeConnectListener(count);
        try {
            body.run();
        } finally {
            Harness.engine().removeBeforeConnectListener(count);
        }
        return n.get();
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    static Map<String, Object> claims(Map<String, Object> answer) {
        String payload = ((String) answer.get("ticket")).split("\\.")[1];
        return MiniJson.object(new String(Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8));
    }

    /** Handshakes (as user, or anonymous), attaches and waits until the engine holds the connection. */
    static Harness.Client attached(String user) throws Exception {
        FakeHttp.Req req = new FakeHttp.Req().param("cmd", "conn");
        req.user = user;
        Map<String, Object> a = MiniJson.object(Harness.handshake(req).body.toString());
        Harness.Client c = Harness.connect((String) a.get("ticket"));
        c.id = (String) a.get("cId");
        long end = System.currentTimeMillis() + 5000;
        while (Harness.engine().getConnection(c.id) == null) {
            assertTrue(System.currentTimeMillis() < end, "no connection " + c.id);
            Thread.sleep(10);
        }
        return c;
    }

    @Test
    void knownCidIsReusedWithoutBeforeConnect() throws Exception {
        Harness.Client c = attached(null);
        try {
            CometConnection conn = Harness.engine().getConnection(c.id);
            AtomicReference<Map<String, Object>> answer = new AtomicReference<>();
            AtomicReference<Map<String, Object>> lower = new AtomicReference<>();
            assertEquals(0, beforeConnects(() -> {
                answer.set(MiniJson.object(Harness.handshake(
                        new FakeHttp.Req().param("cmd", "conn").param("cId", c.id)).body.toString()));
                lower.set(MiniJson.object(Harness.handshake( // Comet4J's parameter name
                        new FakeHttp.Req().param("cmd", "conn").param("cid", c.id)).body.toString()));
            }), "BeforeConnect is not fired again for a known connection");
            for (Map<String, Object> a : List.of(answer.get(), lower.get())) {
                assertEquals(c.id, a.get("cId"));
                assertEquals(c.id, claims(a).get("cid"));
                assertEquals(List.of("clock", "chat"), claims(a).get("ch"));
                assertNotNull(a.get("endpoints"));
                assertEquals(7000L, a.get("connExpires"));
            }
            assertSame(conn, Harness.engine().getConnection(c.id), "no second CometConnection");
            assertEquals(1, Harness.engine().getConnections().stream().filter(x -> x.getId().equals(c.id)).count());
        } finally {
            c.close();
        }
    }

    @Test
    void knownCidKeepsItsUser() throws Exception {
        Harness.Client c = attached("alice");
        try {
            AtomicReference<Map<String, Object>> same = new AtomicReference<>();
            AtomicReference<Map<String, Object>> other = new AtomicReference<>();
            int fired = beforeConnects(() -> {
                FakeHttp.Req req = new FakeHttp.Req().param("cmd", "conn").param("cId", c.id);
                req.user = "alice";
                same.set(MiniJson.object(Harness.handshake(req).body.toString()));
                FakeHttp.Req other2 = new FakeHttp.Req().param("cmd", "conn").param("cId", c.id);
                other2.user = "mallory";
                other.set(MiniJson.object(Harness.handshake(other2).body.toString()));
            });
            assertEquals(c.id, same.get().get("cId"));
            assertEquals("alice", claims(same.get()).get("sub"));
            assertNotEquals(c.id, other.get().get("cId"), "another user's cId gives a new connection");
            assertEquals("mallory", claims(other.get()).get("sub"));
            assertEquals(1, fired, "BeforeConnect only for the new one");
        } finally {
            c.close();
        }
    }

    @Test
    void unknownCidGivesANewId() throws Exception {
        String unknown = "AAAAAAAAAAAAAAAAAAAAAA";
        AtomicReference<BeforeConnectEvent> seen = new AtomicReference<>();
        BeforeConnectListener l = new BeforeConnectListener() {
            @Override
            public boolean handleEvent(BeforeConnectEvent e) {
                seen.set(e);
                return true;
            }
        };
        Harness.engine().addBeforeConnectListener(l);
        try {
            Map<String, Object> a = MiniJson.object(Harness.handshake(
                    new FakeHttp.Req().param("cmd", "conn").param("cId", unknown)).body.toString());
            String cid = (String) a.get("cId");
            assertNotEquals(unknown, cid);
            assertEquals(22, cid.length());
            assertEquals(cid, claims(a).get("cid"));
            assertNotNull(seen.get(), "BeforeConnect fires for a new connection");
            assertEquals(cid, seen.get().getConnectionId());
        } finally {
            Harness.engine().removeBeforeConnectListener(l);
        }
    }

    @Test
    void unknownCommandIs400() throws Exception {
        FakeHttp.Resp r = Harness.handshake(new FakeHttp.Req().param("cmd", "nope"));
        assertEquals(400, r.status);
        Map<String, Object> err = MiniJson.object(r.body.toString());
        assertEquals(4000L, ((Map<?, ?>) err.get("error")).get("code"));
        assertEquals(400, Harness.handshake(new FakeHttp.Req()).status);
    }

    @Test
    void refusedIs403AndSeesTheRealRequest() throws Exception {
        AtomicReference<BeforeConnectEvent> seen = new AtomicReference<>();
        BeforeConnectListener refuse = new BeforeConnectListener() {
            @Override
            public boolean handleEvent(BeforeConnectEvent e) {
                seen.set(e);
                return !"1".equals(e.getRequest().getParameter("refuse"));
            }
        };
        Harness.engine().addBeforeConnectListener(refuse);
        try {
            FakeHttp.Resp r = Harness.handshake(new FakeHttp.Req().param("cmd", "conn").param("refuse", "1"));
            assertEquals(403, r.status);
            assertEquals("{\"error\":{\"code\":4030,\"message\":\"connection refused\"}}", r.body.toString());
            assertEquals("no-store", r.headers.get("Cache-Control"));
            assertNotNull(seen.get().getResponse());
            assertEquals(22, seen.get().getConnectionId().length());
            assertEquals(Harness.engine(), seen.get().getTarget());

            FakeHttp.Resp ok = Harness.handshake(new FakeHttp.Req().param("cmd", "conn").param("refuse", "0"));
            assertEquals(200, ok.status);
            assertEquals(seen.get().getConnectionId(), MiniJson.object(ok.body.toString()).get("cId"),
                    "the id seen in BeforeConnect is the id handed out");
        } finally {
            Harness.engine().removeBeforeConnectListener(refuse);
        }
    }
}
