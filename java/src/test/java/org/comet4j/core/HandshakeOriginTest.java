package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.comet4j.core.exception.ConfigException;
import org.comet4j.test.FakeHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The handshake's answers to where a page comes from: a page of another
 * origin refused (403 4033, readable by it, counted) or let in with CORS;
 * an https page never handed ws:// endpoints (503 naming Comet.PublicUrl);
 * the forwarding headers believed only from Comet.TrustedProxies.
 */
class HandshakeOriginTest {

    @BeforeAll
    static void start() {
        Harness.start(Map.of("Comet.AllowedOrigins", "https://app.example.com, http://127.0.0.1:8080"), "news");
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    private static FakeHttp.Req conn() {
        return new FakeHttp.Req().param("cmd", "conn").header("Host", "127.0.0.1:8080");
    }

    @Test
    void anOriginNotAllowedIsRefusedReadablyAndCounted() throws Exception {
        long before = Harness.engine().getStats().get("originsRefused");
        FakeHttp.Resp r = Harness.handshake(conn().header("Origin", "https://evil.example"));
        assertEquals(403, r.status);
        assertEquals("https://evil.example", r.headers.get("Access-Control-Allow-Origin"));
        assertEquals("{\"error\":{\"code\":4033,\"message\":\"origin not allowed: https://evil.example"
                + " (Comet.AllowedOrigins)\"}}", r.body.toString());
        assertEquals(before + 1, Harness.engine().getStats().get("originsRefused"));
    }

    @Test
    void anAllowedOtherOriginGetsCorsAndItsOwnOriginNone() throws Exception {
        FakeHttp.Resp r = Harness.handshake(conn().header("Origin", "https://APP.example.com"));
        assertEquals(200, r.status);
        assertEquals("https://APP.example.com", r.headers.get("Access-Control-Allow-Origin"));
        assertEquals("true", r.headers.get("Access-Control-Allow-Credentials"));
        FakeHttp.Resp own = Harness.handshake(conn().header("Origin", "http://127.0.0.1:8080"));
        assertEquals(200, own.status);
        assertNull(own.headers.get("Access-Control-Allow-Origin"), "same origin: no CORS needed");
    }

    @Test
    void anHttpsPageIsNeverGivenPlainEndpoints() throws Exception {
        FakeHttp.Req req = conn();
        req.secure = true;
        FakeHttp.Resp r = Harness.handshake(req);
        assertEquals(503, r.status);
        assertTrue(r.body.toString().contains("Comet.PublicUrl"), r.body.toString());
        assertTrue(r.body.toString().contains("\"code\":5030"), r.body.toString());
        // The same through a proxy that is not trusted: a plain page.
        FakeHttp.Req proxied = conn().header("X-Forwarded-Proto", "https");
        proxied.remoteAddr = "10.0.0.9";
        assertEquals(200, Harness.handshake(proxied).status);
    }

    @Test
    void forwardingHeadersCountOnlyFromTrustedProxies() {
        CometConfig cfg = CometConfig.parse(Map.of("Comet.TrustedProxies", "10.0.0.9, ::1"));
        FakeHttp.Req r = new FakeHttp.Req().header("X-Forwarded-Proto", "https");
        r.remoteAddr = "10.0.0.9";
        assertTrue(CometServlet.secure(FakeHttp.request(r), cfg));
        r.remoteAddr = "10.0.0.8";
        assertFalse(CometServlet.secure(FakeHttp.request(r), cfg));
        FakeHttp.Req f = new FakeHttp.Req().header("Forwarded", "for=1.2.3.4;proto=\"https\";by=x");
        f.remoteAddr = "0:0:0:0:0:0:0:1";
        assertTrue(CometServlet.secure(FakeHttp.request(f), cfg));
        FakeHttp.Req h = new FakeHttp.Req().header("Forwarded", "proto=http");
        h.remoteAddr = "10.0.0.9";
        assertFalse(CometServlet.secure(FakeHttp.request(h), cfg));
        FakeHttp.Req s = new FakeHttp.Req();
        s.secure = true;
        assertTrue(CometServlet.secure(FakeHttp.request(s), CometConfig.defaults()));
        assertEquals("https://h:8443/app/conn",
                CometServlet.selfUrl(FakeHttp.request(new FakeHttp.Req().header("Host", "h:8443")), true));
        ConfigException e = assertThrows(ConfigException.class,
                () -> CometConfig.parse(Map.of("Comet.TrustedProxies", "proxy.example")));
        assertEquals("Comet.TrustedProxies: not an IP address: 'proxy.example'", e.getMessage());
    }

    @Test
    void sameOriginIsTheRequestsSchemeAndHost() {
        CometConfig cfg = CometConfig.defaults();
        FakeHttp.Req r = new FakeHttp.Req().header("Host", "example.com:80");
        assertTrue(CometServlet.sameOrigin("http://example.com", FakeHttp.request(r), cfg));
        assertTrue(CometServlet.sameOrigin("http://example.com:80", FakeHttp.request(r), cfg));
        assertFalse(CometServlet.sameOrigin("https://example.com", FakeHttp.request(r), cfg));
        assertFalse(CometServlet.sameOrigin("http://example.com:81", FakeHttp.request(r), cfg));
    }
}
