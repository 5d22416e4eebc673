package org.comet4j.example;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometContext;
import org.comet4j.core.CometEngine;
import org.comet4j.core.event.BeforeConnectEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.listener.BeforeConnectListener;
import org.comet4j.core.listener.ConnectListener;
import org.comet4j.core.listener.DropListener;

/**
 * Sets up the example's channels and listeners, and pushes the clock.
 * Registered after CometAppListener in web.xml, so the engine exists when
 * this runs and is still running when this is destroyed.
 */
public class AppInit implements ServletContextListener {

    public static final String CLOCK = "clock";
    public static final String CHAT = "chat";
    public static final String WELCOME = "welcome";
    public static final String COUNT = "count";

    private static final Logger LOG = Logger.getLogger(AppInit.class.getName());
    private static final DateTimeFormatter HMS = DateTimeFormatter.ofPattern("HH:mm:ss");

    private ScheduledExecutorService clock;

    @Override
    public void contextInitialized(ServletContextEvent sce) {
        CometContext cc = CometContext.getInstance();
        cc.registChannel(CLOCK);
        cc.registChannel(CHAT);
        cc.registChannel(WELCOME);
        cc.registChannel(COUNT);

        final CometEngine engine = cc.getEngine();
        engine.addBeforeConnectListener(new RefuseOnRequest());
        engine.addConnectListener(new ConnectListener() {
            @Override
            public boolean handleEvent(ConnectEvent e) {
                CometConnection conn = e.getConn();
                Map<String, Object> hello = new LinkedHashMap<>();
                hello.put("cId", conn.getId());
                hello.put("text", "Welcome! You are connection " + conn.getId() + ".");
                engine.sendTo(WELCOME, conn, hello);
                engine.sendToAll(COUNT, liveCount(engine, conn.getId(), null));
                return true;
            }
        });
        engine.addDropListener(new DropListener() {
            @Override
            public boolean handleEvent(DropEvent e) {
                engine.sendToAll(COUNT, liveCount(engine, null, e.getConn().getId()));
                return true;
            }
        });

        // One thread, a daemon, named: easy to spot in a thread dump, and it
        // cannot keep the JVM alive if contextDestroyed were ever skipped.
        clock = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "webapp-example-clock");
            t.setDaemon(true);
            return t;
        });
        clock.scheduleAtFixedRate(() -> {
            try {
                engine.sendToAll(CLOCK, LocalTime.now().format(HMS));
            } catch (RuntimeException ex) {
                // A failed tick must not cancel the schedule.
                LOG.log(Level.WARNING, "clock tick failed", ex);
            }
        }, 0, 1, TimeUnit.SECONDS);
    }

    @Override
    public void contextDestroyed(ServletContextEvent sce) {
        // Stop the clock before CometAppListener stops the engine, and wait
        // for a tick in progress, so no thread of ours outlives the app.
        if (clock != null) {
            clock.shutdownNow();
            try {
                clock.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            clock = null;
        }
    }

    /**
     * The number of connected pages. Whether the connection of the event
     * being handled is already (connect) or still (drop) listed is the
     * engine's business; adding or removing its id here keeps the count right
     * either way.
     */
    static int liveCount(CometEngine engine, String plusId, String minusId) {
        Set<String> ids = new HashSet<>();
        for (CometConnection c : engine.getConnections()) {
            ids.add(c.getId());
        }
        if (plusId != null) {
            ids.add(plusId);
        }
        if (minusId != null) {
            ids.remove(minusId);
        }
        return ids.size();
    }

    /**
     * A demo of refusal: a page that starts with JS.Engine.start('conn',
     * {refuse: 1}) is turned away (HTTP 403), and its 'stop' event has cause
     * 'refused'. Real applications check the session or the user here.
     */
    static class RefuseOnRequest extends BeforeConnectListener {
        @Override
        public boolean handleEvent(BeforeConnectEvent e) {
            return !"1".equals(e.getRequest().getParameter("refuse"));
        }
    }
}
