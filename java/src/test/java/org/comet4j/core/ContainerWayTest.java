package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.comet4j.core.event.ConnectEvent;
import org.comet4j.test.FakeHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The container way (docs/protocol.md section 10) against a real one-port
 * engine: the servlet with fake requests on a secure connector (so the
 * socket stays the container's), and pipes with a fake page side.  The
 * core's refusals reach the page with the core's status and body and no
 * upgrade; its 101 comes back with the core's accept key; an SSE page's
 * bytes cross both ways with the page's own address in its ConnectEvent;
 * a page that takes nothing is cut by the core (slow consumer) while the
 * bridge holds at most one read for it.
 */
class ContainerWayTest {

    private static final String ORIGIN = "https://good.example";
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    @BeforeAll
    static void start() {
        // Comet.Port blank: one port (the bridge to the internal listener).
        Harness.start(Map.of("Comet.Port", "", "Comet.AllowedOrigins", ORIGIN, "Comet.MaxQueue", "65536"),
                "clock", "firehose");
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    @AfterEach
    void noPipeLeft() throws Exception {
        Bridge b = Harness.engine().bridge();
        waitFor("every pipe closed (" + b.pipeCount() + " open)", () -> b.pipeCount() == 0, 5000);
    }

    private static FakeHttp.Req wsRequest(String ticket, String origin) {
        FakeHttp.Req req = new FakeHttp.Req().param("cmd", "ws").param("ticket", ticket)
                .header("Upgrade", "websocket").header("Connection", "Upgrade")
                .header("Sec-WebSocket-Key", KEY).header("Sec-WebSocket-Version", "13")
                .header("Host", "127.0.0.1:8443");
        if (origin != null) {
            req.header("Origin", origin);
        }
        req.secure = true; // a TLS connector: Takeover refuses, the bridge carries it
        return req;
    }

    private static FakeHttp.Resp serve(FakeHttp.Req req) throws Exception {
        FakeHttp.Resp resp = new FakeHttp.Resp();
        new CometServlet().handle(FakeHttp.request(req), FakeHttp.response(resp));
        return resp;
    }

    private static String ticket() throws Exception {
        return (String) Harness.handshake().get("ticket");
    }

    @Test
    void theEngineHasABridgeAndNoPortForPages() {
        assertEquals(-1, Harness.engine().getPort());
        assertNotNull(Harness.engine().bridge());
    }

    @Test
    void aWebSocketWithABadTicketGetsTheCores401AndNoUpgrade() throws Exception {
        FakeHttp.Resp r = serve(wsRequest("not-a-ticket", ORIGIN));
        assertEquals(401, r.status);
        assertEquals("invalid ticket", r.bytes.toString(StandardCharsets.UTF_8));
        assertTrue(r.contentType.startsWith("text/plain"), r.contentType);
        assertEquals("invalid ticket".length(), r.contentLength);
        assertEquals(null, r.headers.get("Upgrade"));
    }

    @Test
    void aWebSocketFromAnOriginNotAllowedGetsTheCores403AndNoUpgrade() throws Exception {
        FakeHttp.Req req = wsRequest(ticket(), "https://evil.example");
        FakeHttp.Resp r = serve(req);
        assertEquals(403, r.status);
        assertEquals("origin not allowed", r.bytes.toString(StandardCharsets.UTF_8));
        assertEquals(List.of(), req.upgraded);
        assertEquals(null, r.headers.get("Sec-WebSocket-Accept"));
    }

    @Test
    void aWebSocketTheCoreAcceptsIsUpgradedWithTheCoresAcceptKey() throws Exception {
        long before = Harness.engine().bridge().openedCount();
        FakeHttp.Req req = wsRequest(ticket(), ORIGIN);
        FakeHttp.Resp r = serve(req);
        assertEquals(1, req.upgraded.size());
        assertTrue(req.upgraded.get(0) instanceof BridgeUpgrade);
        assertEquals("websocket", r.headers.get("Upgrade"));
        assertEquals("Upgrade", r.headers.get("Connection"));
        String expected = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                .digest((KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
        assertEquals(expected, r.headers.get("Sec-WebSocket-Accept"));
        assertEquals(null, r.headers.get("Sec-WebSocket-Extensions")); // none offered
        assertEquals(before + 1, Harness.engine().bridge().openedCount());
        // The container drops the upgraded connection before init: the pipe closes.
        ((BridgeUpgrade) req.upgraded.get(0)).destroy();
    }

    @Test
    void aWebSocketThatOffersDeflateGetsTheCoresAnswer() throws Exception {
        FakeHttp.Req req = wsRequest(ticket(), ORIGIN)
                .header("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
        FakeHttp.Resp r = serve(req);
        assertEquals(1, req.upgraded.size());
        // The core negotiated it, and compresses the frames through the pipe.
        assertEquals("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                r.headers.get("Sec-WebSocket-Extensions"));
        ((BridgeUpgrade) req.upgraded.get(0)).destroy();
    }

    @Test
    void aWebSocketOnAPlainNioRequestThatCannotBeTakenOverIsBridgedToo() throws Exception {
        // Not secure, but no Tomcat behind the fake request: Takeover refuses it.
        FakeHttp.Req req = wsRequest("not-a-ticket", ORIGIN);
        req.secure = false;
        assertEquals(401, serve(req).status);
    }

    /** A page side that records what the bridge gives it. */
    static final class FakePage extends BridgePipe.Page {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final CountDownLatch ended = new CountDownLatch(1);
        volatile BridgePipe.Answer head;
        volatile boolean readyNow;
        volatile int failed;

        FakePage(boolean ready) {
            readyNow = ready;
        }

        @Override
        void head(BridgePipe.Answer a) {
            head = a;
        }

        @Override
        boolean ready() {
            return readyNow;
        }

        @Override
        synchronized void write(byte[] b, int off, int len) {
            got.write(b, off, len);
        }

        @Override
        void flush() {
        }

        @Override
        void end() {
            ended.countDown();
        }

        @Override
        void fail(int status, String why) {
            failed = status;
            ended.countDown();
        }

        /** The container's onWritePossible. */
        void becomeReady() {
            readyNow = true;
            signal(BridgePipe.EV_WRITABLE);
        }

        synchronized String text() {
            return got.toString(StandardCharsets.UTF_8);
        }

        synchronized int size() {
            return got.size();
        }
    }

    private static byte[] sseRequest(String ticket) {
        return ("GET /sse?ticket=" + URLEncoder.encode(ticket, StandardCharsets.UTF_8) + " HTTP/1.1\r\n"
                + "Origin: " + ORIGIN + "\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void anSseStreamCrossesTheBridgeWithThePagesAddress() throws Exception {
        Recorder rec = new Recorder(Harness.engine());
        Map<String, Object> hs = Harness.handshake();
        String cid = (String) hs.get("cId");
        FakePage page = new FakePage(true);
        Harness.engine().bridge().open(sseRequest((String) hs.get("ticket")), page, false);
        waitFor("the open frame", () -> page.text().contains("\"t\":\"open\""), 5000);
        assertEquals(200, page.head.status);
        assertEquals("text/event-stream", page.head.header("Content-Type"));
        assertEquals(-1, page.head.contentLength);
        ConnectEvent e = rec.await(ConnectEvent.class, cid, 5000);
        assertEquals("203.0.113.7", e.getConn().getClientIp());
        Harness.engine().sendToAll("clock", "tick-through-the-bridge");
        waitFor("the message", () -> page.text().contains("tick-through-the-bridge"), 5000);
        Harness.engine().drop(e.getConn());
        assertTrue(page.ended.await(5, TimeUnit.SECONDS), "the core's end completes the page");
    }

    @Test
    void aPageThatTakesNothingIsCutByTheCoreAndTheBridgeHoldsOneReadAtMost() throws Exception {
        Map<String, Object> hs = Harness.handshake();
        FakePage page = new FakePage(false);
        Bridge b = Harness.engine().bridge();
        b.open(sseRequest((String) hs.get("ticket")), page, false);
        waitFor("the head", () -> page.head != null, 5000);
        long cuts = Harness.engine().getStats().get("slowConsumers");
        String data = "x".repeat(16 * 1024 - 16);
        long maxHeld = 0;
        int sent = 0;
        // At most 32 MB; Comet.MaxQueue is 64 KiB.
        for (; sent < 2048 && Harness.engine().getStats().get("slowConsumers") == cuts; sent++) {
            Harness.engine().sendToAll("firehose", data);
            maxHeld = Math.max(maxHeld, b.bufferedBytes());
            if (sent % 16 == 15) {
                Thread.sleep(5);
            }
        }
        assertTrue(Harness.engine().getStats().get("slowConsumers") > cuts,
                "the core cut the page after " + sent + " messages of 16 KiB");
        assertEquals(0, page.size(), "nothing reached a page that was never ready");
        assertTrue(maxHeld <= 2L * Bridge.CHUNK, "the bridge held " + maxHeld + " bytes");
        // The page reads again: it gets what was on the way, then the end.
        page.becomeReady();
        assertTrue(page.ended.await(10, TimeUnit.SECONDS), "the page ends after the core's cut");
        assertTrue(page.size() > 0);
        assertTrue(sent * 16L * 1024 > page.size(), "sent " + sent * 16 + " KiB, the page got all of it: " + page.size());
    }

    @Test
    void aCoreThatCannotBeReachedFailsTheHttpPage() throws Exception {
        Bridge dead = Bridge.start(1, 60000); // nothing listens on port 1
        try {
            FakePage page = new FakePage(true);
            dead.open(sseRequest("t"), page, false);
            assertTrue(page.ended.await(5, TimeUnit.SECONDS));
            assertEquals(503, page.failed);
        } finally {
            dead.stop(0);
        }
    }

    static void waitFor(String what, BooleanSupplier cond, long ms) throws InterruptedException {
        long end = System.currentTimeMillis() + ms;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
