package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
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
        Harness.start(Map.of("Comet.TicketTtl", "30"), "clock", "chat");
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
        assertEquals(List.of("v", "cId", "channels", "ticket", "endpoints", "workStyle", "timeout", "heartbeat"),
                List.copyOf(a.keySet()));
        assertEquals(1L, a.get("v"));
        String cid = (String) a.get("cId");
        assertEquals(22, cid.length());
        assertTrue(cid.matches("[A-Za-z0-9_-]{22}"), cid);
        assertEquals(List.of("clock", "chat"), a.get("channels"));
        assertEquals(List.of("ws://127.0.0.1:" + Harness.engine().getPort() + "/ws"), a.get("endpoints"));
        assertEquals("websocket", a.get("workStyle"));
        assertEquals(60000L, a.get("timeout"));
        assertEquals(25000L, a.get("heartbeat"));

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

    @Test
    void ipv6HostIsBracketed() {
        FakeHttp.Req req = new FakeHttp.Req();
        req.serverName = "::1";
        assertEquals(List.of("ws://[::1]:4100/ws"),
                CometServlet.endpoints(CometConfig.defaults(), 4100, FakeHttp.request(req)));
        CometConfig pub = CometConfig.parse(Map.of("Comet.PublicUrl", "wss://example.com/comet"));
        assertEquals(List.of("wss://example.com/comet"), CometServlet.endpoints(pub, 4100, FakeHttp.request(req)));
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
