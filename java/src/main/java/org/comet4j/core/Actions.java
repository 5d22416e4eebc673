package org.comet4j.core;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.Future;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.comet4j.core.util.JSONUtil;

/**
 * The engine's own pool for {@link ActionHandler}s: Comet.ActionThreads
 * daemon threads ("comet4j-action-N", idle ones end after a minute) over a
 * bounded queue, and one timer thread for Comet.ActionTimeout.  Each request
 * is answered exactly once: res, err 5000 (the handler threw), err 4080 (the
 * timer won; the handler is interrupted and its late result dropped) or err
 * 5030 (queue full).  {@link #shutdown()} (engine stop) ends every thread,
 * so an undeploy leaves none behind.
 */
final class Actions {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    static final int QUEUE = 10000;

    private final CometEngine engine;
    private final long timeoutMs;
    private final ThreadPoolExecutor pool;
    private final ScheduledThreadPoolExecutor timer;

    Actions(CometEngine engine, int threads, long timeoutMs) {
        this.engine = engine;
        this.timeoutMs = timeoutMs;
        pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(QUEUE),
                factory("comet4j-action-"));
        pool.allowCoreThreadTimeOut(true);
        timer = new ScheduledThreadPoolExecutor(1, factory("comet4j-action-timer-"));
        timer.setRemoveOnCancelPolicy(true);
        timer.setKeepAliveTime(60, TimeUnit.SECONDS);
        timer.allowCoreThreadTimeOut(true);
    }

    private static ThreadFactory factory(String prefix) {
        AtomicInteger n = new AtomicInteger();
        ClassLoader loader = Actions.class.getClassLoader();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            t.setContextClassLoader(loader); // the webapp's loader, as the dispatcher has
            return t;
        };
    }

    /** Runs handler for request on the pool; the answer goes to the request's connection. */
    void run(ActionHandler handler, ActionRequest request) {
        run(handler, request, null);
    }

    /**
     * As {@link #run(ActionHandler, ActionRequest)}; then, once the page has
     * its answer (res, 5000, 4080 or 5030), done (may be null) runs: for a
     * request from the hub's queue it tells the core that it is finished.
     * A request the stopping engine never answers is not done: its node
     * gone, another node runs it.
     */
    void run(ActionHandler handler, ActionRequest request, Runnable done) {
        Runnable fin = done != null ? done : () -> { };
        String cid = request.getConnectionId(); // its node may be another: sendFrame reaches it there
        long id = request.getId();
        AtomicBoolean answered = new AtomicBoolean();
        AtomicReference<Future<?>> task = new AtomicReference<>();
        ScheduledFuture<?> timeout;
        try {
            timeout = timer.schedule(() -> {
                if (answered.compareAndSet(false, true)) {
                    Future<?> f = task.get();
                    if (f != null) {
                        f.cancel(true);
                    }
                    engine.figures().actions[2].increment();
                    engine.sendError(cid, id, CometProtocol.ERR_TIMEOUT,
                            "request timed out after " + timeoutMs + " ms");
                    fin.run();
                }
            }, timeoutMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) { // shut down: the engine is stopping
            return;
        }
        try {
            task.set(pool.submit(() -> {
                String frame;
                long t0 = System.nanoTime();
                try {
                    Object result;
                    try {
                        result = handler.handle(request);
                    } finally {
                        engine.figures().actionTime(System.nanoTime() - t0);
                    }
                    frame = "{\"t\":\"res\",\"id\":" + id + ",\"result\":" + JSONUtil.object2json(result) + "}";
                } catch (Throwable t) {
                    if (answered.compareAndSet(false, true)) {
                        engine.figures().actions[1].increment();
                        timeout.cancel(false);
                        if (t instanceof Error && !(t instanceof AssertionError)) {
                            LOG.log(Level.SEVERE, "comet4j: action " + request.getRoute() + " failed", t);
                        } else {
                            LOG.log(engine.isDebugOn() ? Level.INFO : Level.FINE,
                                    "comet4j: action " + request.getRoute() + " threw", t);
                        }
                        String m = t.getMessage();
                        engine.sendError(cid, id, CometProtocol.ERR_ACTION, m != null ? m : t.getClass().getName());
                        fin.run();
                    }
                    return;
                }
                if (answered.compareAndSet(false, true)) {
                    engine.figures().actions[0].increment();
                    timeout.cancel(false);
                    engine.sendFrame(cid, frame);
                    fin.run();
                }
            }));
        } catch (RejectedExecutionException e) {
            timeout.cancel(false);
            if (answered.compareAndSet(false, true) && !pool.isShutdown()) {
                engine.figures().actions[3].increment();
                engine.sendError(cid, id, CometProtocol.ERR_BUSY, "too many requests waiting");
                fin.run();
            }
        }
    }

    /** Requests waiting for a pool thread now (the action_queue gauge). */
    int queued() {
        return pool.getQueue().size();
    }

    /** Interrupts running actions and waits a little for the threads to end. */
    void shutdown() {
        timer.shutdownNow();
        pool.shutdownNow();
        try {
            if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warning("comet4j: an action did not end within 5 s of the engine's stop (it ignores interrupts?)");
            }
            timer.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
