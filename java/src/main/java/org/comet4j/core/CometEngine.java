package org.comet4j.core;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.comet4j.core.event.BeforeConnectEvent;
import org.comet4j.core.event.BeforeDropEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.event.DyingEvent;
import org.comet4j.core.event.MessageEvent;
import org.comet4j.core.event.RevivalEvent;
import org.comet4j.core.exception.NativeException;
import org.comet4j.core.listener.BeforeConnectListener;
import org.comet4j.core.listener.BeforeDropListener;
import org.comet4j.core.listener.ConnectListener;
import org.comet4j.core.listener.DropListener;
import org.comet4j.core.listener.DyingListener;
import org.comet4j.core.listener.MessageListener;
import org.comet4j.core.listener.RevivalListener;
import org.comet4j.core.util.JSONUtil;
import org.comet4j.event.Event;
import org.comet4j.event.Observable;

/**
 * The application's handle on the push engine, with Comet4J's API: send to
 * one connection, to a list or to all, look connections up, and listen to
 * their life cycle.  Sending serializes the data once (JSONUtil) and hands
 * it to the native core, which frames it once and fans it out; this class
 * keeps only the map of connections the core reported, and the handshakes
 * waiting for their connection to attach.  Sends only enqueue: they never
 * block on the network.
 *
 * <p>Life cycle of a connection, on the dispatcher thread: Connect; then,
 * when its transport is lost, Dying (it stays in getConnections() with state
 * "dying" and sendTo still reaches it: the core keeps the frames) and either
 * Revival (the same object, alive, with the new transport's work style and
 * address) or, after Comet.ConnExpires, BeforeDrop and Drop with code 4005.
 * Nothing is buffered here: the core holds the frames and the history.
 *
 * <p>MessageEvent: fired after each send on the sending thread, with the
 * connection and the data as given (Comet4J).  sendToAll fires one per
 * connection known at that moment (Comet4J listeners read getConn()), and
 * none at all when no MessageListener is registered.
 */
public class CometEngine extends Observable<Event<CometEngine>> {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    private static final int CLOSE_IDLE_TIMEOUT = 4002;

    /** How long a handshake waits for its connection beyond the ticket's expiry. */
    private static final long PENDING_GRACE_MS = 5000;

    private final Map<String, CometConnection> connections = new ConcurrentHashMap<>();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private volatile long nextPurge;

    private volatile EngineHandle handle;
    private volatile Dispatcher dispatcher;
    private volatile CometConfig config;
    private volatile int port = -1;
    private volatile boolean stopped;

    /** Engines are made by CometContext. */
    CometEngine() {}

    // ---- life cycle (CometContext calls these) -------------------------------

    synchronized void start(CometConfig cfg) {
        if (handle != null || stopped) {
            throw new IllegalStateException("comet4j: an engine starts once; CometContext.destroy() and"
                    + " getInstance() give a new one");
        }
        EngineHandle h = EngineHandle.open(cfg);
        try {
            port = h.call("enginePort", Native::enginePort);
            Dispatcher d = new Dispatcher(this, h, Math.max(256 * 1024, cfg.getMaxMessage() + 4096));
            config = cfg;
            handle = h;
            dispatcher = d;
            d.start();
        } catch (RuntimeException | Error e) {
            handle = null;
            h.close();
            throw e;
        }
    }

    /**
     * Closes every connection (code 1001; DropEvents fire for them), waits
     * for the dispatcher and frees the native engine.  Idempotent.
     */
    synchronized void stop() {
        EngineHandle h = handle;
        if (h == null) {
            return;
        }
        h.stop();
        Dispatcher d = dispatcher;
        try {
            if (d != null && d.isCurrentThread()) {
                // stop() from a listener: the dispatcher ends by itself after this returns.
                LOG.fine("comet4j: engine stopped from the dispatcher thread");
            } else if (d != null && !d.join(10000)) {
                LOG.warning("comet4j: the dispatcher did not end within 10 s (a listener blocks?)");
                d.interrupt();
                d.join(2000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        h.close();
        stopped = true;
        handle = null;
        dispatcher = null;
        port = -1;
        connections.clear();
        pending.clear();
    }

    /** True between start and stop. */
    public boolean isRunning() {
        EngineHandle h = handle;
        return h != null && h.isOpen();
    }

    /** The port the native listener is bound to, or -1 when not running. */
    public int getPort() {
        return port;
    }

    // ---- sending ---------------------------------------------------------------

    /** Sends data (serialized by JSONUtil) on channel to one connection. */
    public void sendTo(String channel, CometConnection c, Object data) {
        checkChannel(channel);
        if (c == null) {
            throw new NullPointerException("connection");
        }
        sendJson(channel, c.getId(), JSONUtil.object2json(data));
        fireMessage(c, data, channel);
    }

    /** Sends each element of data as its own message, in order (Comet4J). */
    public void sendTo(String channel, CometConnection c, List<Object> data) {
        for (Object o : data) {
            sendTo(channel, c, o);
        }
    }

    /** Sends data, serialized once, to each connection of the list. */
    public void sendTo(String channel, List<CometConnection> list, Object data) {
        checkChannel(channel);
        if (list.isEmpty()) {
            return;
        }
        String json = JSONUtil.object2json(data);
        for (CometConnection c : list) {
            sendJson(channel, c.getId(), json);
        }
        for (CometConnection c : list) {
            fireMessage(c, data, channel);
        }
    }

    /** Sends data on channel to every connection: serialized once, fanned out by the core. */
    public void sendToAll(String channel, Object data) {
        checkChannel(channel);
        byte[] ch = EngineHandle.utf8(channel);
        byte[] json = EngineHandle.utf8(JSONUtil.object2json(data));
        int rc = running("sendToAll").call("sendToAll", h -> Native.sendAll(h, ch, json, 0));
        if (rc == NativeException.ESTOPPED) {
            return; // the engine is stopping: every connection is closing anyway
        }
        Errors.check("sendToAll(" + channel + ")", rc);
        if (hasListener(MessageEvent.class)) {
            for (CometConnection c : connections.values()) {
                fireMessage(c, data, channel);
            }
        }
    }

    /**
     * Closes a connection with close code 4003 ("dropped by the application");
     * its DropEvent follows on the dispatcher thread.
     */
    public void drop(CometConnection c) {
        drop(c, CometProtocol.CLOSE_DROPPED, "dropped by the application");
    }

    /**
     * Closes a connection with the given close code (1000 or 3000-4999) and
     * reason.  4002, 4004 and 4005 are the core's own (idle timeout, which
     * starts a dying period; replaced; dying period over) and are refused.
     * @throws IllegalArgumentException for one of those codes
     */
    public void drop(CometConnection c, int code, String reason) {
        if (code == CLOSE_IDLE_TIMEOUT || code == CometProtocol.CLOSE_REPLACED || code == CometProtocol.CLOSE_EXPIRED) {
            throw new IllegalArgumentException("comet4j: close code " + code + " is reserved for the core");
        }
        byte[] cid = EngineHandle.utf8(c.getId());
        String r = reason == null ? "" : reason;
        int rc = running("drop").call("drop", h -> Native.drop(h, cid, code, r));
        if (rc != NativeException.ENOCONN && rc != NativeException.ESTOPPED) {
            Errors.check("drop(" + c.getId() + ")", rc);
        }
    }

    private void sendJson(String channel, String cid, String json) {
        byte[] id = EngineHandle.utf8(cid);
        byte[] ch = EngineHandle.utf8(channel);
        byte[] js = EngineHandle.utf8(json);
        int rc = running("sendTo").call("sendTo", h -> Native.sendTo(h, id, ch, js, 0));
        // A connection that closed a moment ago is not an error (Comet4J did not
        // fail either), nor is a send while the engine stops.
        if (rc == NativeException.ENOCONN || rc == NativeException.ESTOPPED) {
            LOG.fine("comet4j: sendTo(" + cid + "): connection gone");
            return;
        }
        Errors.check("sendTo(" + channel + ", " + cid + ")", rc);
    }

    private void fireMessage(CometConnection c, Object data, String channel) {
        if (hasListener(MessageEvent.class)) {
            fireEvent(new MessageEvent(this, c, data, channel));
        }
    }

    private static void checkChannel(String channel) {
        if (channel == null || channel.isEmpty()) {
            throw new IllegalArgumentException("comet4j: channel must not be empty");
        }
    }

    private EngineHandle running(String op) {
        EngineHandle h = handle;
        if (h == null) {
            throw new IllegalStateException(stopped ? "comet4j: " + op + " after the engine was stopped"
                    : "comet4j: " + op + " before the engine was started"
                    + " (is CometAppListener the first listener in web.xml?)");
        }
        return h;
    }

    // ---- connections -------------------------------------------------------------

    /** The connection with this id, or null. */
    public CometConnection getConnection(String id) {
        return id == null ? null : connections.get(id);
    }

    /** A copy of the list of connections the core holds: alive ones and dying ones. */
    public List<CometConnection> getConnections() {
        return new ArrayList<>(connections.values());
    }

    /** Counters of the native core: conns, accepted, messagesOut, bytesOut, slowConsumers, eventsDropped. */
    public Map<String, Long> getStats() {
        long[] s = new long[6];
        running("getStats").call("getStats", h -> {
            Native.stats(h, s);
            return 0;
        });
        Map<String, Long> m = new LinkedHashMap<>();
        String[] names = {"conns", "accepted", "messagesOut", "bytesOut", "slowConsumers", "eventsDropped"};
        for (int i = 0; i < names.length; i++) {
            m.put(names[i], s[i]);
        }
        return m;
    }

    // ---- listeners (Comet4J's names) ------------------------------------------------

    public void addBeforeConnectListener(BeforeConnectListener l) { addListener(BeforeConnectEvent.class, l); }
    public void removeBeforeConnectListener(BeforeConnectListener l) { removeListener(BeforeConnectEvent.class, l); }
    public void addConnectListener(ConnectListener l) { addListener(ConnectEvent.class, l); }
    public void removeConnectListener(ConnectListener l) { removeListener(ConnectEvent.class, l); }
    public void addBeforeDropListener(BeforeDropListener l) { addListener(BeforeDropEvent.class, l); }
    public void removeBeforeDropListener(BeforeDropListener l) { removeListener(BeforeDropEvent.class, l); }
    public void addDropListener(DropListener l) { addListener(DropEvent.class, l); }
    public void removeDropListener(DropListener l) { removeListener(DropEvent.class, l); }
    public void addMessageListener(MessageListener l) { addListener(MessageEvent.class, l); }
    public void removeMessageListener(MessageListener l) { removeListener(MessageEvent.class, l); }
    public void addDyingListener(DyingListener l) { addListener(DyingEvent.class, l); }
    public void removeDyingListener(DyingListener l) { removeListener(DyingEvent.class, l); }
    public void addRevivalListener(RevivalListener l) { addListener(RevivalEvent.class, l); }
    public void removeRevivalListener(RevivalListener l) { removeListener(RevivalEvent.class, l); }

    // ---- handshake support (CometServlet) ----------------------------------------------

    /** A new connection id from the core. */
    String newId() {
        running("newId");
        return Native.newId();
    }

    /** Signs a ticket for cid (see docs/protocol.md). */
    String ticket(String cid, String user, long expSeconds, List<String> channels) {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("cid", cid);
        if (user != null) {
            claims.put("sub", user);
        }
        claims.put("exp", expSeconds);
        claims.put("ch", channels);
        byte[] json = EngineHandle.utf8(JSONUtil.object2json(claims));
        String t = running("ticket").get("ticket", h -> Native.ticket(h, json));
        if (t == null) {
            throw new NativeException("ticket: the core could not sign the claims", NativeException.EBADJSON);
        }
        return t;
    }

    /** Remembers a handshake until its connection attaches or the ticket expires. */
    void addPending(String cid, RequestSnapshot request, String user, long expiresAtMillis) {
        long now = System.currentTimeMillis();
        if (now >= nextPurge) {
            nextPurge = now + 1000;
            for (Iterator<Pending> it = pending.values().iterator(); it.hasNext();) {
                if (it.next().expiresAt < now) {
                    it.remove();
                }
            }
        }
        pending.put(cid, new Pending(request, user, expiresAtMillis + PENDING_GRACE_MS));
    }

    int pendingCount() {
        return pending.size();
    }

    CometConfig getConfig() {
        return config;
    }

    private static final class Pending {
        final RequestSnapshot request;
        final String user;
        final long expiresAt;

        Pending(RequestSnapshot request, String user, long expiresAt) {
            this.request = request;
            this.user = user;
            this.expiresAt = expiresAt;
        }
    }

    // ---- events from the core (the dispatcher thread calls these) ------------------------

    void onConnect(String cid, String user, String ip, int remotePort, String transport) {
        Pending p = pending.remove(cid);
        CometConnection c = connections.get(cid);
        if (c != null) {
            // A new transport took the id of a live connection (the page
            // reconnected with cId before the old transport was seen lost):
            // the same connection goes on over it; the old one's DROP 4004
            // is not the connection's end.
            c.revive(ip, remotePort, workStyle(transport));
            fire(new RevivalEvent(this, c));
            return;
        }
        String u = !user.isEmpty() ? user : p != null ? p.user : null;
        c = new CometConnection(cid, ip, remotePort, u, workStyle(transport), p != null ? p.request : null);
        connections.put(cid, c);
        fire(new ConnectEvent(this, c));
    }

    void onDrop(String cid, int code, String reason) {
        CometConnection c = connections.get(cid);
        if (code == CometProtocol.CLOSE_REPLACED && c != null) {
            // Only the transport ends: its id was attached again, and that
            // attach is (or was already) reported as the same connection.
            if (config != null && config.isDebug()) {
                LOG.info("comet4j: " + cid + " moved to a new transport");
            }
            return;
        }
        c = connections.remove(cid);
        if (c == null) { // its connect event was lost, or it never reached Java
            c = new CometConnection(cid, null, 0, null, CometProtocol.WORKSTYLE_WEBSOCKET, null);
        }
        c.setState(CometProtocol.STATE_DROPPED);
        fire(new BeforeDropEvent(this, c, code, reason));
        fire(new DropEvent(this, c, code, reason));
    }

    /**
     * The transport is lost; the connection keeps its identity (and its
     * object, in the map) until REVIVAL or DROP.
     */
    void onDying(String cid, int code, String reason) {
        CometConnection c = connections.get(cid);
        if (c == null) { // its connect event was lost: know it from now on
            Pending p = pending.remove(cid);
            c = new CometConnection(cid, null, 0, p != null ? p.user : null, CometProtocol.WORKSTYLE_WEBSOCKET,
                    p != null ? p.request : null);
            CometConnection raced = connections.putIfAbsent(cid, c);
            if (raced != null) {
                c = raced;
            }
        }
        c.setState(CometProtocol.STATE_DYING);
        fire(new DyingEvent(this, c, code, reason));
    }

    /**
     * The same id attached again: the same object, alive, with the new
     * transport's address and work style.  One Java does not know (dropped
     * here already, or its events lost) is a new connection.
     */
    void onRevival(String cid, String user, String ip, int remotePort, String transport) {
        CometConnection c = connections.get(cid);
        if (c == null) {
            onConnect(cid, user, ip, remotePort, transport);
            return;
        }
        pending.remove(cid); // the handshake that got it its fresh ticket
        c.revive(ip, remotePort, workStyle(transport));
        fire(new RevivalEvent(this, c));
    }

    private static String workStyle(String transport) {
        return transport.isEmpty() ? CometProtocol.WORKSTYLE_WEBSOCKET : transport;
    }

    void onClientMessage(String cid, String text) {
        if (config != null && config.isDebug()) {
            LOG.info("comet4j: client message from " + cid + " ignored: " + text);
        }
    }

    void onLog(int level, String text) {
        Level l = level == 0 ? Level.SEVERE : level == 1 ? Level.WARNING : level == 2 ? Level.INFO
                : (config != null && config.isDebug()) ? Level.INFO : Level.FINE;
        LOG.log(l, "comet4j core: " + text);
    }

    private void fire(Event<CometEngine> e) {
        fireEvent(e, (l, t) -> LOG.log(Level.SEVERE, "comet4j: " + l.getClass().getName() + " failed on "
                + e.getClass().getSimpleName(), t));
    }
}
