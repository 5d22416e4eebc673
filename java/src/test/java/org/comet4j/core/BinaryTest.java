package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.comet4j.core.event.ChannelEvent;
import org.comet4j.core.event.MessageEvent;
import org.comet4j.core.event.PublishEvent;
import org.comet4j.core.exception.NativeException;
import org.comet4j.core.listener.ChannelListener;
import org.comet4j.core.listener.MessageListener;
import org.comet4j.core.listener.PublishListener;
import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Binary messages (docs/protocol.md section 11) through the real library:
 * CometEngine's sends with a byte[] reach WebSocket pages as binary frames
 * (u16 n, the JSON head, the bytes) and SSE and long-poll pages as msg
 * frames with "b64"; a page's binary pub (over WebSocket, or with "b64"
 * over /cmd) reaches PublishListeners and ChannelListeners as a byte[] and
 * is broadcast as bytes; the HTTP API's "b64"; the history replays bytes.
 */
class BinaryTest {

    static final String KEY = "api-key-0123456789-test";
    static final BlockingQueue<ChannelEvent> CHANNEL = new LinkedBlockingQueue<>();
    static final BlockingQueue<PublishEvent> PUBLISH = new LinkedBlockingQueue<>();
    static final BlockingQueue<MessageEvent> MESSAGES = new LinkedBlockingQueue<>();
    /** Every byte value, NUL, quote and newline among them. */
    static final byte[] BYTES = new byte[300];

    static {
        for (int i = 0; i < BYTES.length; i++) {
            BYTES[i] = (byte) (i * 7 + 1);
        }
        BYTES[0] = 0;
        BYTES[1] = '"';
        BYTES[2] = '\n';
    }

    final List<Harness.Client> clients = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start() {
        CometContext cc = CometContext.getInstance();
        cc.registChannel("bin");               // server push only
        cc.registChannel("up", true, false);   // pages publish
        Harness.start(Map.of("Comet.ApiKey", KEY));
        CometEngine e = Harness.engine();
        e.addChannelListener("up", new ChannelListener() {
            @Override
            public boolean handleEvent(ChannelEvent ev) {
                CHANNEL.add(ev);
                return true;
            }
        });
        e.addPublishListener(new PublishListener() {
            @Override
            public boolean handleEvent(PublishEvent ev) {
                PUBLISH.add(ev);
                return true;
            }
        });
        e.addMessageListener(new MessageListener() {
            @Override
            public boolean handleEvent(MessageEvent ev) {
                MESSAGES.add(ev);
                return true;
            }
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
        CHANNEL.clear();
        PUBLISH.clear();
        MESSAGES.clear();
    }

    // ---- helpers -------------------------------------------------------------------

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

    /** The next binary message on channel ch, skipping others. */
    static byte[] nextBinary(Harness.Client c, String ch) throws InterruptedException {
        long end = System.currentTimeMillis() + 10000;
        while (true) {
            byte[] m = c.nextBinary(Math.max(1, end - System.currentTimeMillis()));
            if (ch.equals(Harness.binaryHead(m).get("ch"))) {
                return m;
            }
        }
    }

    static Map<String, Object> answer(Harness.Client c, long id) throws InterruptedException {
        return c.answer(id, 10000);
    }

    static HttpResponse<String> api(String path, String body) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + Harness.engine().getPort() + path))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return Harness.HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    }

    static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    // ---- the engine's sends ---------------------------------------------------------

    @Test
    void sendToAllBytesReachEveryTransport() throws Exception {
        Harness.Client ws = open(null);
        Map<String, Object> hs = Harness.handshake();
        Harness.Sse sse = new Harness.Sse(Harness.httpUrl("/sse", (String) hs.get("ticket"), null));
        Map<String, Object> hp = Harness.handshake();
        String poll = Harness.httpUrl("/poll", (String) hp.get("ticket"), null);
        try {
            assertEquals("open", sse.next(5000).get("t"));
            assertEquals("open", Harness.poll(poll, 5000).get(0).get("t"));
            Harness.engine().sendToAll("bin", BYTES);

            byte[] m = nextBinary(ws, "bin");
            Map<String, Object> head = Harness.binaryHead(m);
            assertEquals("msg", head.get("t"));
            assertTrue(head.get("e") instanceof String && ((Long) head.get("o")) > 0, head.toString());
            assertFalse(head.containsKey("data"), head.toString());
            assertArrayEquals(BYTES, Harness.binaryData(m));

            Map<String, Object> s = sse.nextMsg(5000);
            assertEquals("bin", s.get("ch"));
            assertEquals(b64(BYTES), s.get("b64"));
            assertFalse(s.containsKey("data"), s.toString());
            assertEquals(head.get("o"), s.get("o"));

            Map<String, Object> p = null;
            for (Map<String, Object> f : Harness.poll(poll, 10000)) {
                if ("msg".equals(f.get("t"))) {
                    p = f;
                }
            }
            assertTrue(p != null);
            assertEquals(b64(BYTES), p.get("b64"));
            assertEquals(head.get("o"), p.get("o"));

            // MessageEvents carry the array itself.
            MessageEvent ev = MESSAGES.poll(5, TimeUnit.SECONDS);
            assertTrue(ev != null);
            assertSame(BYTES, ev.getData().getData());
            assertEquals("bin", ev.getChannel());
        } finally {
            sse.close();
        }
    }

    @Test
    void sendToOneUserOrIdAndAList() throws Exception {
        Harness.Client c = open("binuser");
        CometConnection conn = Harness.engine().getConnection(c.id);
        byte[] one = {1, 2, 3};
        // A byte[] through sendTo's Object form is bytes too.
        Harness.engine().sendTo("bin", conn, one);
        byte[] m = nextBinary(c, "bin");
        assertNull(Harness.binaryHead(m).get("o"), "a sendTo has no offset");
        assertArrayEquals(one, Harness.binaryData(m));
        Harness.engine().sendToUser("binuser", "bin", new byte[] {4});
        assertArrayEquals(new byte[] {4}, Harness.binaryData(nextBinary(c, "bin")));
        Harness.engine().sendToConnection(c.id, "bin", new byte[0]);
        assertArrayEquals(new byte[0], Harness.binaryData(nextBinary(c, "bin")));
        Harness.engine().sendTo("bin", List.of(conn), new byte[] {5, 6});
        assertArrayEquals(new byte[] {5, 6}, Harness.binaryData(nextBinary(c, "bin")));
        // JSON stays text, and null stays JSON null (no ambiguity, no bytes).
        Harness.engine().sendToAll("bin", (byte[]) null);
        Map<String, Object> text = c.nextWhere(f -> "msg".equals(f.get("t")), 5000);
        assertTrue(text.containsKey("data") && text.get("data") == null, text.toString());
        assertTrue(c.binaries.isEmpty());
    }

    @Test
    void bytesOverTheQueueLimitAreRefused() throws Exception {
        // Comet.MaxQueue is 1 MiB: 900 KiB fit as they are, not in base64.
        NativeException e = assertThrows(NativeException.class,
                () -> Harness.engine().sendToAll("bin", new byte[900 * 1024]));
        assertEquals(NativeException.ETOOBIG, e.getCode());
    }

    // ---- a page's bytes ---------------------------------------------------------------

    @Test
    void pagePublishesBytesOverWebSocket() throws Exception {
        Harness.Client a = open(null);
        Harness.Client b = open(null);
        a.sendBinary("{\"t\":\"pub\",\"id\":1,\"ch\":\"up\"}", BYTES);
        assertEquals("ack", answer(a, 1).get("t"));
        PublishEvent pe = PUBLISH.poll(5, TimeUnit.SECONDS);
        assertTrue(pe != null && pe.getData() instanceof byte[]);
        assertArrayEquals(BYTES, (byte[]) pe.getData());
        ChannelEvent ce = CHANNEL.poll(5, TimeUnit.SECONDS);
        assertTrue(ce != null && ce.getData() instanceof byte[]);
        assertArrayEquals(BYTES, (byte[]) ce.getData());
        assertEquals(a.id, ce.getConn().getId());
        // The broadcast is bytes, for every page of the channel.
        assertArrayEquals(BYTES, Harness.binaryData(nextBinary(b, "up")));
        assertArrayEquals(BYTES, Harness.binaryData(nextBinary(a, "up")));

        // What a binary message cannot be: err 4000, the page stays.
        a.sendBinary("{\"t\":\"sub\",\"id\":2,\"ch\":\"up\"}", new byte[] {1});
        Map<String, Object> err = answer(a, 2);
        assertEquals("err", err.get("t"));
        assertEquals(4000L, err.get("code"));
        a.sendBinary("{\"t\":\"pub\",\"id\":3,\"ch\":\"up\",\"data\":1}", new byte[] {1});
        assertEquals(4000L, answer(a, 3).get("code"));
        a.ws.sendBinary(java.nio.ByteBuffer.wrap(new byte[] {0, 50, 1}), true).join();
        Map<String, Object> bad = a.nextWhere(f -> "err".equals(f.get("t")), 5000);
        assertEquals(4000L, bad.get("code"));
        assertNull(bad.get("id"));
        // The rules of pub hold: "bin" is not writable by pages.
        a.sendBinary("{\"t\":\"pub\",\"id\":4,\"ch\":\"bin\"}", new byte[] {1});
        assertEquals(4031L, answer(a, 4).get("code"));
        a.ws.sendText("{\"t\":\"ping\"}", true).join();
        assertEquals("pong", a.nextWhere(f -> "pong".equals(f.get("t")), 5000).get("t"));
    }

    @Test
    void pagePublishesBytesOverCmd() throws Exception {
        Harness.Client b = open(null);
        Map<String, Object> hs = Harness.handshake();
        String ticket = (String) hs.get("ticket");
        Harness.Sse sse = new Harness.Sse(Harness.httpUrl("/sse", ticket, null));
        try {
            assertEquals("open", sse.next(5000).get("t"));
            HttpResponse<String> r = Harness.post(Harness.httpUrl("/cmd", ticket, null),
                    "{\"t\":\"pub\",\"id\":7,\"ch\":\"up\",\"b64\":\"" + b64(BYTES) + "\"}", 5000);
            assertEquals(200, r.statusCode(), r.body());
            ChannelEvent ce = CHANNEL.poll(5, TimeUnit.SECONDS);
            assertTrue(ce != null && ce.getData() instanceof byte[]);
            assertArrayEquals(BYTES, (byte[]) ce.getData());
            assertArrayEquals(BYTES, Harness.binaryData(nextBinary(b, "up")));
            Map<String, Object> mine = sse.nextMsg(5000);
            assertEquals(b64(BYTES), mine.get("b64"));
            Harness.post(Harness.httpUrl("/cmd", ticket, null),
                    "{\"t\":\"pub\",\"id\":8,\"ch\":\"up\",\"b64\":\"not base64!\"}", 5000);
            Map<String, Object> err = sse.next(5000);
            while (!"err".equals(err.get("t"))) {
                err = sse.next(5000);
            }
            assertEquals(8L, err.get("id"));
            assertEquals(4000L, err.get("code"));
        } finally {
            sse.close();
        }
    }

    // ---- the HTTP API -------------------------------------------------------------------

    @Test
    void apiPublishAndSendTakeB64() throws Exception {
        Harness.Client c = open(null);
        HttpResponse<String> r = api("/api/publish", "{\"channel\":\"bin\",\"b64\":\"" + b64(BYTES) + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertArrayEquals(BYTES, Harness.binaryData(nextBinary(c, "bin")));
        r = api("/api/send", "{\"channel\":\"bin\",\"b64\":\"AAEC\",\"cId\":\"" + c.id + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertArrayEquals(new byte[] {0, 1, 2}, Harness.binaryData(nextBinary(c, "bin")));
        assertEquals(400, api("/api/publish", "{\"channel\":\"bin\",\"b64\":\"AAEC\",\"data\":1}").statusCode());
        assertEquals(400, api("/api/publish", "{\"channel\":\"bin\",\"b64\":\"*\"}").statusCode());
        assertEquals(400, api("/api/publish", "{\"channel\":\"bin\",\"b64\":7}").statusCode());
        r = api("/api/publish", "{\"channel\":\"bin\",\"b64\":\"" + b64(new byte[48000]) + "\"}");
        assertEquals(200, r.statusCode(), r.body());
    }

    // ---- the history ------------------------------------------------------------------------

    @Test
    void resumeReplaysBytesInOrder() throws Exception {
        Map<String, Object> hs = Harness.handshake();
        String ticket = (String) hs.get("ticket");
        Harness.Client c = Harness.connect(ticket);
        clients.add(c);
        Map<String, Object> open = c.next(10000);
        List<?> pos = (List<?>) ((Map<?, ?>) open.get("pos")).get("bin");
        c.abort();
        Harness.engine().sendToAll("bin", new byte[] {1});
        Harness.engine().sendToAll("bin", "two");
        Harness.engine().sendToAll("bin", new byte[] {3, 3});
        Map<String, List<Object>> since = Map.of("bin", List.of(pos.get(0), pos.get(1)));
        Harness.Client back = Harness.connect(ticket, since);
        clients.add(back);
        assertEquals("open", back.next(10000).get("t"));
        long base = (Long) pos.get(1);
        byte[] first = back.nextBinary(10000);
        assertEquals(base + 1, Harness.binaryHead(first).get("o"));
        assertArrayEquals(new byte[] {1}, Harness.binaryData(first));
        Map<String, Object> two = back.nextWhere(f -> "msg".equals(f.get("t")), 10000);
        assertEquals(base + 2, two.get("o"));
        assertEquals("two", two.get("data"));
        byte[] third = back.nextBinary(10000);
        assertEquals(base + 3, Harness.binaryHead(third).get("o"));
        assertArrayEquals(new byte[] {3, 3}, Harness.binaryData(third));
        assertEquals(Boolean.TRUE, back.nextWhere(f -> "recovered".equals(f.get("t")), 10000).get("recovered"));
    }
}
