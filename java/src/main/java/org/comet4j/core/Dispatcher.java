package org.comet4j.core;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.comet4j.core.exception.NativeException;

/**
 * The "comet4j-dispatcher" thread: blocks in Native.poll with a direct
 * buffer, parses the event records (CONNECT, DROP, MESSAGE, LOG, DYING,
 * REVIVAL, API, ACTION, SUB, BINARY; the format is in c4j.h: u32 size, u8
 * type, three zero bytes, then fields; strings are a u16 length and UTF-8
 * bytes, a binary message a u32 length and its bytes; all little-endian)
 * and hands each one to the engine, which fires the
 * listeners on this thread; between polls (at most a second apart) it
 * offers the vetoed removals again.  It ends when the core reports that the engine
 * stopped and every event was read.  Nothing a listener throws ends it.
 */
final class Dispatcher implements Runnable {

    static final String THREAD_NAME = "comet4j-dispatcher";

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    private static final int EV_CONNECT = 1;
    private static final int EV_DROP = 2;
    private static final int EV_MESSAGE = 3;
    private static final int EV_LOG = 4;
    private static final int EV_DYING = 5;
    private static final int EV_REVIVAL = 6;
    private static final int EV_API = 7;
    private static final int EV_ACTION = 8;
    private static final int EV_SUB = 9;
    private static final int EV_BINARY = 10;

    private static final int POLL_TIMEOUT_MS = 1000;

    private final CometEngine engine;
    private final EngineHandle handle;
    private final ByteBuffer buf;
    private final Thread thread;

    Dispatcher(CometEngine engine, EngineHandle handle, int bufferSize) {
        this.engine = engine;
        this.handle = handle;
        this.buf = ByteBuffer.allocateDirect(bufferSize).order(ByteOrder.LITTLE_ENDIAN);
        this.thread = new Thread(this, THREAD_NAME);
        thread.setDaemon(true);
        // Do not pin the webapp's class loader through the creator's context loader.
        thread.setContextClassLoader(Dispatcher.class.getClassLoader());
    }

    void start() {
        thread.start();
    }

    /** Waits up to millis for the thread to end; true if it ended. */
    boolean join(long millis) throws InterruptedException {
        thread.join(millis);
        return !thread.isAlive();
    }

    boolean isCurrentThread() {
        return Thread.currentThread() == thread;
    }

    void interrupt() {
        thread.interrupt();
    }

    @Override
    public void run() {
        int errors = 0;
        while (true) {
            buf.clear();
            int n;
            try {
                n = handle.poll(buf, POLL_TIMEOUT_MS);
            } catch (Throwable t) {
                LOG.log(Level.SEVERE, "comet4j: poll failed; the dispatcher ends", t);
                return;
            }
            if (n == NativeException.ESTOPPED) {
                return;
            }
            if (n < 0) {
                LOG.warning("comet4j: " + Errors.exception("poll", n).getMessage());
                if (++errors > 100) {
                    LOG.severe("comet4j: poll keeps failing; the dispatcher ends");
                    return;
                }
                continue;
            }
            errors = 0;
            if (n > 0) {
                records(Math.min(n, buf.capacity()));
            }
            try {
                engine.onTick(); // vetoed removals offered again (Comet.ConnFrequency)
            } catch (Throwable t) {
                LOG.log(Level.SEVERE, "comet4j: a listener failed on a removal offered again", t);
            }
        }
    }

    private void records(int n) {
        buf.limit(n).position(0);
        while (buf.remaining() >= 8) {
            int start = buf.position();
            long size = buf.getInt() & 0xffffffffL;
            int type = buf.get() & 0xff;
            buf.position(start + 8);
            if (size < 8 || start + size > n) {
                LOG.severe("comet4j: malformed event record (size " + size + " at " + start + " of " + n
                        + "); rest of the batch skipped");
                return;
            }
            int end = (int) (start + size);
            buf.limit(end);
            try {
                record(type);
            } catch (BufferUnderflowException e) {
                LOG.severe("comet4j: truncated event record of type " + type);
            } catch (Throwable t) {
                LOG.log(Level.SEVERE, "comet4j: a listener failed on event type " + type, t);
            }
            buf.limit(n).position(end);
        }
    }

    private void record(int type) {
        switch (type) {
            case EV_CONNECT: {
                String cid = string();
                String user = string();
                String ip = string();
                String transport = string();
                int port = buf.getShort() & 0xffff;
                engine.onConnect(cid, user, ip, port, transport);
                break;
            }
            case EV_DROP: {
                String cid = string();
                int code = buf.getShort() & 0xffff;
                String reason = string();
                engine.onDrop(cid, code, reason);
                break;
            }
            case EV_MESSAGE: {
                String cid = string();
                String text = string();
                engine.onClientMessage(cid, text);
                break;
            }
            case EV_LOG: {
                int level = buf.get() & 0xff;
                String text = string();
                engine.onLog(level, text);
                break;
            }
            case EV_DYING: {
                String cid = string();
                int code = buf.getShort() & 0xffff;
                String reason = string();
                engine.onDying(cid, code, reason);
                break;
            }
            case EV_REVIVAL: {
                String cid = string();
                String user = string();
                String ip = string();
                String transport = string();
                int port = buf.getShort() & 0xffff;
                engine.onRevival(cid, user, ip, port, transport);
                break;
            }
            case EV_API: {
                long id = buf.getInt() & 0xffffffffL;
                String method = string();
                String path = string();
                String query = string();
                String body = string();
                engine.onApi(id, method, path, query, body);
                break;
            }
            case EV_ACTION: {
                String json = string();
                engine.onAction(json);
                break;
            }
            case EV_SUB: {
                String cid = string();
                String channel = string();
                boolean subscribed = buf.get() != 0;
                int code = buf.getShort() & 0xffff;
                engine.onSubscribed(cid, channel, subscribed, code);
                break;
            }
            case EV_BINARY: {
                String cid = string();
                long len = buf.getInt() & 0xffffffffL;
                if (len > buf.remaining()) {
                    throw new BufferUnderflowException();
                }
                byte[] message = new byte[(int) len];
                buf.get(message);
                engine.onClientBinary(cid, message);
                break;
            }
            default:
                LOG.fine("comet4j: unknown event type " + type + " skipped");
        }
    }

    private String string() {
        int len = buf.getShort() & 0xffff;
        if (len == 0) {
            return "";
        }
        byte[] b = new byte[len];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
