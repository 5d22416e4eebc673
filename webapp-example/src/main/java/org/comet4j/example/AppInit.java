package org.comet4j.example;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;

import org.comet4j.core.ActionRequest;
import org.comet4j.core.ChannelOptions;
import org.comet4j.core.CometConnection;
import org.comet4j.core.CometContext;
import org.comet4j.core.CometEngine;
import org.comet4j.core.event.BeforeConnectEvent;
import org.comet4j.core.event.ChannelEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.event.PublishEvent;
import org.comet4j.core.listener.BeforeConnectListener;
import org.comet4j.core.listener.ChannelListener;
import org.comet4j.core.listener.ConnectListener;
import org.comet4j.core.listener.DropListener;
import org.comet4j.core.listener.PublishListener;

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
    /** Pages write here themselves: JS.Engine.publish("board", {name, text}). */
    public static final String BOARD = "board";
    /** Who is here: pages get join and leave frames. */
    public static final String LOBBY = "lobby";
    /**
     * Bytes (docs/protocol.md section 11): pages publish a Uint8Array, the
     * application gets a byte[] and every page gets the bytes back as a
     * Uint8Array, whatever its transport.
     */
    public static final String BYTES = "bytes";
    /** What the application saw of each page's bytes: {cId, length, sum}. */
    public static final String BYTES_SEEN = "bytes.seen";

    static final int MAX_BYTES = 4096;

    static final int MAX_NOTE = 200;
    static final int MAX_NAME = 40;

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
        cc.registChannel(BOARD, ChannelOptions.defaults().clientWritable());
        cc.registChannel(LOBBY, ChannelOptions.defaults().presence());
        cc.registChannel(BYTES, ChannelOptions.defaults().clientWritable());
        cc.registChannel(BYTES_SEEN);

        final CometEngine engine = cc.getEngine();
        engine.addBeforeConnectListener(new RefuseOnRequest());
        engine.addBeforeConnectListener(new NameFromRequest());
        engine.addPublishListener(new NotesOnly());

        // Actions: JS.Engine.request(route, params) resolves with what they return.
        engine.addActionHandler("time.now", req -> {
            Map<String, Object> now = new LinkedHashMap<>();
            now.put("time", System.currentTimeMillis());
            now.put("text", LocalTime.now().format(HMS));
            return now;
        });
        engine.addActionHandler("sum", AppInit::sum);
        engine.addActionHandler("lobby.who", req -> who(engine));
        // Bytes from the application: n bytes (1 to MAX_BYTES) counting up,
        // to every page with sendToAll(channel, byte[]).
        engine.addActionHandler("bytes.make", req -> {
            Object n = req.getParam("n");
            if (!(n instanceof Number) || ((Number) n).intValue() < 1
                    || ((Number) n).intValue() > MAX_BYTES) {
                throw new IllegalArgumentException("n must be 1 to " + MAX_BYTES);
            }
            byte[] b = new byte[((Number) n).intValue()];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) i;
            }
            engine.sendToAll(BYTES, b);
            return b.length;
        });
        // A page's bytes, as the application gets them: a byte[].
        engine.addChannelListener(BYTES, new ChannelListener() {
            @Override
            public boolean handleEvent(ChannelEvent e) {
                byte[] b = (byte[]) e.getData();
                long sum = 0;
                for (byte x : b) {
                    sum += x & 0xff;
                }
                Map<String, Object> seen = new LinkedHashMap<>();
                seen.put("cId", e.getConn().getId());
                seen.put("length", b.length);
                seen.put("sum", sum);
                engine.sendToAll(BYTES_SEEN, seen);
                return true;
            }
        });
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

    /** The sum of params.numbers; anything else is an error (the page gets 5000). */
    static Object sum(ActionRequest req) {
        Object numbers = req.getParam("numbers");
        if (!(numbers instanceof List)) {
            throw new IllegalArgumentException("numbers must be a list");
        }
        double total = 0;
        for (Object n : (List<?>) numbers) {
            if (!(n instanceof Number)) {
                throw new IllegalArgumentException("not a number: " + n);
            }
            total += ((Number) n).doubleValue();
        }
        return total == Math.rint(total) && Math.abs(total) < 1e15 ? (Object) (long) total : total;
    }

    /**
     * Who is in the lobby now: [{cId, user}], for a page that just arrived
     * (with Comet.Hub=redis://..., on every node of the cluster).
     */
    static List<Map<String, Object>> who(CometEngine engine) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map.Entry<String, String> e : engine.getMembers(LOBBY).entrySet()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cId", e.getKey());
            m.put("user", e.getValue());
            out.add(m);
        }
        return out;
    }

    /**
     * The example's users are anonymous: a page may say its name with
     * JS.Engine.start('conn', {name: 'alice'}), and it becomes the
     * connection's user (what join and leave frames show). Real
     * applications take the user from the session instead.
     */
    static class NameFromRequest extends BeforeConnectListener {
        @Override
        public boolean handleEvent(BeforeConnectEvent e) {
            String name = e.getRequest().getParameter("name");
            if (name != null && !name.trim().isEmpty()) {
                name = name.trim();
                e.setUser(name.length() > MAX_NAME ? name.substring(0, MAX_NAME) : name);
            }
            return true;
        }
    }

    /**
     * Pages may publish on the board only notes: {"name": ..., "text": ...}
     * with a text of 1 to MAX_NOTE characters, and on bytes only bytes (1
     * to MAX_BYTES of them). Anything else is refused (the page's publish
     * rejects with 4030).
     */
    static class NotesOnly extends PublishListener {
        @Override
        public boolean handleEvent(PublishEvent e) {
            if (BYTES.equals(e.getChannel())) {
                return e.getData() instanceof byte[] && ((byte[]) e.getData()).length >= 1
                        && ((byte[]) e.getData()).length <= MAX_BYTES;
            }
            if (!BOARD.equals(e.getChannel()) || !(e.getData() instanceof Map)) {
                return false;
            }
            Map<?, ?> note = (Map<?, ?>) e.getData();
            Object text = note.get("text");
            Object name = note.get("name");
            return text instanceof String && !((String) text).isEmpty()
                    && ((String) text).length() <= MAX_NOTE
                    && (name == null || name instanceof String && ((String) name).length() <= MAX_NAME);
        }
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
