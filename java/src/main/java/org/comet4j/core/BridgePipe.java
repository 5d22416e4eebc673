package org.comet4j.core;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.servlet.ServletOutputStream;

/**
 * One page's bytes between the container's streams and the core ({@link
 * Bridge}): a loopback socket to the core's internal port, the request as
 * the core reads it sent first, then both ways until either side ends.
 *
 * <p>Phases: CONNECTING → HEAD (the core's answer head is read) → for a
 * WebSocket, WAIT_PAGE (101: the servlet upgrades, then {@link #attach})
 * or BODY (a refusal: its body is read, {@link #answer} completes and the
 * pipe closes); for SSE, long-poll and commands, the head goes onto the
 * response → STREAM → CLOSED.
 *
 * <p>Every field but the event bits, {@link #page} (published by attach)
 * and {@link #answer} is the bridge thread's alone.  Invariants: {@code
 * down} holds bytes only while the core is not read; {@code toCore} is
 * null when empty; the core is read only while the page is ready.
 */
final class BridgePipe {

    static final int EV_REGISTER = 1;
    static final int EV_PAGE = 2;
    static final int EV_WRITABLE = 4;
    static final int EV_READABLE = 8;
    static final int EV_PAGE_EOF = 16;
    static final int EV_CLOSE = 32;

    private static final int CONNECTING = 0;
    private static final int HEAD = 1;
    private static final int BODY = 2;
    private static final int WAIT_PAGE = 3;
    private static final int STREAM = 4;
    private static final int CLOSED = 5;

    /** The core's heads are under 1 KiB; a refusal's body is a short reason. */
    static final int MAX_HEAD = 8192;
    static final int MAX_BODY = 8192;
    /** A WebSocket whose upgrade never completes is closed after this. */
    static final long WAIT_PAGE_MS = 30000;

    /**
     * The page side: the container's streams, called by the bridge thread
     * only.  Its callbacks (on container threads) only signal the pipe.
     */
    abstract static class Page {
        /** The pipe, set before the page's listeners are. */
        volatile BridgePipe pipe;
        /** The container ended the page (an error, complete): no call into it any more. */
        volatile boolean gone;
        /** The container's non-blocking output, set (with its WriteListener) before the pipe writes. */
        ServletOutputStream out;

        /** Puts the core's answer head on the response (HTTP); nothing for a WebSocket. */
        abstract void head(Answer a);

        /** Whether the page takes bytes now (isReady); false registers for onWritePossible. */
        boolean ready() {
            return !gone && out.isReady();
        }

        /** Writes (and flushes) bytes; only after ready() was true. */
        void write(byte[] b, int off, int len) throws IOException {
            if (gone) {
                throw new IOException("the page is gone");
            }
            out.write(b, off, len);
            if (out.isReady()) {
                out.flush();
            }
        }

        /** Flushes what is written (commits an SSE head); only when ready. */
        void flush() throws IOException {
            if (!gone) {
                out.flush();
            }
        }

        /** Reads from the page: bytes read, 0 when none now (onDataAvailable follows), -1 at its end. */
        int read(byte[] b, int off, int len) throws IOException {
            return -1;
        }

        /** The pipe ended: complete the response, close the connection. */
        abstract void end();

        /** The pipe failed before the core answered: a status of our own, then end. */
        abstract void fail(int status, String why);

        /** Signals the pipe, if any (container threads). */
        final void signal(int ev) {
            BridgePipe p = pipe;
            if (p != null) {
                p.signal(ev);
            }
        }
    }

    /** The core's answer head (and, for a refused WebSocket, its body). */
    static final class Answer {
        final int status;
        final List<String[]> headers;
        final long contentLength;
        byte[] body = new byte[0];

        Answer(int status, List<String[]> headers) {
            this.status = status;
            this.headers = headers;
            String cl = header("Content-Length");
            long n = -1;
            try {
                n = cl == null ? -1 : Long.parseLong(cl.trim());
            } catch (NumberFormatException e) {
                n = -1;
            }
            this.contentLength = n;
        }

        /** The first value of a header, or null. */
        String header(String name) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    return h[1];
                }
            }
            return null;
        }

        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** Parses "HTTP/1.1 NNN reason\r\nName: value\r\n..." (b[0, len), without the blank line); null if malformed. */
        static Answer parse(byte[] b, int len) {
            String text = new String(b, 0, len, StandardCharsets.ISO_8859_1);
            String[] lines = text.split("\r\n");
            if (lines.length == 0 || !lines[0].startsWith("HTTP/1.") || lines[0].length() < 12) {
                return null;
            }
            int status;
            try {
                status = Integer.parseInt(lines[0].substring(9, 12));
            } catch (NumberFormatException e) {
                return null;
            }
            List<String[]> hs = new ArrayList<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    hs.add(new String[] {lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim()});
                }
            }
            return new Answer(status, hs);
        }
    }

    final Bridge bridge;
    final boolean websocket;
    /** The core's answer to a WebSocket's request: 101, or a refusal with its body. */
    final CompletableFuture<Answer> answer = new CompletableFuture<>();
    volatile Page page;

    private final AtomicInteger events = new AtomicInteger();
    private final AtomicBoolean queued = new AtomicBoolean();
    private final long created = System.currentTimeMillis();

    private int phase = CONNECTING;
    private SocketChannel ch;
    private SelectionKey key;
    private ByteBuffer toCore;
    private byte[] head = new byte[0];
    private int headLen;
    private Answer refusal;
    private byte[] down;
    private int downOff;
    private int downLen;
    private boolean attached;
    private boolean pageReady;
    private boolean pageEof;
    private boolean pageReadPaused;
    /**
     * The page's stream is the container's to read until its next
     * onDataAvailable: set once setReadListener is called (the container
     * makes the first call) and whenever a read found nothing (isReady
     * false registered for the next).  While armed nothing here reads:
     * the container's own check (isReadyForRead, which fills its buffer)
     * may be running on one of its threads, and two readers of one
     * connection (its TLS engine) corrupt what both get.
     */
    private boolean pageReadArmed = true;
    /** An onDataAvailable that came before the attach. */
    private boolean readableEarly;
    private boolean outputShut;
    private boolean coreEof;
    private boolean readingCore;
    private boolean ended;
    private boolean needFlush;
    private int failStatus;
    private long stalledSince;

    BridgePipe(Bridge bridge, byte[] bytes, boolean websocket) {
        this.bridge = bridge;
        this.websocket = websocket;
        this.toCore = ByteBuffer.wrap(bytes);
        bridge.held(bytes.length);
    }

    /** The page side of a WebSocket, once upgraded (its listeners set); any thread. */
    void attach(Page p) {
        p.pipe = this;
        page = p;
        signal(EV_PAGE);
    }

    /** Sets event bits and queues the pipe for the bridge thread; any thread. */
    void signal(int ev) {
        events.getAndAccumulate(ev, (a, b) -> a | b);
        if (queued.compareAndSet(false, true)) {
            bridge.schedule(this);
        }
    }

    // ---- the bridge thread ---------------------------------------------------------

    /** Runs the events signalled since the last run. */
    void run() {
        queued.set(false);
        int ev = events.getAndSet(0);
        if (phase == CLOSED) {
            endPage();
            return;
        }
        try {
            if ((ev & EV_CLOSE) != 0) {
                close("closed by the container");
                return;
            }
            if ((ev & EV_REGISTER) != 0) {
                register();
            }
            if ((ev & EV_PAGE) != 0 && !attached && page != null) {
                attached = true;
                if (phase == WAIT_PAGE) {
                    phase = STREAM;
                }
                // The listeners are set: what isReady says now is what
                // counts for writing; reading waits for onDataAvailable.
                ev |= EV_WRITABLE | (readableEarly ? EV_READABLE : 0);
            }
            if (!attached) {
                readableEarly |= (ev & EV_READABLE) != 0;
                return;
            }
            if ((ev & EV_WRITABLE) != 0 && phase != CLOSED) {
                pageWritable();
            }
            if ((ev & EV_READABLE) != 0 && phase != CLOSED) {
                pageReadArmed = false; // the container's onDataAvailable: ours to read
                pageReadable();
            }
            if ((ev & EV_PAGE_EOF) != 0 && phase != CLOSED) {
                pageEnded();
            }
        } catch (IOException | RuntimeException e) {
            close(e.toString());
        }
    }

    /** The core's socket is ready for what its key asked. */
    void selected(SelectionKey k) {
        try {
            if (k.isValid() && k.isConnectable()) {
                ch.finishConnect();
                connected();
            }
            if (k.isValid() && k.isWritable()) {
                writeCore();
            }
            if (k.isValid() && k.isReadable()) {
                readCore();
            }
        } catch (IOException | RuntimeException e) {
            close(e.toString());
        }
    }

    /** Once a second: a page stalled too long, an upgrade that never came. */
    void check(long now) {
        if (phase == CLOSED) {
            return;
        }
        if (stalledSince > 0 && now - stalledSince > bridge.stallMs) {
            close("the page took nothing for " + (now - stalledSince) + " ms");
        } else if (phase == WAIT_PAGE && !attached && now - created > WAIT_PAGE_MS) {
            close("the WebSocket upgrade did not complete");
        }
    }

    private void register() throws IOException {
        bridge.added(this);
        ch = SocketChannel.open();
        ch.configureBlocking(false);
        ch.setOption(StandardSocketOptions.SO_RCVBUF, Bridge.RCVBUF);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        boolean done = ch.connect(bridge.core);
        key = ch.register(bridge.selector, done ? 0 : SelectionKey.OP_CONNECT, this);
        if (done) {
            connected();
        }
    }

    private void connected() throws IOException {
        phase = HEAD;
        key.interestOps(0);
        resumeCore();
        writeCore();
    }

    private void interest(int op, boolean on) {
        if (key != null && key.isValid()) {
            int ops = key.interestOps();
            int n = on ? ops | op : ops & ~op;
            if (n != ops) {
                key.interestOps(n);
            }
        }
    }

    private void writeCore() throws IOException {
        if (toCore != null) {
            int before = toCore.remaining();
            ch.write(toCore);
            bridge.held(toCore.remaining() - before);
            if (!toCore.hasRemaining()) {
                toCore = null;
            }
        }
        if (toCore != null) {
            interest(SelectionKey.OP_WRITE, true);
            return;
        }
        interest(SelectionKey.OP_WRITE, false);
        if (pageEof) {
            shutCore();
        } else if (pageReadPaused) {
            pageReadPaused = false;
            pageReadable();
        }
    }

    private void shutCore() throws IOException {
        if (!outputShut && phase != CONNECTING) {
            outputShut = true;
            ch.shutdownOutput();
        }
    }

    private void pauseCore() {
        if (readingCore) {
            readingCore = false;
            interest(SelectionKey.OP_READ, false);
        }
        if (stalledSince == 0) {
            stalledSince = System.currentTimeMillis();
        }
    }

    private void resumeCore() {
        stalledSince = 0;
        if (!readingCore && !coreEof) {
            readingCore = true;
            interest(SelectionKey.OP_READ, true);
        }
    }

    private void readCore() throws IOException {
        ByteBuffer b = bridge.readBuf;
        b.clear();
        int n = ch.read(b);
        if (n < 0) {
            coreEof = true;
            readingCore = false;
            interest(SelectionKey.OP_READ, false);
            coreEnded();
            return;
        }
        if (n == 0) {
            return;
        }
        byte[] a = b.array();
        if (phase == HEAD) {
            headBytes(a, n);
        } else if (phase == BODY) {
            bodyBytes(a, 0, n);
        } else {
            toPage(a, 0, n);
        }
    }

    /** Bytes of the core's answer head, and whatever follows it. */
    private void headBytes(byte[] a, int n) throws IOException {
        int keep = Math.min(n, MAX_HEAD - headLen);
        if (head.length < headLen + keep) {
            head = java.util.Arrays.copyOf(head, Math.min(MAX_HEAD, Math.max(512, (headLen + keep) * 2)));
        }
        System.arraycopy(a, 0, head, headLen, keep);
        int from = Math.max(0, headLen - 3);
        headLen += keep;
        int end = -1;
        for (int i = from; i + 3 < headLen; i++) {
            if (head[i] == '\r' && head[i + 1] == '\n' && head[i + 2] == '\r' && head[i + 3] == '\n') {
                end = i;
                break;
            }
        }
        if (end < 0) {
            if (headLen >= MAX_HEAD) {
                fail(502, "the core's answer head is too long");
            }
            return;
        }
        Answer ans = Answer.parse(head, end);
        if (ans == null) {
            fail(502, "the core's answer is not HTTP");
            return;
        }
        // What followed the head in head[end + 4, headLen), then in a[keep, n).
        int restInHead = headLen - (end + 4);
        byte[] rest = new byte[restInHead + (n - keep)];
        System.arraycopy(head, end + 4, rest, 0, restInHead);
        System.arraycopy(a, keep, rest, restInHead, n - keep);
        head = null;
        if (websocket && ans.status != 101) {
            phase = BODY;
            refusal = ans;
            bodyBytes(rest, 0, rest.length);
            return;
        }
        if (websocket) {
            phase = attached ? STREAM : WAIT_PAGE;
            answer.complete(ans);
            if (!attached) {
                keepDown(rest, 0, rest.length);
                pauseCore();
                return;
            }
        } else {
            phase = STREAM;
            Page p = page;
            if (p == null || p.gone) {
                close("the page is gone");
                return;
            }
            p.head(ans);
            // A stream (SSE): its head goes out now, before any event.
            needFlush = ans.contentLength < 0;
            flushHead(p);
        }
        toPage(rest, 0, rest.length);
    }

    private void flushHead(Page p) throws IOException {
        if (needFlush && pageReady) {
            needFlush = false;
            p.flush();
            pageReady = p.ready();
        }
    }

    /** A refused WebSocket's body: kept (up to MAX_BODY) until its length or the core's end. */
    private void bodyBytes(byte[] a, int off, int n) {
        Answer r = refusal;
        int room = MAX_BODY - r.body.length;
        int take = Math.min(room, n);
        if (take > 0) {
            byte[] nb = java.util.Arrays.copyOf(r.body, r.body.length + take);
            System.arraycopy(a, off, nb, r.body.length, take);
            r.body = nb;
        }
        if ((r.contentLength >= 0 && r.body.length >= r.contentLength) || r.body.length >= MAX_BODY) {
            answer.complete(r);
            close("refused by the core: " + r.status);
        }
    }

    /** Bytes from the core for the page: written now if it can take them, else kept (and the core no longer read). */
    private void toPage(byte[] a, int off, int n) throws IOException {
        if (n == 0) {
            return;
        }
        Page p = page;
        if (phase == STREAM && attached && down == null && pageReady && p != null && !p.gone) {
            p.write(a, off, n);
            pageReady = p.ready();
            if (!pageReady) {
                pauseCore();
            }
            return;
        }
        keepDown(a, off, n);
        pauseCore();
    }

    private void keepDown(byte[] a, int off, int n) {
        if (n == 0) {
            return;
        }
        // The core is not read while down holds bytes: at most one read plus a head's rest.
        byte[] d = new byte[downLen + n];
        if (down != null) {
            System.arraycopy(down, downOff, d, 0, downLen);
        }
        System.arraycopy(a, off, d, downLen, n);
        down = d;
        downOff = 0;
        downLen = d.length;
        bridge.held(n);
    }

    /** The page can take bytes (or the listeners were just set). */
    private void pageWritable() throws IOException {
        Page p = page;
        if (p == null || p.gone) {
            close("the page is gone");
            return;
        }
        pageReady = p.ready();
        if (!pageReady) {
            return;
        }
        if (phase != STREAM) {
            return; // CONNECTING, HEAD: nothing for the page yet
        }
        flushHead(p);
        if (down != null && pageReady) {
            byte[] d = down;
            int off = downOff;
            int len = downLen;
            down = null;
            downLen = 0;
            bridge.held(-len);
            p.write(d, off, len);
            pageReady = p.ready();
        }
        if (!pageReady) {
            return;
        }
        if (coreEof) {
            close(null);
            return;
        }
        resumeCore();
    }

    /** The page has bytes for the core (a WebSocket's frames). */
    private void pageReadable() throws IOException {
        Page p = page;
        if (!websocket || p == null || p.gone || pageEof || phase != STREAM || pageReadArmed) {
            return;
        }
        byte[] buf = bridge.pageBuf;
        while (true) {
            int room = toCore == null ? buf.length : Math.min(buf.length, toCore.capacity() - toCore.remaining());
            if (room <= 0) {
                pageReadPaused = true; // the core takes them slower: writeCore reads on
                break;
            }
            int n = p.read(buf, 0, room);
            if (n == 0) {
                pageReadArmed = true; // onDataAvailable follows
                break;
            }
            if (n < 0) {
                pageEnded();
                return;
            }
            if (toCore == null) {
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                ch.write(bb);
                if (!bb.hasRemaining()) {
                    continue;
                }
                toCore = ByteBuffer.allocate(Bridge.TO_CORE_MAX);
                toCore.put(bb).flip();
                bridge.held(toCore.remaining());
            } else {
                toCore.compact();
                toCore.put(buf, 0, n).flip();
                bridge.held(n);
            }
        }
        if (toCore != null) {
            interest(SelectionKey.OP_WRITE, true);
        }
    }

    /** The page ended its side (a WebSocket's TCP end): the core gets its end after what is queued. */
    private void pageEnded() throws IOException {
        pageEof = true;
        if (toCore == null) {
            shutCore();
        }
    }

    /** The core closed its side. */
    private void coreEnded() {
        if (phase == HEAD) {
            fail(502, "the core closed the connection without an answer");
        } else if (phase == BODY) {
            answer.complete(refusal);
            close(null);
        } else if (phase == STREAM && attached && down == null && pageReady) {
            close(null);
        } else if (stalledSince == 0) {
            // The page takes what is kept first (pageWritable ends it), or
            // (WAIT_PAGE) the upgrade completes first: the watchdog's.
            stalledSince = System.currentTimeMillis();
        }
    }

    /** Closes with an answer of our own to an HTTP page that has none yet. */
    private void fail(int status, String why) {
        failStatus = status;
        close(why);
    }

    /**
     * Closes both sides; idempotent.  why null: a normal end; else an HTTP
     * page the core has not answered yet gets 503 (the core unreachable)
     * or 502 (its answer unreadable) with why.
     */
    void close(String why) {
        int was = phase;
        if (phase != CLOSED) {
            phase = CLOSED;
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException e) {
                    // closed
                }
            }
            if (!answer.isDone()) {
                answer.completeExceptionally(new IOException(why == null ? "closed" : why));
            }
            long held = (toCore == null ? 0 : toCore.remaining()) + downLen;
            toCore = null;
            down = null;
            downLen = 0;
            bridge.held(-held);
            bridge.removed(this);
        }
        Page p = page;
        if (why != null && !websocket && was <= HEAD && was != CLOSED && p != null && !p.gone && !ended) {
            ended = true;
            p.fail(failStatus != 0 ? failStatus : was == CONNECTING ? 503 : 502, why);
        }
        endPage();
    }

    private void endPage() {
        Page p = page;
        if (p != null && !ended) {
            ended = true;
            if (!p.gone) {
                p.end();
            }
        }
    }

    @Override
    public String toString() {
        return "BridgePipe[" + (websocket ? "ws" : "http") + ", phase " + phase + "]";
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
