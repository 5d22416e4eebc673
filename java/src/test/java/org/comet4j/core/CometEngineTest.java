package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.Inflater;

import jakarta.servlet.http.HttpServletRequest;

import org.comet4j.core.event.BeforeDropEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.event.MessageEvent;
import org.comet4j.core.listener.BeforeDropListener;
import org.comet4j.core.listener.ConnectListener;
import org.comet4j.core.listener.DropListener;
import org.comet4j.core.listener.MessageListener;
import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole path through the real JNI library: handshake, attach with
 * java.net.http's WebSocket client, events on the dispatcher, sending,
 * refusals and protocol errors.
 */
class CometEngineTest {

    static final int MAX_FRAME = 1024;
    static final BlockingQueue<ConnectEvent> connects = new LinkedBlockingQueue<>();
    static final BlockingQueue<DropEvent> drops = new LinkedBlockingQueue<>();
    static final BlockingQueue<String> order = new LinkedBlockingQueue<>();
    static volatile Thread dispatcherThread;

    @BeforeAll
    static void start() {
        Harness.start(Map.of("Comet.MaxFrame", String.valueOf(MAX_FRAME)), "hello", "other");
        CometEngine engine = Harness.engine();
        engine.addConnectListener(new ConnectListener() {
            @Override
            public boolean handleEvent(ConnectEvent e) {
                dispatcherThread = Thread.currentThread();
                connects.add(e);
                return true;
            }
        });
        // A listener that throws must not kill the dispatcher.
        engine.addConnectListener(new ConnectListener() {
            @Override
            public boolean handleEvent(ConnectEvent e) {
                throw new IllegalStateException("test: a listener that throws");
            }
        });
        engine.addBeforeDropListener(new BeforeDropListener() {
            @Override
            public boolean handleEvent(BeforeDropEvent e) {
                order.add("beforeDrop " + e.getConn().getId());
                return true;
            }
        });
        engine.addDropListener(new DropListener() {
            @Override
            public boolean handleEvent(DropEvent e) {
                order.add("drop " + e.getConn().getId());
                drops.add(e);
                return true;
            }
        });
    }

    @AfterAll
    static void stop() throws Exception {
        Harness.stop();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(Dispatcher.THREAD_NAME)) {
                t.join(5000);
                assertTrue(!t.isAlive(), "the dispatcher thread ended");
            }
        }
    }

    /** Handshake with the servlet, attach, and wait for the ConnectEvent. */
    static Harness.Client attach(FakeHttp.Req req) throws Exception {
        Map<String, Object> a = MiniJson.object(Harness.handshake(req).body.toString());
        Harness.Client c = Harness.connect((String) a.get("ticket"));
        Map<String, Object> open = c.next(5000);
        assertEquals("open", open.get("t"));
        assertEquals(a.get("cId"), open.get("cId"));
        ConnectEvent e = awaitConnect((String) a.get("cId"));
        c.id = e.getConn().getId();
        return c;
    }

    static ConnectEvent awaitConnect(String cid) throws InterruptedException {
        long end = System.currentTimeMillis() + 5000;
        while (System.currentTimeMillis() < end) {
            ConnectEvent e = connects.poll(100, TimeUnit.MILLISECONDS);
            if (e != null && e.getConn().getId().equals(cid)) {
                return e;
            }
        }
        throw new AssertionError("no ConnectEvent for " + cid);
    }

    static DropEvent awaitDrop(String cid) throws InterruptedException {
        long end = System.currentTimeMillis() + 5000;
        while (System.currentTimeMillis() < end) {
            DropEvent e = drops.poll(100, TimeUnit.MILLISECONDS);
            if (e != null && e.getConn().getId().equals(cid)) {
                return e;
            }
        }
        throw new AssertionError("no DropEvent for " + cid);
    }

    @Test
    void connectWithValidTicket() throws Exception {
        FakeHttp.Req req = new FakeHttp.Req().param("cmd", "conn").param("room", "7")
                .header("User-Agent", "junit").cookie("userName", "ann");
        req.user = "ann";
        req.sessionId = "S1";
        Map<String, Object> a = MiniJson.object(Harness.handshake(req).body.toString());
        String cid = (String) a.get("cId");
        Harness.Client c = Harness.connect((String) a.get("ticket"));
        Map<String, Object> open = c.next(5000);
        assertEquals("open", open.get("t"));
        assertEquals(cid, open.get("cId"));
        assertEquals(List.of("hello", "other"), open.get("channels"));

        ConnectEvent e = awaitConnect(cid);
        assertSame(Harness.engine(), e.getTarget());
        CometConnection conn = e.getConn();
        assertEquals(cid, conn.getId());
        assertEquals("127.0.0.1", conn.getClientIp());
        assertTrue(conn.getClientPort() > 0);
        assertEquals("ann", conn.getUser());
        assertEquals("websocket", conn.getWorkStyle());
        assertEquals(CometProtocol.STATE_ALIVE, conn.getState());
        assertEquals(Dispatcher.THREAD_NAME, dispatcherThread.getName());
        assertTrue(dispatcherThread.isDaemon());
        assertSame(conn, Harness.engine().getConnection(cid));
        assertTrue(Harness.engine().getConnections().contains(conn));

        HttpServletRequest r = conn.getRequest();
        assertEquals("7", r.getParameter("room"));
        assertEquals("junit", r.getHeader("user-agent"));
        assertEquals("ann", r.getCookies()[0].getValue());
        assertEquals("ann", r.getUserPrincipal().getName());
        assertEquals("S1", ((RequestSnapshot) r).getSessionId());
        assertEquals("GET", r.getMethod());
        assertEquals("/app", r.getContextPath());
        assertNull(r.getSession(false));
        UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class, r::getSession);
        assertTrue(u.getMessage().contains("snapshot"), u.getMessage());
        r.setAttribute("k", "v");
        assertEquals("v", r.getAttribute("k"));
        c.abort();
    }

    @Test
    void ticketMintedElsewhere() throws Exception {
        Map<String, Object> claims = new LinkedHashMap<>();
        String cid = "elsewhere0123456789abc";
        claims.put("cid", cid);
        claims.put("sub", "bob");
        claims.put("exp", System.currentTimeMillis() / 1000 + 60);
        claims.put("ch", List.of("hello"));
        Harness.Client c = Harness.connect(Harness.jwt(Harness.SECRET, claims));
        ConnectEvent e = awaitConnect(cid);
        assertEquals("bob", e.getConn().getUser());
        assertEquals("127.0.0.1", e.getConn().getClientIp());
        assertNull(e.getConn().getRequest());
        c.abort();
    }

    @Test
    void refusedWithoutValidTicket() throws Exception {
        assertEquals(401, Harness.refusedStatus(null), "no ticket");
        assertEquals(401, Harness.refusedStatus("not.a.jwt"), "garbage");

        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("cid", "forged0123456789abcdef");
        claims.put("exp", System.currentTimeMillis() / 1000 + 60);
        claims.put("ch", List.of("hello"));
        assertEquals(401, Harness.refusedStatus(Harness.jwt("another-secret-of-16+bytes", claims)), "forged");

        String real = Harness.jwt(Harness.SECRET, claims);
        String tampered = real.substring(0, real.length() - 2) + (real.endsWith("AA") ? "BB" : "AA");
        assertEquals(401, Harness.refusedStatus(tampered), "tampered signature");

        String expired = Harness.engine().ticket("expired0123456789abcde", null,
                System.currentTimeMillis() / 1000 - 30, List.of("hello"));
        assertEquals(401, Harness.refusedStatus(expired), "expired");
    }

    @Test
    void sendToReachesOneConnectionOnly() throws Exception {
        Harness.Client a = attach(new FakeHttp.Req().param("cmd", "conn"));
        Harness.Client b = attach(new FakeHttp.Req().param("cmd", "conn"));
        BlockingQueue<MessageEvent> sent = new LinkedBlockingQueue<>();
        MessageListener ml = new MessageListener() {
            @Override
            public boolean handleEvent(MessageEvent e) {
                sent.add(e);
                return true;
            }
        };
        Harness.engine().addMessageListener(ml);
        try {
            CometConnection ca = Harness.engine().getConnection(a.id);
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("text", "only for a \u2028 \"quoted\"");
            data.put("n", 1);
            Harness.engine().sendTo("hello", ca, data);
            Map<String, Object> m = a.nextMsg(5000);
            assertEquals("hello", m.get("ch"));
            assertEquals(data.get("text"), ((Map<?, ?>) m.get("data")).get("text"));
            assertTrue(m.get("time") instanceof Long);

            MessageEvent me = sent.poll(1, TimeUnit.SECONDS);
            assertNotNull(me);
            assertSame(ca, me.getConn());
            assertSame(data, me.getData().getData());
            assertEquals("hello", me.getData().getChannel());
            assertEquals("hello", me.getChannel());

            // A list of data sends each element as its own message, in order.
            Harness.engine().sendTo("other", ca, List.<Object>of("x", "y"));
            assertEquals("x", a.nextMsg(5000).get("data"));
            assertEquals("y", a.nextMsg(5000).get("data"));

            // b got none of it: the next thing b sees is what is sent to it.
            Harness.engine().sendTo("hello", List.of(Harness.engine().getConnection(b.id)), "for b");
            assertEquals("for b", b.nextMsg(5000).get("data"));
            assertTrue(b.messages.isEmpty());
        } finally {
            Harness.engine().removeMessageListener(ml);
            a.abort();
            b.abort();
        }
    }

    @Test
    void closedClientFiresDrop() throws Exception {
        Harness.Client c = attach(new FakeHttp.Req().param("cmd", "conn"));
        CometConnection conn = Harness.engine().getConnection(c.id);
        c.close();
        DropEvent e = awaitDrop(c.id);
        assertSame(conn, e.getConn());
        assertEquals(CometProtocol.STATE_DROPPED, conn.getState());
        assertEquals(1000, e.getCode());
        assertNull(Harness.engine().getConnection(c.id));
        // BeforeDrop came first.
        List<String> seen = new java.util.ArrayList<>();
        order.drainTo(seen);
        int before = seen.indexOf("beforeDrop " + c.id);
        int after = seen.indexOf("drop " + c.id);
        assertTrue(before >= 0 && before < after, seen.toString());
    }

    @Test
    void dropByTheApplication() throws Exception {
        Harness.Client c = attach(new FakeHttp.Req().param("cmd", "conn"));
        Harness.engine().drop(Harness.engine().getConnection(c.id));
        assertEquals(CometProtocol.CLOSE_DROPPED, c.closeCode(5000));
        assertEquals(CometProtocol.CLOSE_DROPPED, awaitDrop(c.id).getCode());
    }

    @Test
    void oversizedFrameCloses1009() throws Exception {
        Harness.Client c = attach(new FakeHttp.Req().param("cmd", "conn"));
        c.ws.sendText("{\"t\":\"ping\",\"pad\":\"" + "x".repeat(MAX_FRAME * 4) + "\"}", true);
        assertEquals(1009, c.closeCode(5000));
        assertEquals(1009, awaitDrop(c.id).getCode());
    }

    @Test
    void unmaskedFrameCloses1002() throws Exception {
        Map<String, Object> a = MiniJson.object(Harness.handshake(new FakeHttp.Req().param("cmd", "conn")).body.toString());
        try (Socket s = new Socket("127.0.0.1", Harness.engine().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            writeUpgrade(out, a.get("ticket"), "");
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            assertTrue(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), head);

            byte[] payload = "{\"t\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
            out.write(0x81); // FIN + text, and no mask bit
            out.write(payload.length);
            out.write(payload);
            out.flush();

            while (true) { // skip the open frame (and anything else) up to the close frame
                int b0 = in.read();
                int b1 = in.read();
                assertTrue(b0 >= 0 && b1 >= 0, "connection ended without a close frame");
                assertEquals(0, b1 & 0x80, "server frames are not masked");
                long len = b1 & 0x7f;
                if (len == 126) {
                    len = (in.read() << 8) | in.read();
                } else if (len == 127) {
                    len = 0;
                    for (int i = 0; i < 8; i++) {
                        len = (len << 8) | in.read();
                    }
                }
                byte[] body = in.readNBytes((int) len);
                if ((b0 & 0x0f) == 0x8) {
                    assertTrue(body.length >= 2);
                    assertEquals(1002, ((body[0] & 0xff) << 8) | (body[1] & 0xff));
                    break;
                }
            }
        }
        assertEquals(1002, awaitDrop((String) a.get("cId")).getCode());
    }

    @Test
    void aBroadcastToADeflatePageIsCompressedAndCountedInGetStats() throws Exception {
        Map<String, Object> a = MiniJson.object(Harness.handshake(new FakeHttp.Req().param("cmd", "conn")).body.toString());
        Map<String, Long> before = Harness.engine().getStats();
        try (Socket s = new Socket("127.0.0.1", Harness.engine().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            writeUpgrade(out, a.get("ticket"), "Sec-WebSocket-Extensions: permessage-deflate\r\n");
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            assertTrue(head.contains("permessage-deflate"), head);
            String text = "every page gets the same long line; ".repeat(20);
            long deadline = System.currentTimeMillis() + 5000;
            while (Harness.engine().getConnection((String) a.get("cId")) == null
                    && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            Harness.engine().sendToAll("hello", text);
            while (true) { // up to the broadcast: a compressed text frame (RSV1), inflated
                int b0 = in.read();
                int b1 = in.read();
                assertTrue(b0 >= 0 && b1 >= 0, "connection ended before the broadcast");
                int len = b1 & 0x7f;
                if (len == 126) {
                    len = (in.read() << 8) | in.read();
                }
                byte[] body = in.readNBytes(len);
                if ((b0 & 0x40) == 0) {
                    continue; // a frame too short to compress (the open frame)
                }
                assertEquals(0xC1, b0, "FIN, RSV1 and text");
                Inflater inf = new Inflater(true);
                byte[] all = Arrays.copyOf(body, len + 4);
                all[len + 2] = (byte) 0xff; // the tail RFC 7692 strips: 00 00 ff ff
                all[len + 3] = (byte) 0xff;
                inf.setInput(all);
                byte[] plain = new byte[8192];
                int n = inf.inflate(plain);
                inf.end();
                Map<String, Object> m = MiniJson.object(new String(plain, 0, n, StandardCharsets.UTF_8));
                if (!"msg".equals(m.get("t"))) {
                    continue;
                }
                assertEquals("hello", m.get("ch"));
                assertEquals(text, m.get("data"));
                assertTrue(len < text.length() / 4, "compressed to " + len + " bytes");
                break;
            }
        }
        Map<String, Long> after = Harness.engine().getStats();
        assertTrue(after.get("deflated") > before.get("deflated"), after.toString());
        long plainBytes = after.get("deflatePlainBytes") - before.get("deflatePlainBytes");
        long packed = after.get("deflateCompressedBytes") - before.get("deflateCompressedBytes");
        assertTrue(plainBytes > 700 && packed > 0 && packed < plainBytes / 4, plainBytes + " -> " + packed);
    }

    /** A WebSocket upgrade to the engine's port with the ticket (and the extra header lines). */
    private static void writeUpgrade(OutputStream out, Object ticket, String extra) throws java.io.IOException {
        out.write(("GET /ws?ticket=" + ticket + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1:" + Harness.engine().getPort() + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + extra
                + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String readHead(InputStream in) throws java.io.IOException {
        StringBuilder b = new StringBuilder();
        while (!b.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.append((char) c);
        }
        return b.toString();
    }
}
