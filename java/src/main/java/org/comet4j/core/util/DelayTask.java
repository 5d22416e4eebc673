package org.comet4j.core.util;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Comet4J's delayed tasks by id: {@link #delay} runs a task after a delay,
 * and delaying another task under the same id before it ran cancels the
 * first (a debounce).  Its threads are daemons named "comet4j-delay-N", so
 * a forgotten instance keeps neither the JVM nor a redeployed application
 * alive; call {@link #shutdown()} when done.
 */
public class DelayTask {

    private static final AtomicInteger THREADS = new AtomicInteger();

    private final ScheduledExecutorService scheduler;
    private final Map<String, ScheduledFuture<?>> taskHandles = new ConcurrentHashMap<>();

    /** As many threads as cores. */
    public DelayTask() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public DelayTask(int cpuCoreNumber) {
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, "comet4j-delay-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(Math.max(1, cpuCoreNumber), tf);
        s.setRemoveOnCancelPolicy(true);
        scheduler = s;
    }

    /** Runs task after delay; a task of the same id not yet run is cancelled. */
    public void delay(String taskId, Runnable task, long delay, TimeUnit unit) {
        taskHandles.compute(taskId, (id, old) -> {
            if (old != null && !old.isDone()) {
                old.cancel(true);
            }
            return scheduler.schedule(task, delay, unit);
        });
    }

    /** Cancels the task of this id if it has not run. */
    public void cancel(String taskId) {
        ScheduledFuture<?> f = taskHandles.remove(taskId);
        if (f != null && !f.isDone()) {
            f.cancel(true);
        }
    }

    /** Cancels every task not yet run. */
    public void cancelAllTask() {
        for (String id : taskHandles.keySet()) {
            cancel(id);
        }
    }

    /** Ends the threads once the tasks already scheduled have run. */
    public void shutdown() {
        scheduler.shutdown();
    }
}
