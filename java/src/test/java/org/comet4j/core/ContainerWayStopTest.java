package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A WebSocket through the bridge with a fake page side, both ways (the
 * page's masked ping, the core's pong), and the engine's stop: the page
 * gets the core's 1001 close frame, then its end, and the bridge thread
 * ends.  Its own engine, since it stops it.
 */
class ContainerWayStopTest {

    @AfterEach
    void stop() {
        Harness.stop();
    }

    /** A page side with bytes to read (a queue) and what it was given. */
    static final class WsFakePage extends BridgePipe.Page {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final ArrayDeque<byte[]> toRead = new ArrayDeque<>();
        final CountDownLatch ended = new CountDownLatch(1);

        @Override
        void head(BridgePipe.Answer a) {
        }

        @Override
        boolean ready() {
            return true;
        }

        @Override
        synchronized void write(byte[] b, int off, int len) {
            got.write(b, off, len);
        }

        @Override
        void flush() {
        }

        @Override
        synchronized int read(byte[] b, int off, int len) {
            byte[] next = toRead.poll();
            if (next == null) {
                return 0;
            }
            System.arraycopy(next, 0, b, off, next.length); // small frames
            return next.length;
        }

        @Override
        void end() {
            ended.countDown();
        }

        @Override
        void fail(int status, String why) {
            ended.countDown();
        }

        /** The container's onDataAvailable, with bytes. */
        void send(byte[] frame) {
            synchronized (this) {
                toRead.add(frame);
            }
            signal(BridgePipe.EV_READABLE);
        }

        synchronized byte[] bytes() {
            return got.toByteArray();
        }

        String text() {
            return new String(bytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** A masked text frame (payload under 126 bytes). */
    static byte[] masked(String text) {
        byte[] p = text.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {0x11, 0x22, 0x33, 0x44};
        byte[] f = new byte[6 + p.length];
        f[0] = (byte) 0x81;
        f[1] = (byte) (0x80 | p.length);
        System.arraycopy(mask, 0, f, 2, 4);
        for (int i = 0; i < p.length; i++) {
            f[6 + i] = (byte) (p[i] ^ mask[i % 4]);
        }
        return f;
    }

    @Test
    void aWebSocketCrossesBothWaysAndTheEnginesStopClosesItWith1001() throws Exception {
        Harness.start(Map.of("Comet.Port", ""), "clock");
        Bridge b = Harness.engine().bridge();
        String ticket = (String) Harness.handshake().get("ticket");
        byte[] req = ("GET /ws?ticket=" + ticket + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\nX-Forwarded-For: 198.51.100.9\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        BridgePipe pipe = b.open(req, null, true);
        BridgePipe.Answer a = pipe.answer.get(5, TimeUnit.SECONDS);
        assertEquals(101, a.status);
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", a.header("Sec-WebSocket-Accept"));
        WsFakePage page = new WsFakePage();
        pipe.attach(page); // what the upgrade handler's init does
        ContainerWayTest.waitFor("the open frame", () -> page.text().contains("\"t\":\"open\""), 5000);
        page.send(masked("{\"t\":\"ping\"}"));
        ContainerWayTest.waitFor("the pong", () -> page.text().contains("\"t\":\"pong\""), 5000);
        assertEquals(1, b.pipeCount());

        Harness.stop();
        assertTrue(page.ended.await(5, TimeUnit.SECONDS), "the page ends");
        byte[] got = page.bytes();
        // The last frame is the core's close: 0x88, length, code 1001 (0x03E9).
        int i = lastClose(got);
        assertTrue(i >= 0, "a close frame reached the page");
        assertEquals(0x03, got[i + 2] & 0xff);
        assertEquals(0xE9, got[i + 3] & 0xff);
        assertEquals(0, b.pipeCount());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.getName().equals("comet4j-bridge") && t.isAlive(), "the bridge thread ended");
        }
    }

    private static int lastClose(byte[] b) {
        for (int i = b.length - 4; i >= 0; i--) {
            if ((b[i] & 0xff) == 0x88 && (b[i + 1] & 0x7f) >= 2 && i + 2 + (b[i + 1] & 0x7f) == b.length) {
                return i;
            }
        }
        return -1;
    }
}
