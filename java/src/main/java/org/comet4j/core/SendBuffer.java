package org.comet4j.core;

import java.util.concurrent.atomic.AtomicReferenceArray;

import org.comet4j.core.util.JSONUtil;

/**
 * The bytes one send hands the core, packed into one array that each
 * sending thread reuses: the data (its JSON in UTF-8, or the bytes of a
 * binary message), then the channel, then who it goes to (a connection id
 * or a user; nothing for a broadcast), as {@link Native#send} reads them.
 * No array, String or builder is made per send: the JSON is written into
 * this thread's builder and encoded from it, the names are encoded in
 * place.  The core copies what it keeps before the native call returns,
 * so the array is free again once it has.  The buffers wait between sends
 * in a small pool of slots, one chosen by the sending thread's id (so a
 * thread finds its own again), about 2 KB each (more while one sends a
 * larger message, given back after it when over {@link #KEEP} bytes).  No
 * ThreadLocal: a container's threads outlive the application, and a value
 * of this class left on them would pin its class loader after an undeploy
 * (Tomcat's leak check reports it); the pool goes with the class.
 */
final class SendBuffer {

    /** Arrays and builders larger than this after a send are dropped, not kept for the next. */
    static final int KEEP = 16 * 1024;

    /** The pool's slots (a power of two); an empty slot is null. */
    private static final int SLOTS = 64;
    private static final AtomicReferenceArray<SendBuffer> POOL = new AtomicReferenceArray<>(SLOTS);

    private byte[] bytes = new byte[512];
    private int len;
    private StringBuilder json = new StringBuilder(256);
    private char[] chars = new char[256];
    private int slot;

    /** The data's byte count, the channel's, and who's (as {@link #who} left them). */
    int dataLen, channelLen, whoLen;

    private SendBuffer() {}

    /**
     * This thread's buffer from the pool, emptied; a new one while its slot
     * is empty (the buffer in use by a send made from inside the
     * serialization of another, by a getter, or by another thread of the
     * same slot).  Give it back with {@link #release()}.
     */
    static SendBuffer take() {
        int slot = (int) ((Thread.currentThread().getId() * 0x9E3779B97F4A7C15L) >>> 58) & (SLOTS - 1);
        SendBuffer b = POOL.getAndSet(slot, null);
        if (b == null) {
            b = new SendBuffer();
            b.slot = slot;
        }
        b.len = 0;
        b.dataLen = b.channelLen = b.whoLen = 0;
        return b;
    }

    void release() {
        if (bytes.length > KEEP) {
            bytes = new byte[512];
        }
        if (json.capacity() > KEEP) {
            json = new StringBuilder(256);
        }
        if (chars.length > KEEP) {
            chars = new char[256];
        }
        POOL.compareAndSet(slot, null, this); // else the slot has another: this one is dropped
    }

    /** The packed bytes: data, channel, who. */
    byte[] bytes() {
        return bytes;
    }

    /**
     * Starts the buffer with data: the bytes of a byte[] as they are, else
     * JSONUtil's JSON of it; then the channel's UTF-8.
     */
    void data(Object data, boolean binary, String channel) {
        if (binary) {
            byte[] b = (byte[]) data;
            room(b.length);
            System.arraycopy(b, 0, bytes, len, b.length);
            len += b.length;
        } else {
            StringBuilder sb = json;
            sb.setLength(0);
            JSONUtil.append(sb, data);
            int n = sb.length();
            if (chars.length < n) {
                chars = new char[Math.max(n, chars.length * 2)];
            }
            sb.getChars(0, n, chars, 0);
            utf8(chars, n);
        }
        dataLen = len;
        channelLen = put(channel);
    }

    /** Puts who (an id or a user) after the channel, in place of the one before. */
    void who(String who) {
        len = dataLen + channelLen;
        whoLen = put(who);
    }

    /** Appends s in UTF-8; returns its byte count. */
    private int put(String s) {
        int n = s.length(), at = len;
        if (chars.length < n) {
            chars = new char[Math.max(n, chars.length * 2)];
        }
        s.getChars(0, n, chars, 0);
        utf8(chars, n);
        return len - at;
    }

    /**
     * Appends c[0..n) in UTF-8 as String.getBytes(UTF_8) writes it: a
     * surrogate without its other half becomes '?'.
     */
    private void utf8(char[] c, int n) {
        room(n);
        byte[] b = bytes;
        int at = len, i = 0;
        for (; i < n && c[i] < 0x80; i++) { // the ASCII run, one byte each
            b[at++] = (byte) c[i];
        }
        if (i < n) {
            len = at;
            room(3 * (n - i));
            b = bytes;
            for (; i < n; i++) {
                char ch = c[i];
                if (ch < 0x80) {
                    b[at++] = (byte) ch;
                } else if (ch < 0x800) {
                    b[at++] = (byte) (0xc0 | ch >> 6);
                    b[at++] = (byte) (0x80 | ch & 0x3f);
                } else if (Character.isHighSurrogate(ch) && i + 1 < n && Character.isLowSurrogate(c[i + 1])) {
                    int cp = Character.toCodePoint(ch, c[++i]);
                    b[at++] = (byte) (0xf0 | cp >> 18);
                    b[at++] = (byte) (0x80 | cp >> 12 & 0x3f);
                    b[at++] = (byte) (0x80 | cp >> 6 & 0x3f);
                    b[at++] = (byte) (0x80 | cp & 0x3f);
                } else if (Character.isSurrogate(ch)) {
                    b[at++] = '?';
                } else {
                    b[at++] = (byte) (0xe0 | ch >> 12);
                    b[at++] = (byte) (0x80 | ch >> 6 & 0x3f);
                    b[at++] = (byte) (0x80 | ch & 0x3f);
                }
            }
        }
        len = at;
    }

    /** Makes room for n more bytes. */
    private void room(int n) {
        if (bytes.length - len < n) {
            long want = Math.max((long) len + n, 2L * bytes.length);
            if (want > Integer.MAX_VALUE - 8) {
                want = (long) len + n;
                if (want > Integer.MAX_VALUE - 8) {
                    throw new OutOfMemoryError("comet4j: a message over 2 GB");
                }
            }
            bytes = java.util.Arrays.copyOf(bytes, (int) want);
        }
    }
}
