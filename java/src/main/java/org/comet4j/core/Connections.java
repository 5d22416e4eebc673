package org.comet4j.core;

import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

import org.comet4j.core.event.BeforeDropEvent;
import org.comet4j.core.event.BeforeRemoveEvent;
import org.comet4j.core.event.RemovedEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.event.DyingEvent;
import org.comet4j.core.event.RevivalEvent;
import org.comet4j.core.exception.NativeException;
import org.comet4j.core.util.JSONUtil;

/**
 * The map of the connections the core reported (one CometConnection object
 * per connection id, alive or dying, until its drop), and the handshakes:
 * a new id and its signed ticket for the servlet, then the handshake
 * waiting for its connection to attach (the request snapshot and the user,
 * kept until the ticket expires and a grace period after).  Nothing is
 * buffered here: the core holds the frames and the history, and who is
 * subscribed to what ({@link Membership} asks it).
 *
 * <p>Life cycle of a connection, from the core's records on the dispatcher
 * thread: Connect; then, when its transport is lost, Dying (it stays in
 * getConnections() with state "dying" and sendTo still reaches it: the core
 * keeps the frames) and either Revival (the same object, alive, with the
 * new transport's work style and address) or, after Comet.ConnExpires,
 * BeforeDrop, BeforeRemove, Removed and Drop with code 4005 (Comet4J's
 * order: its engine removed a connection, then told it dropped).  Each step
 * first updates the map, then fires its events.  A BeforeRemoveListener
 * that returns false keeps the object in the map as dying (the core holds
 * it no more), offered again every Comet.ConnFrequency ms; a page that
 * comes back with its id gets it again (a handshake with cId finds it) and
 * its attach is a revival.  A page's drop request (cmd=drop) goes to the
 * core after its BeforeDrop, so that its DROP record does not fire a second
 * one.  The core registers the identity (its user, its
 * channels, the cluster's maps) itself and reports its subscriptions in SUB
 * records after its CONNECT and before its DROP, so a connection's
 * PresenceEvents come after its ConnectEvent and before its BeforeDropEvent.
 */
final class Connections {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    /** How long a handshake waits for its connection beyond the ticket's expiry. */
    static final long PENDING_GRACE_MS = 5000;

    private final CometEngine engine;
    private final Map<String, CometConnection> connections = new ConcurrentHashMap<>();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    /** Connections whose removal a BeforeRemoveListener vetoed: id to when, code and reason. */
    private final Map<String, Removal> vetoed = new ConcurrentHashMap<>();
    /**
     * Ids whose page asked for the drop: their BeforeDrop fired already (the
     * DROP record fires none), and a DYING meanwhile is no loss.  The value
     * is TRUE, or the DyingEvent held back while BeforeDrop listeners ran
     * (fired after all if they veto the drop).
     */
    private final Map<String, Object> dropAsked = new ConcurrentHashMap<>();
    private volatile long nextPurge;

    Connections(CometEngine engine) {
        this.engine = engine;
    }

    private static final class Removal {
        final int code;
        final String reason;
        volatile long due;

        Removal(int code, String reason, long due) {
            this.code = code;
            this.reason = reason;
            this.due = due;
        }
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

    // ---- the map -----------------------------------------------------------------------

    /** The connection with this id, or null. */
    CometConnection get(String cid) {
        return cid == null ? null : connections.get(cid);
    }

    /** The connections, alive and dying: a live, unmodifiable view. */
    Collection<CometConnection> all() {
        return Collections.unmodifiableCollection(connections.values());
    }

    /** The engine stopped: no connection and no handshake any more. */
    void clear() {
        connections.clear();
        pending.clear();
        vetoed.clear();
        dropAsked.clear();
    }

    /** The connection with this id, made (and tracked) if Java has not seen it yet. */
    CometConnection known(String cid) {
        CometConnection c = connections.get(cid);
        if (c != null) {
            return c;
        }
        Pending p = pending.remove(cid);
        c = new CometConnection(engine, cid, null, 0, p != null ? p.user : null,
                CometProtocol.WORKSTYLE_WEBSOCKET, p != null ? p.request : null);
        CometConnection raced = connections.putIfAbsent(cid, c);
        return raced != null ? raced : c;
    }

    // ---- handshakes -----------------------------------------------------------------

    /** A new connection id from the core. */
    String newId() {
        engine.running("newId");
        return Native.newId();
    }

    /** Signs a ticket for cid (see docs/protocol.md). */
    String ticket(String cid, String user, long expSeconds, List<String> channels) {
        // {"cid":..,"sub":..,"exp":..,"ch":[..]}, written as it goes (one a handshake).
        StringBuilder claims = new StringBuilder(96 + 24 * channels.size());
        claims.append("{\"cid\":");
        JSONUtil.quote(claims, cid);
        if (user != null) {
            claims.append(",\"sub\":");
            JSONUtil.quote(claims, user);
        }
        claims.append(",\"exp\":").append(expSeconds).append(",\"ch\":");
        CometServlet.strings(claims, channels);
        claims.append('}');
        byte[] json = EngineHandle.utf8(claims.toString());
        String t = engine.running("ticket").get("ticket", h -> Native.ticket(h, json));
        if (t == null) {
            throw new NativeException("ticket: the core could not sign the claims", NativeException.EBADJSON);
        }
        return t;
    }

    /**
     * Remembers a handshake until its connection attaches or the ticket
     * expires (and PENDING_GRACE_MS more); at most once a second, forgets
     * the handshakes past that.
     */
    void addPending(String cid, RequestSnapshot request, String user, long expiresAtMillis) {
        long now = System.currentTimeMillis();
        if (now >= nextPurge) {
            nextPurge = now + 1000;
            purge(now);
        }
        if (pending.put(cid, new Pending(request, user, expiresAtMillis + PENDING_GRACE_MS)) == null) {
            engine.figures().ticketsIssued.increment();
        }
    }

    /** Forgets the handshakes whose wait ended before now. */
    void purge(long now) {
        for (Iterator<Pending> it = pending.values().iterator(); it.hasNext();) {
            if (it.next().expiresAt < now) {
                it.remove();
                engine.figures().ticketsExpiredUnused.increment();
            }
        }
    }

    int pendingCount() {
        return pending.size();
    }

    // ---- the application's subscribe and unsubscribe ------------------------------------

    /**
     * Native.subscribe; the core decides on the worker that holds the id
     * (its SUB record follows, and the members with it).
     * @return false if Java knows no such connection (reported by the core,
     *         or a handshake whose connect event is not handled yet), or
     *         the core holds no such id
     */
    boolean subscribe(String cid, String channel) {
        Delivery.checkChannel(channel);
        int rc = engine.nativeSubscribe(cid, channel, -1);
        if (rc == NativeException.ENOCONN || rc == NativeException.ESTOPPED) {
            return false;
        }
        Errors.check("subscribe(" + cid + ", " + channel + ")", rc);
        return get(cid) != null || pending.containsKey(cid);
    }

    /** As {@link #subscribe}: Native.unsubscribe. */
    boolean unsubscribe(String cid, String channel) {
        Delivery.checkChannel(channel);
        int rc = engine.nativeUnsubscribe(cid, channel);
        if (rc == NativeException.ENOCONN || rc == NativeException.ESTOPPED) {
            return false;
        }
        Errors.check("unsubscribe(" + cid + ", " + channel + ")", rc);
        return get(cid) != null || pending.containsKey(cid);
    }

    // ---- events from the core (the dispatcher thread calls these) ------------------------

    void onConnect(String cid, String user, String ip, int remotePort, String transport) {
        Pending p = pending.remove(cid);
        if (p != null) {
            engine.figures().ticketsAttached.increment();
        }
        CometConnection c = connections.get(cid);
        if (c != null) {
            // A new transport took the id of a live connection (the page
            // reconnected with cId before the old transport was seen lost):
            // the same connection goes on over it; the old one's DROP 4004
            // is not the connection's end.
            revive(c, ip, remotePort, transport);
            return;
        }
        String u = !user.isEmpty() ? user : p != null ? p.user : null;
        c = new CometConnection(engine, cid, ip, remotePort, u, workStyle(transport), p != null ? p.request : null);
        connections.put(cid, c);
        engine.fire(new ConnectEvent(engine, c));
    }

    void onDrop(String cid, int code, String reason) {
        CometConnection c = connections.get(cid);
        if (code == CometProtocol.CLOSE_REPLACED && c != null) {
            // Only the transport ends: its id was attached again, and that
            // attach is (or was already) reported as the same connection.
            if (engine.isDebugOn()) {
                LOG.info("comet4j: " + cid + " moved to a new transport");
            }
            return;
        }
        if (c == null) { // its connect event was lost, or it never reached Java
            c = new CometConnection(engine, cid, null, 0, null, CometProtocol.WORKSTYLE_WEBSOCKET, null);
        }
        c.setState(CometProtocol.STATE_DROPPED); // its transport is closed
        if (dropAsked.remove(cid) == null) {
            engine.fire(new BeforeDropEvent(engine, c, code, reason));
        }
        remove(c, code, reason);
    }

    /**
     * BeforeRemove; unless vetoed: out of the map, Removed, Drop.  Vetoed:
     * it stays (dying), offered again after retryMs ({@link #retryRemovals}).
     */
    private void remove(CometConnection c, int code, String reason) {
        String cid = c.getId();
        if (!engine.fireVeto(new BeforeRemoveEvent(engine, c))) {
            CometConfig cfg = engine.getConfig();
            int retry = cfg == null ? 5000 : cfg.removalRetryMs();
            if (vetoed.put(cid, new Removal(code, reason, System.currentTimeMillis() + retry)) == null) {
                LOG.info(Language.t("RemoveVetoed", cid, retry));
            }
            c.setState(CometProtocol.STATE_DYING);
            connections.putIfAbsent(cid, c);
            return;
        }
        vetoed.remove(cid);
        connections.remove(cid, c);
        c.setState(CometProtocol.STATE_DROPPED);
        engine.fire(new RemovedEvent(engine, c));
        engine.fire(new DropEvent(engine, c, code, reason));
    }

    /** The vetoed removals due by now: BeforeRemove again (on the dispatcher thread). */
    void retryRemovals(long now, int retryMs) {
        if (vetoed.isEmpty()) {
            return;
        }
        for (Map.Entry<String, Removal> e : vetoed.entrySet()) {
            Removal r = e.getValue();
            if (r.due > now) {
                continue;
            }
            CometConnection c = connections.get(e.getKey());
            if (c == null || !CometProtocol.STATE_DYING.equals(c.getState())) {
                vetoed.remove(e.getKey(), r); // revived, or gone another way
                continue;
            }
            r.due = now + retryMs;
            remove(c, r.code, r.reason);
        }
    }

    /** A page asks for the drop of cid: from now on a DYING of it waits for the BeforeDrop listeners. */
    void dropAsked(String cid) {
        if (dropAsked.size() > 10000) { // DROP records lost (the event queue overflowed): forget
            dropAsked.clear();
        }
        dropAsked.put(cid, Boolean.TRUE);
    }

    /** A BeforeDropListener kept cid: a DyingEvent held back meanwhile fires now. */
    void dropKept(String cid) {
        Object held = dropAsked.remove(cid);
        if (held instanceof DyingEvent) {
            engine.fire((DyingEvent) held);
        }
    }

    /**
     * A page asked for the drop of cid and no BeforeDropListener vetoed: the
     * core closes it (1000), and its DROP record fires BeforeRemove, Removed
     * and Drop; a connection the core holds no more (a vetoed removal) is
     * removed here.
     */
    void pageDrop(String cid, CometConnection c) {
        int rc;
        try {
            rc = engine.dropCode(cid, 1000, "dropped by its page");
        } catch (RuntimeException e) {
            dropAsked.remove(cid);
            throw e;
        }
        if (rc != 0) {
            dropAsked.remove(cid);
            if (c != null && connections.get(cid) == c) {
                remove(c, 1000, "dropped by its page");
            }
        }
    }

    /**
     * The transport is lost; the connection keeps its identity (and its
     * object, in the map) until REVIVAL or DROP.
     */
    void onDying(String cid, int code, String reason) {
        CometConnection c = known(cid); // its connect event may have been lost: know it from now on
        c.setState(CometProtocol.STATE_DYING);
        DyingEvent e = new DyingEvent(engine, c, code, reason);
        // Its page asked for the drop and went: its transport's end on the way is no dying.
        if (dropAsked.computeIfPresent(cid, (k, v) -> e) != null) {
            return;
        }
        engine.fire(e);
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
        if (pending.remove(cid) != null) { // the handshake that got it its fresh ticket
            engine.figures().ticketsAttached.increment();
        }
        revive(c, ip, remotePort, transport);
    }

    private void revive(CometConnection c, String ip, int remotePort, String transport) {
        vetoed.remove(c.getId());
        c.revive(ip, remotePort, workStyle(transport));
        engine.fire(new RevivalEvent(engine, c));
    }

    /** The transport's name as one of CometProtocol's constants (each connection keeps it). */
    private static String workStyle(String transport) {
        switch (transport) {
            case "":
            case CometProtocol.WORKSTYLE_WEBSOCKET:
                return CometProtocol.WORKSTYLE_WEBSOCKET;
            case CometProtocol.WORKSTYLE_STREAM:
                return CometProtocol.WORKSTYLE_STREAM;
            case CometProtocol.WORKSTYLE_LLOOP:
                return CometProtocol.WORKSTYLE_LLOOP;
            default:
                return transport;
        }
    }
}
