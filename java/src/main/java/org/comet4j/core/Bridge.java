package org.comet4j.core;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The container way (one port, docs/protocol.md section 10): for a page
 * whose socket the container keeps (TLS, HTTP/2, a connector or container
 * that cannot hand it over), a {@link BridgePipe} carries its bytes to the
 * core over loopback, to the core's internal listener (127.0.0.1, an
 * ephemeral port, never handed to pages), and the core's bytes back.  The
 * core does the protocol exactly as for its own port; Java only moves
 * bytes.
 *
 * <p>One thread, {@code comet4j-bridge}, owns a selector and every pipe's
 * state: the core's sockets, and every call into the container's
 * non-blocking streams (isReady, read, write, flush, complete).  The
 * container's callbacks (onWritePossible, onDataAvailable, onError, the
 * AsyncListener's) only set a pipe's event bits and queue it here
 * ({@link #schedule}), so no lock of ours is ever held while calling the
 * container or waited for in its callbacks.  Flow control: a pipe reads
 * the core only while the page can take more, and the page only while the
 * bytes for the core are under {@link #TO_CORE_MAX}; what a pipe holds is
 * at most one read each way, and nothing while idle.  A page that takes
 * nothing makes the core's queue grow until the core cuts it (4001), as on
 * its own port; one that has taken nothing for longer than the core's idle
 * timeout plus a heartbeat is closed here.  Started and stopped with the
 * engine; the engine's stop closes every core connection (1001 to the
 * pages first), and then every pipe ends.
 */
final class Bridge {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    /** One read from the core or from a page: the most a pipe holds for the page. */
    static final int CHUNK = 16 * 1024;
    /** Bytes for the core a pipe holds before it stops reading its page. */
    static final int TO_CORE_MAX = 64 * 1024;
    /**
     * SO_RCVBUF of the sockets to the core: small, so that a page that does
     * not read makes the core's own queue grow (and its slow-consumer cut
     * come) rather than the loopback buffers.
     */
    static final int RCVBUF = 64 * 1024;

    final InetSocketAddress core;
    final Selector selector;
    /** The core's idle timeout plus a heartbeat: a page stalled longer is closed. */
    final long stallMs;
    /** One read buffer and one page buffer, the thread's own. */
    final ByteBuffer readBuf = ByteBuffer.allocate(CHUNK);
    final byte[] pageBuf = new byte[CHUNK];

    private final ConcurrentLinkedQueue<BridgePipe> queue = new ConcurrentLinkedQueue<>();
    /** Every pipe not closed: the thread's own. */
    private final Set<BridgePipe> pipes = new HashSet<>();
    private final Thread thread;
    private final ObjectName mbean;
    private volatile boolean running = true;
    private volatile long stopBy;

    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong opened = new AtomicLong();
    private final AtomicLong buffered = new AtomicLong();

    private Bridge(int port, long stallMs) throws IOException {
        this.core = new InetSocketAddress("127.0.0.1", port);
        this.stallMs = stallMs;
        this.selector = Selector.open();
        this.thread = new Thread(this::loop, "comet4j-bridge");
        thread.setDaemon(true);
        ObjectName n = null;
        try {
            n = new ObjectName("org.comet4j:type=Bridge,port=" + port);
            ManagementFactory.getPlatformMBeanServer().registerMBean(new Stats(), n);
        } catch (Exception | LinkageError e) {
            LOG.log(Level.FINE, "comet4j: no JMX for the bridge", e);
            n = null;
        }
        this.mbean = n;
    }

    /** Starts the bridge to the core's internal port. */
    static Bridge start(int port, long stallMs) {
        try {
            Bridge b = new Bridge(port, stallMs);
            b.thread.start();
            return b;
        } catch (IOException e) {
            throw new IllegalStateException("comet4j: cannot start the bridge: " + e, e);
        }
    }

    /**
     * A new pipe that sends bytes (the request as the core reads it) to the
     * core; page null when the page side comes later ({@link BridgePipe#attach},
     * a WebSocket once upgraded).  Null once stopping.
     */
    BridgePipe open(byte[] bytes, BridgePipe.Page page, boolean websocket) {
        if (!running) {
            return null;
        }
        BridgePipe p = new BridgePipe(this, bytes, websocket);
        int ev = BridgePipe.EV_REGISTER;
        if (page != null) {
            page.pipe = p;
            p.page = page;
            ev |= BridgePipe.EV_PAGE;
        }
        opened.incrementAndGet();
        open.incrementAndGet();
        p.signal(ev);
        return p;
    }

    /** Queues p for the thread (its event bits are set); any thread. */
    void schedule(BridgePipe p) {
        queue.add(p);
        selector.wakeup();
    }

    /** The thread's bookkeeping of a pipe. */
    void added(BridgePipe p) {
        pipes.add(p);
    }

    void removed(BridgePipe p) {
        if (pipes.remove(p)) {
            open.decrementAndGet();
        }
    }

    /** Bytes held by pipes changed by delta (the thread's count, read by JMX). */
    void held(long delta) {
        buffered.addAndGet(delta);
    }

    /** Pipes not closed. */
    int pipeCount() {
        return open.get();
    }

    /** Bytes the pipes hold now, both ways. */
    long bufferedBytes() {
        return buffered.get();
    }

    /** Pipes opened since the start. */
    long openedCount() {
        return opened.get();
    }

    /**
     * Refuses new pipes, lets those left end (the engine has stopped: the
     * core closed them) for up to graceMs, closes the rest and ends the
     * thread.  Idempotent.
     */
    void stop(long graceMs) {
        if (running) {
            stopBy = System.currentTimeMillis() + graceMs;
            running = false;
            selector.wakeup();
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(graceMs + 2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (mbean != null) {
            try {
                MBeanServer s = ManagementFactory.getPlatformMBeanServer();
                if (s.isRegistered(mbean)) {
                    s.unregisterMBean(mbean);
                }
            } catch (Exception e) {
                // gone already
            }
        }
    }

    private void loop() {
        long lastCheck = System.currentTimeMillis();
        try {
            while (true) {
                selector.select(1000);
                BridgePipe p;
                while ((p = queue.poll()) != null) {
                    p.run();
                }
                Set<SelectionKey> keys = selector.selectedKeys();
                for (SelectionKey k : keys) {
                    ((BridgePipe) k.attachment()).selected(k);
                }
                keys.clear();
                long now = System.currentTimeMillis();
                if (now - lastCheck >= 1000) {
                    lastCheck = now;
                    for (BridgePipe x : new ArrayList<>(pipes)) {
                        x.check(now);
                    }
                }
                if (!running && (pipes.isEmpty() || now >= stopBy)) {
                    break;
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "comet4j: the bridge thread failed; its pages are closed", e);
        } finally {
            running = false;
            for (BridgePipe x : new ArrayList<>(pipes)) {
                x.close("the bridge stopped");
            }
            BridgePipe p;
            while ((p = queue.poll()) != null) {
                p.close("the bridge stopped");
            }
            try {
                selector.close();
            } catch (IOException e) {
                // nothing left to do
            }
        }
    }

    /** What JMX shows of the bridge: org.comet4j:type=Bridge,port=&lt;internal port&gt;. */
    public interface StatsMXBean {
        /** Pipes open now (pages whose container keeps the socket). */
        int getPipes();

        /** Pipes opened since the start. */
        long getOpened();

        /** Bytes the pipes hold now, both ways. */
        long getBuffered();
    }

    private final class Stats implements StatsMXBean {
        @Override
        public int getPipes() {
            return open.get();
        }

        @Override
        public long getOpened() {
            return opened.get();
        }

        @Override
        public long getBuffered() {
            return buffered.get();
        }
    }
}
