package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.comet4j.core.exception.CometException;
import org.comet4j.core.util.JSONUtil;
import org.junit.jupiter.api.Test;

/**
 * What a send hands the core (SendBuffer): the bytes must be those the
 * send made before it had a buffer of its own, JSONUtil.object2json's
 * text in String.getBytes(UTF_8)'s bytes, then the channel's and who's,
 * whatever the text holds (every plane, surrogates without their other
 * half, escapes), and the buffer reused from send to send.
 */
class SendBufferTest {

    /** The packed bytes b holds: data, channel, who. */
    private static byte[] packed(SendBuffer b) {
        return Arrays.copyOf(b.bytes(), b.dataLen + b.channelLen + b.whoLen);
    }

    private static byte[] concat(String data, String channel, String who) {
        byte[] d = data.getBytes(StandardCharsets.UTF_8), c = channel.getBytes(StandardCharsets.UTF_8),
                w = who.getBytes(StandardCharsets.UTF_8);
        byte[] out = Arrays.copyOf(d, d.length + c.length + w.length);
        System.arraycopy(c, 0, out, d.length, c.length);
        System.arraycopy(w, 0, out, d.length + c.length, w.length);
        return out;
    }

    private static String randomText(Random r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            switch (r.nextInt(8)) {
                case 0: sb.append((char) r.nextInt(0x80)); break;            // ASCII, controls too
                case 1: sb.append((char) (0x80 + r.nextInt(0x780))); break;  // two bytes
                case 2: sb.append((char) (0x800 + r.nextInt(0xd000))); break; // three
                case 3: sb.appendCodePoint(0x10000 + r.nextInt(0x100000)); break; // four: a pair
                case 4: sb.append((char) (0xd800 + r.nextInt(0x800))); break; // a lone surrogate
                case 5: sb.append(r.nextBoolean() ? '\u2028' : '\u2029'); break;
                case 6: sb.append("\"\\/\u007f"); break;
                default: sb.append("plain text "); break;
            }
        }
        return sb.toString();
    }

    @Test
    void theBytesAreObject2jsonsInUtf8ThenTheChannelThenWho() {
        Random r = new Random(15);
        for (int i = 0; i < 2000; i++) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put(randomText(r, r.nextInt(5)), randomText(r, r.nextInt(40)));
            data.put("n", r.nextLong());
            data.put("i", r.nextInt());
            data.put("d", r.nextDouble());
            data.put("list", List.of(randomText(r, 3), (short) 7, (byte) -3, Double.NaN));
            Object value = i % 3 == 0 ? randomText(r, r.nextInt(300)) : data;
            String channel = "ch" + randomText(r, r.nextInt(4));
            String who = randomText(r, 1 + r.nextInt(30));
            SendBuffer b = SendBuffer.take();
            try {
                b.data(value, false, channel);
                b.who(who);
                assertArrayEquals(concat(JSONUtil.object2json(value), channel, who), packed(b), "case " + i);
                // Another who replaces the first; data and channel stay.
                b.who("x" + who);
                assertArrayEquals(concat(JSONUtil.object2json(value), channel, "x" + who), packed(b));
            } finally {
                b.release();
            }
        }
    }

    @Test
    void binaryDataIsCopiedAsItIs() {
        byte[] data = new byte[70000]; // larger than what a thread keeps: dropped after
        new Random(1).nextBytes(data);
        SendBuffer b = SendBuffer.take();
        byte[] packed;
        try {
            b.data(data, true, "news");
            b.who("alice");
            assertEquals(data.length, b.dataLen);
            packed = packed(b);
        } finally {
            b.release();
        }
        assertArrayEquals(data, Arrays.copyOf(packed, data.length));
        assertEquals("newsalice", new String(packed, data.length, 9, StandardCharsets.US_ASCII));
        SendBuffer again = SendBuffer.take();
        try {
            assertSame(b, again, "one buffer a thread");
            assertEquals(512, again.bytes().length, "the large array was not kept");
        } finally {
            again.release();
        }
    }

    @Test
    void aSendFromInsideASerializationGetsItsOwnBuffer() {
        SendBuffer outer = SendBuffer.take();
        try {
            SendBuffer inner = SendBuffer.take();
            assertNotSame(outer, inner);
            inner.release();
        } finally {
            outer.release();
        }
    }

    @Test
    void cyclesAndDepthStillThrowAndTheBufferIsReusedAfter() {
        List<Object> self = new ArrayList<>();
        self.add(self);
        SendBuffer b = SendBuffer.take();
        try {
            assertThrows(CometException.class, () -> b.data(self, false, "news"));
        } finally {
            b.release();
        }
        Object deep = "x";
        for (int i = 0; i <= JSONUtil.MAX_DEPTH; i++) {
            deep = List.of(deep);
        }
        Object tooDeep = deep;
        assertThrows(CometException.class, () -> JSONUtil.object2json(tooDeep));
        // The same list twice side by side is no cycle.
        List<Object> shared = List.of(1, 2);
        assertEquals("[[1,2],[1,2]]", JSONUtil.object2json(List.of(shared, shared)));
        SendBuffer c = SendBuffer.take();
        try {
            c.data(Map.of("a", 1), false, "news");
            assertEquals("{\"a\":1}news", new String(packed(c), StandardCharsets.UTF_8));
        } finally {
            c.release();
        }
    }
}
