package org.comet4j.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongFunction;
import java.util.function.LongToIntFunction;
import java.util.logging.Logger;

import org.comet4j.core.exception.ConfigException;
import org.comet4j.core.exception.NativeException;

/**
 * Owns one native engine (a c4j_engine_t*) and guards every use of it: each
 * call counts itself in while it runs and fails with IllegalStateException
 * once the engine is closed; {@link #close()} frees it only when no call is
 * counted in, so no call can run on freed memory.  Life cycle: open
 * (created and started) → stopping ({@link #stop()}: calls answer -1008,
 * only poll still works, to drain the last events) → closed
 * ({@link #close()}, compare-and-set, idempotent).
 *
 * <p>The count is striped (a counter for each of {@value #STRIPES} groups of
 * threads, each on a cache line of its own) because every send takes it:
 * one shared counter, or a read lock, would bounce between the cores at
 * each call.  A call increments its stripe, then reads the state; close
 * sets the state, then waits for every stripe to read 0: both are volatile,
 * so either the call sees CLOSED or close sees the call.
 */
final class EngineHandle implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    private static final int OPEN = 0;
    private static final int STOPPING = 1;
    private static final int CLOSED = 2;

    /** Stripes of the count of calls in flight (a power of two). */
    static final int STRIPES = 16;
    /** Longs between two stripes: 64 bytes, a cache line. */
    private static final int SPREAD = 8;

    private final long address;
    private final AtomicInteger state = new AtomicInteger(OPEN);
    private final AtomicLongArray inFlight = new AtomicLongArray(STRIPES * SPREAD);

    private EngineHandle(long address) {
        this.address = address;
    }

    /**
     * Loads the library, creates the engine from cfg, marks the presence
     * channels (the core sends their join/leave frames and keeps their
     * presence maps from the first connection on) and starts it.
     * @throws ConfigException if the core refuses a value (naming it)
     * @throws NativeException if it cannot start (e.g. port in use; the
     *         hub's Redis unreachable: the message starts with Comet.Hub)
     */
    static EngineHandle open(CometConfig cfg, Collection<String> presenceChannels) {
        NativeLoader.ensureLoaded();
        long h = Native.engineNew(cfg.listenHost(), cfg.listenPort(), cfg.getThreads(), cfg.getSecret(),
                cfg.getHeartbeat(), cfg.getIdleTimeout(), cfg.getHoldMs(), cfg.getMaxHeader(), cfg.getMaxFrame(),
                cfg.getMaxMessage(), cfg.getMaxQueue(), cfg.getMaxConnections(), cfg.getAllowedOrigins(),
                cfg.getConnExpires(), cfg.getHistorySize(), cfg.getCacheExpires(),
                cfg.getApiKey(), cfg.getHub(), cfg.getHubPrefix(), cfg.isListenActions() ? 1 : 0,
                cfg.getHandshakeTimeout(), cfg.getMaxPendingPerAddress(),
                cfg.getTlsCert(), cfg.getTlsKey(), cfg.getMetrics(),
                cfg.getHubOutboxRecords(), cfg.getHubOutboxBytes(), cfg.getHubCatchUpRecords(),
                cfg.getHubCatchUpBytes(), cfg.isDeflate() ? 1 : 0);
        if (h < 0) {
            if (h == NativeException.EINVAL_CONFIG) {
                String field = Native.configError();
                String param = CometConfig.parameterOf(field);
                if (param.equals(CometProtocol.CONFIG_TLSCERT) || param.equals(CometProtocol.CONFIG_TLSKEY)) {
                    // The core read the PEM files: its reason is the message
                    // ("tls_key: does not match the certificate in tls_cert: /k").
                    throw new ConfigException(param, field.substring(field.indexOf(':') + 1).trim()
                            .replace("certificate in tls_cert:", "certificate in " + CometProtocol.CONFIG_TLSCERT + ":"));
                }
                throw new ConfigException(CometConfig.parameterOf(field),
                        "refused by the native core: " + field);
            }
            throw Errors.exception("engine_new", (int) h);
        }
        if (h == 0) {
            throw new NativeException("engine_new: returned no engine", 0);
        }
        for (String ch : presenceChannels) {
            int p = Native.channelPresence(h, utf8(ch), 1);
            if (p < 0) {
                LOG.warning("comet4j: " + Errors.exception("channelPresence(" + ch + ")", p).getMessage()
                        + ": the channel has no presence");
            }
        }
        int rc = Native.engineStart(h);
        if (rc < 0) {
            // The hub connects here: its reason is in configError() (same thread).
            String why = rc == NativeException.EHUB ? Native.configError() : null;
            Native.engineFree(h); // a failed start leaves nothing running
            if (rc == NativeException.EHUB) {
                throw hubException(cfg, why, rc);
            }
            String where = cfg.listenHost() + ":" + cfg.listenPort()
                    + (cfg.isOnePort() ? " (one port: the internal listener of the container way)" : "");
            throw Errors.exception("engine_start on " + where + " (" + CometProtocol.CONFIG_HOST + "/"
                    + CometProtocol.CONFIG_PORT + ")", rc);
        }
        return new EngineHandle(h);
    }

    /**
     * "Comet.Hub: cannot reach redis://...: Connection refused (-1011)" from
     * the core's "hub: cannot reach ..." text.
     */
    private static NativeException hubException(CometConfig cfg, String why, int rc) {
        String reason = why == null ? "" : why.trim();
        if (reason.regionMatches(true, 0, "hub:", 0, 4)) {
            reason = reason.substring(4).trim();
        }
        if (reason.isEmpty()) {
            reason = "cannot reach " + cfg.getHub() + ": " + Native.strerror(rc);
        }
        return new NativeException(CometProtocol.CONFIG_HUB + ": " + reason + " (" + rc + ")", rc);
    }

    /** Counts the calling thread's call in: its stripe's index, for {@link #leave}. */
    private int enter() {
        int i = (int) Thread.currentThread().getId() & (STRIPES - 1);
        inFlight.getAndIncrement(i * SPREAD);
        return i;
    }

    private void leave(int i) {
        inFlight.getAndDecrement(i * SPREAD);
    }

    /**
     * Runs a native call that takes the handle and returns an int.  While
     * stopping it returns -1008 (engine stopped) without calling.
     * @throws IllegalStateException once closed
     */
    int call(String op, LongToIntFunction f) {
        int i = enter();
        try {
            int s = state.get();
            if (s == CLOSED) {
                throw closed(op);
            }
            return s == OPEN ? f.applyAsInt(address) : NativeException.ESTOPPED;
        } finally {
            leave(i);
        }
    }

    /**
     * Native.send of what b holds (see {@link SendBuffer}): {@link #call}
     * without a lambda, for the sends.
     * @throws IllegalStateException once closed
     */
    int send(String op, int kind, SendBuffer b, long timeMs) {
        int i = enter();
        try {
            int s = state.get();
            if (s == CLOSED) {
                throw closed(op);
            }
            return s == OPEN ? Native.send(address, kind, b.bytes(), b.dataLen, b.channelLen, b.whoLen, timeMs)
                    : NativeException.ESTOPPED;
        } finally {
            leave(i);
        }
    }

    /** Like {@link #call}, for calls returning an object: null while stopping. */
    <T> T get(String op, LongFunction<T> f) {
        int i = enter();
        try {
            int s = state.get();
            if (s == CLOSED) {
                throw closed(op);
            }
            return s == OPEN ? f.apply(address) : null;
        } finally {
            leave(i);
        }
    }

    /** Native.poll, still allowed while stopping; -1008 once closed. */
    int poll(ByteBuffer buf, int timeoutMs) {
        int i = enter();
        try {
            if (state.get() == CLOSED) {
                return NativeException.ESTOPPED;
            }
            return Native.poll(address, buf, timeoutMs);
        } finally {
            leave(i);
        }
    }

    boolean isOpen() {
        return state.get() == OPEN;
    }

    /** Closes the listener and every connection; idempotent. */
    void stop() {
        if (state.compareAndSet(OPEN, STOPPING)) {
            int i = enter(); // counted in: a close() from another thread waits for it
            try {
                Native.engineStop(address);
            } finally {
                leave(i);
            }
        }
    }

    /** Stops (if needed) and frees the engine; idempotent. */
    @Override
    public void close() {
        stop();
        if (state.compareAndSet(STOPPING, CLOSED)) {
            awaitCalls();
            Native.engineFree(address);
        }
    }

    /**
     * Waits until no call is counted in (a call that counts itself in from
     * now on sees CLOSED and does not call).  Calls never block on the
     * network; poll and the cluster's questions wait at most their timeout.
     */
    private void awaitCalls() {
        boolean interrupted = false;
        for (int spins = 0; ; spins++) {
            boolean idle = true;
            for (int i = 0; i < STRIPES && idle; i++) {
                idle = inFlight.get(i * SPREAD) == 0;
            }
            if (idle) {
                break;
            }
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static IllegalStateException closed(String op) {
        return new IllegalStateException("comet4j: " + op + " after the engine was closed");
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
