package org.comet4j.core;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.comet4j.core.event.BeforeConnectEvent;
import org.comet4j.core.event.BeforeDropEvent;
import org.comet4j.core.event.BeforeRemoveEvent;
import org.comet4j.core.event.ErrorEvent;
import org.comet4j.core.event.RemovedEvent;
import org.comet4j.core.event.ChannelEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.event.DyingEvent;
import org.comet4j.core.event.MessageEvent;
import org.comet4j.core.event.PresenceEvent;
import org.comet4j.core.event.PublishEvent;
import org.comet4j.core.event.RevivalEvent;
import org.comet4j.core.event.SubscribeEvent;
import org.comet4j.core.listener.BeforeConnectListener;
import org.comet4j.core.listener.BeforeDropListener;
import org.comet4j.core.listener.BeforeRemoveListener;
import org.comet4j.core.listener.ErrorListener;
import org.comet4j.core.listener.RemovedListener;
import org.comet4j.core.listener.ChannelListener;
import org.comet4j.core.listener.ConnectListener;
import org.comet4j.core.listener.DropListener;
import org.comet4j.core.listener.DyingListener;
import org.comet4j.core.listener.MessageListener;
import org.comet4j.core.listener.PresenceListener;
import org.comet4j.core.listener.PublishListener;
import org.comet4j.core.listener.RevivalListener;
import org.comet4j.core.listener.SubscribeListener;
import org.comet4j.core.exception.CometException;
import org.comet4j.event.Event;
import org.comet4j.event.Observable;

/**
 * The application's handle on the push engine, with Comet4J's API: send to
 * one connection, to a list or to all, look connections up, and listen to
 * their life cycle.  Sending serializes the data once (JSONUtil) and hands
 * it to the native core, which frames it once and fans it out
 * ({@link Delivery}).  Sends only enqueue: they never block on the network.
 * The connections the core reported, their life cycle (Connect; Dying;
 * Revival, or BeforeDrop and Drop) and the handshakes waiting for their
 * connection are {@link Connections}'.  Nothing is buffered here: the core
 * holds the frames and the history.
 *
 * <p>MessageEvent: fired after each send on the sending thread, with the
 * connection and the data as given (Comet4J).  sendToAll fires one per
 * connection known at that moment (Comet4J listeners read getConn()), and
 * none at all when no MessageListener is registered.
 *
 * <p>Talking back (docs/protocol.md section 7): pages subscribe, publish and
 * send requests; {@link Commands} answers them on the dispatcher thread,
 * with SubscribeListeners, PublishListeners, ChannelListeners and
 * ActionHandlers ({@link Handlers}; requests on the engine's own pool,
 * {@link Actions}) deciding.  Who is subscribed to what and which
 * connections each user has (getConnections(channel), getMembers,
 * getMemberCount, isOnline, getOnlineCount, getUserConnections, presence)
 * is the core's one model: {@link Membership} asks it.
 *
 * <p>Several nodes (Comet.Hub=redis://..., docs/protocol.md section 9): the
 * core routes sendToAll, sendTo, sendToUser, drop and command answers to
 * whichever node holds the connection.  isOnline, getOnlineCount,
 * getMemberCount and getMembers of a presence channel answer from the
 * cluster's maps (which every node's core writes), or this node's own
 * numbers when Redis does not answer; the CometConnection objects (getConnections,
 * getUserConnections, getConnection) stay this node's own.  With
 * Comet.ListenActions=false the pages' requests go to the hub's action
 * queue, whose records a listening node runs ({@link RemoteActions}).
 *
 * <p>Comet4J's events, in its order: BeforeConnect (a veto refuses the
 * handshake), Connect, Message, Dying, Revival, and at the end BeforeDrop
 * (a veto keeps a connection whose page asked for the drop), BeforeRemove
 * (a veto keeps the connection in getConnections(), offered again every
 * Comet.ConnFrequency ms), Removed and Drop.  ErrorEvent reports what
 * failed (a listener that threw, an error of the core).  Listeners run in
 * the order added.  As in Comet4J the engine is a raw {@link Observable}:
 * {@code addListener(ConnectEvent.class, listener)} works for any event.
 */
@SuppressWarnings({"rawtypes", "unchecked"})
public class CometEngine extends Observable {

    private static final Logger LOG = Logger.getLogger("org.comet4j");
    private static final Logger NATIVE_LOG = Logger.getLogger(Logs.NATIVE);

    private final Map<String, ChannelOptions> channelOptions;
    private final ClusterMaps cluster = new ClusterMaps(this);
    private final Membership membership;
    private final Connections connections;
    private final Delivery delivery;
    private final Handlers handlers = new Handlers();
    private final Commands commands = new Commands(this);
    private final RemoteActions remoteActions = new RemoteActions(this, commands);
    private final ApiHandler api = new ApiHandler(this);
    private volatile Actions actions;

    private volatile EngineHandle handle;
    private volatile Dispatcher dispatcher;
    private volatile CometConfig config;
    private volatile int port = -1;
    /** One port: the container way's bridge to the core's internal listener, else null. */
    private volatile Bridge bridge;
    private volatile boolean stopped;
    /** Comet.Hub is a Redis URL: other nodes may hold connections. */
    private volatile boolean hubRedis;
    /** Comet.Hub is Redis and Comet.ListenActions false: page requests go to the action queue. */
    private volatile boolean queueActions;

    /**
     * An engine over the application's registered channels (Comet4J's
     * public constructor).  The application's engine is
     * {@code CometContext.getInstance().getEngine()}, which CometContext
     * starts and stops; one made here is never started (sends to it throw
     * IllegalStateException), and Comet.CometEngine naming a subclass is
     * not supported (a warning at start-up, the default engine runs).
     */
    public CometEngine() {
        this(CometContext.getInstance().channelOptionsMap());
    }

    /** channelOptions: CometContext's registered channels, read live. */
    CometEngine(Map<String, ChannelOptions> channelOptions) {
        this.channelOptions = channelOptions;
        this.connections = new Connections(this);
        this.membership = new Membership(this, channelOptions, connections);
        this.delivery = new Delivery(this, connections);
    }

    // ---- life cycle (CometContext calls these) -------------------------------

    synchronized void start(CometConfig cfg) {
        if (handle != null || stopped) {
            throw new IllegalStateException("comet4j: an engine starts once; CometContext.destroy() and"
                    + " getInstance() give a new one");
        }
        // The presence channels registered so far are marked before the
        // listener opens; those registered later, by CometContext.
        EngineHandle h = EngineHandle.open(cfg, presenceChannels());
        try {
            int bound = h.call("enginePort", Native::enginePort);
            // One port: the listener is the container way's internal one, not a port for pages.
            port = cfg.isOnePort() ? -1 : bound;
            Dispatcher d = new Dispatcher(this, h, Math.max(256 * 1024, cfg.getMaxMessage() + 4096));
            config = cfg;
            hubRedis = cfg.isHubRedis();
            queueActions = cfg.isHubRedis() && !cfg.isListenActions();
            handle = h;
            dispatcher = d;
            actions = new Actions(this, cfg.getActionThreads(), cfg.getActionTimeout());
            if (cfg.isOnePort()) {
                bridge = Bridge.start(bound, (long) cfg.getTimeout() + cfg.getHeartbeat());
            }
            d.start();
        } catch (RuntimeException | Error e) {
            handle = null;
            Bridge b = bridge;
            bridge = null;
            if (b != null) {
                b.stop(0);
            }
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
        Bridge b = bridge;
        if (b != null) {
            // The core closed every connection (1001): the pipes pass that on and end.
            b.stop(3000);
        }
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
        Actions a = actions;
        if (a != null) {
            a.shutdown(); // before close: no action thread outlives the engine
        }
        h.close();
        stopped = true;
        handle = null;
        bridge = null;
        dispatcher = null;
        actions = null;
        hubRedis = false;
        queueActions = false;
        port = -1;
        connections.clear();
    }

    /** The registered channels with presence, now. */
    private List<String> presenceChannels() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, ChannelOptions> e : channelOptions.entrySet()) {
            if (e.getValue().isPresence()) {
                out.add(e.getKey());
            }
        }
        return out;
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

    /**
     * Sends data (serialized by JSONUtil) on channel to one connection.  A
     * byte[] is sent as bytes, a binary message (docs/protocol.md section
     * 11): a WebSocket binary frame, base64 on SSE and long-poll, a
     * Uint8Array to the page's listeners.  (This form has no byte[]
     * overload of its own: with Comet4J's {@code List<Object>} one it would
     * make {@code sendTo(channel, c, null)} ambiguous.)
     */
    public void sendTo(String channel, CometConnection c, Object data) {
        delivery.sendTo(channel, c, data);
    }

    /** Sends each element of data as its own message, in order (Comet4J). */
    public void sendTo(String channel, CometConnection c, List<Object> data) {
        for (Object o : data) {
            sendTo(channel, c, o);
        }
    }

    /** Sends data, serialized once, to each connection of the list (a byte[]: as bytes). */
    public void sendTo(String channel, List<CometConnection> list, Object data) {
        delivery.sendTo(channel, list, data);
    }

    /**
     * Sends bytes on channel to each connection of the list: a binary
     * message (docs/protocol.md section 11).  Null sends JSON null, as
     * {@link #sendTo(String, List, Object)} does.
     */
    public void sendTo(String channel, List<CometConnection> list, byte[] data) {
        delivery.sendTo(channel, list, (Object) data);
    }

    /**
     * Sends data on channel to every connection: serialized once, fanned out
     * by the core (with a Redis hub, on every node, in one order; a byte[]
     * passed as an Object: as bytes, like {@link #sendToAll(String, byte[])}).
     * Comet4J's void signature stays: a message the core cannot keep is
     * reported by an exception, never dropped after a normal return.  With a
     * Redis hub that is down or slow the message waits in this node's outbox
     * for the other nodes (this node's pages get it at once); once the outbox
     * holds Comet.HubOutboxRecords records or Comet.HubOutboxBytes bytes,
     * sendToAll throws a {@link org.comet4j.core.exception.NativeException}
     * whose {@code getCode()} is {@code NativeException.EFULL}: the message
     * was not sent, to no page, not even this node's; retry later.  A send
     * while the engine stops is ignored (its connections are closing).
     * @throws org.comet4j.core.exception.NativeException EFULL as above, or
     *         another code of the core (ETOOBIG, EBADJSON, ENOMEM)
     */
    public void sendToAll(String channel, Object data) {
        delivery.sendToAll(channel, data);
    }

    /**
     * Sends bytes on channel to every connection, a binary message
     * (docs/protocol.md section 11): copied once by the core, framed once,
     * a WebSocket binary frame for pages on WebSocket and a JSON frame with
     * the bytes in base64 for pages on SSE and long-poll, which comet4j.js
     * hands its listeners as a Uint8Array.  It takes the channel's next
     * offset and is kept in the history like any broadcast, so a page that
     * resumes gets it again, in order; with a Redis hub it reaches every
     * node.  MessageEvents carry the same array.  Null sends JSON null, as
     * {@link #sendToAll(String, Object)} does.
     * @throws org.comet4j.core.exception.NativeException when the message,
     *         in base64, would not fit Comet.MaxQueue (ETOOBIG), or EFULL
     *         when the hub's outbox is full, as for
     *         {@link #sendToAll(String, Object)}
     */
    public void sendToAll(String channel, byte[] data) {
        delivery.sendToAll(channel, (Object) data);
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
        delivery.drop(c, code, reason);
    }

    /**
     * Sends data on channel to every connection of a user (the ticket's
     * "sub": the principal name or BeforeConnectEvent.setUser), on every
     * worker, through the core.  Nothing happens when the user is offline.
     */
    public void sendToUser(String userId, String channel, Object data) {
        delivery.sendToUser(userId, channel, data);
    }

    /** {@link #sendToUser(String, String, Object)} with bytes: a binary message (see {@link #sendToAll(String, byte[])}). */
    public void sendToUser(String userId, String channel, byte[] data) {
        delivery.sendToUser(userId, channel, (Object) data);
    }

    /**
     * Sends data on channel to one connection by its id, wherever it is: on
     * this node, or (Comet.Hub=redis://...) on whichever node holds it.  For
     * a HubServer (Comet.Port=-1), which has no CometConnection objects of
     * its own.  An id nobody holds is ignored.  No MessageEvent.
     */
    public void sendToConnection(String connectionId, String channel, Object data) {
        delivery.sendToConnection(connectionId, channel, data);
    }

    /** {@link #sendToConnection(String, String, Object)} with bytes: a binary message (see {@link #sendToAll(String, byte[])}). */
    public void sendToConnection(String connectionId, String channel, byte[] data) {
        delivery.sendToConnection(connectionId, channel, (Object) data);
    }

    /**
     * Closes a connection by its id, wherever it is (like
     * {@link #drop(CometConnection, int, String)}); an id nobody holds is
     * ignored.
     */
    public void dropConnection(String connectionId, int code, String reason) {
        delivery.dropConnection(connectionId, code, reason);
    }

    // ---- subscriptions -------------------------------------------------------------

    /**
     * Subscribes a connection to a channel, effective at once on whatever
     * transport it uses (and kept across reconnects and revivals).  No
     * SubscribeListener is asked: the server decides.  On a presence channel
     * the members get a join.  The core applies it asynchronously on the
     * worker holding the id (an id it does not hold is ignored there), and
     * the members (getConnections(channel), getChannels()...) follow once it
     * has; it may refuse it (4290: C4J_MAX_CHANNELS already), and then
     * nothing changes.
     * @return false if this engine knows no such connection (neither
     *         reported by the core nor given a ticket by the servlet lately)
     */
    public boolean subscribe(String connectionId, String channel) {
        return connections.subscribe(connectionId, channel);
    }

    /**
     * Unsubscribes a connection from a channel, at once; on a presence
     * channel the remaining members get a leave.
     * @return false if this engine knows no such connection
     */
    public boolean unsubscribe(String connectionId, String channel) {
        return connections.unsubscribe(connectionId, channel);
    }

    /**
     * This node's connections subscribed to a channel (alive and dying), as
     * the core has them now (a copy).
     */
    public List<CometConnection> getConnections(String channel) {
        return membership.connections(channel);
    }

    /**
     * The members of a channel: connection id → user (null when
     * anonymous), sorted by id.  With a Redis hub, for a presence channel:
     * across the cluster (this node's own while Redis does not answer);
     * otherwise this node's members, as {@link #getConnections(String)}.
     */
    public Map<String, String> getMembers(String channel) {
        return membership.members(channel);
    }

    /**
     * How many connections are subscribed to a channel.  With a Redis hub,
     * for a presence channel: across the cluster.
     */
    public int getMemberCount(String channel) {
        return membership.count(channel);
    }

    // ---- users -------------------------------------------------------------------------

    /**
     * True while the user has at least one connection (alive or dying); with
     * a Redis hub, on any node of the cluster.
     */
    public boolean isOnline(String userId) {
        return membership.online(userId);
    }

    /**
     * Distinct users online (anonymous connections not counted), with a
     * Redis hub across the cluster; getConnections().size() counts this
     * node's connections.
     */
    public int getOnlineCount() {
        return membership.onlineCount();
    }

    /** This node's connections of a user (a copy, possibly empty). */
    public List<CometConnection> getUserConnections(String userId) {
        return membership.userConnections(userId);
    }

    // ---- channel listeners and actions ---------------------------------------------------

    /**
     * Adds a listener for what pages publish on a channel: it runs on the
     * dispatcher thread once a publication is accepted, before the broadcast,
     * and whatever it does the broadcast goes on.
     */
    public void addChannelListener(String channel, ChannelListener l) {
        Delivery.checkChannel(channel);
        handlers.addChannelListener(channel, l);
    }

    public boolean removeChannelListener(String channel, ChannelListener l) {
        return handlers.removeChannelListener(channel, l);
    }

    /**
     * Routes a page's requests {"t":"req","route":route} to handler (see
     * {@link ActionHandler}).
     * @throws IllegalArgumentException if the route has a handler already
     */
    public void addActionHandler(String route, ActionHandler handler) {
        handlers.addActionHandler(route, handler);
    }

    /** Removes a route's handler; its requests get 4040 from now on. */
    public ActionHandler removeActionHandler(String route) {
        return handlers.removeActionHandler(route);
    }

    // ---- connections -------------------------------------------------------------

    /** The connection with this id, or null. */
    public CometConnection getConnection(String id) {
        return connections.get(id);
    }

    /**
     * The connection a request names by its {@code cid} parameter
     * ({@link #getConnectionId(HttpServletRequest)}), or null.  (Comet4J
     * also matched the request object its connection held; here no request
     * holds a connection.)
     */
    public CometConnection getConnection(HttpServletRequest request) {
        String id = getConnectionId(request);
        return id == null ? null : getConnection(id);
    }

    /** The connection id a request names: its {@code cid} parameter (or {@code cId}), null when empty. */
    public String getConnectionId(HttpServletRequest request) {
        String id = request.getParameter(CometProtocol.FLAG_ID);
        if (id == null || id.isEmpty()) {
            id = request.getParameter(CometProtocol.FLAG_CID);
        }
        return id == null || id.isEmpty() ? null : id;
    }

    /**
     * Drops the connection a request names (its {@code cid} parameter), as
     * Comet4J's {@code cmd=drop}, and answers 200: first BeforeDropEvent
     * with the request (a listener that returns false keeps the connection:
     * nothing else happens), then the core closes it (close code 1000,
     * "dropped by its page") and BeforeRemove, Removed and Drop follow on
     * the dispatcher thread.  CometServlet calls this for
     * {@code <servlet>?cmd=drop&cid=...}, what a page's connector sends when
     * it stops.  An id nobody holds is no error.  Whoever knows a
     * connection's id may drop it: the id is the page's secret.
     */
    public void drop(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String cid = getConnectionId(request);
        CometConnection c = cid == null ? null : getConnection(cid);
        BeforeDropEvent be = BeforeDropEvent.asked(this, request, c);
        if (cid != null) {
            connections.dropAsked(cid); // a DYING while the listeners run waits for their answer
        }
        if (!fireVeto(be)) {
            if (cid != null) {
                connections.dropKept(cid);
            }
            if (c != null) {
                LOG.info(Language.t("DropVetoed", cid));
            }
        } else if (cid != null) {
            connections.pageDrop(cid, c);
        }
        if (response != null && !response.isCommitted()) {
            response.setStatus(HttpServletResponse.SC_OK);
            response.setHeader("Cache-Control", "no-store");
            response.setContentLength(0);
        }
    }

    /** A copy of the list of connections the core holds: alive ones and dying ones. */
    public List<CometConnection> getConnections() {
        return new ArrayList<>(connections.all());
    }

    /**
     * Counters of the native core: conns, accepted, messagesOut, bytesOut,
     * slowConsumers, eventsDropped, originsRefused (handshakes refused for their
     * Origin), the hub's (docs/protocol.md section 9): hubUp (1 while
     * linked to Redis), hubOutbox (records Redis does not have yet),
     * hubRefused (sends refused because the outbox was over
     * Comet.HubOutboxRecords or Comet.HubOutboxBytes: each one threw or was
     * answered 503, none reached a page), and the unfinished requests'
     * (docs/protocol.md section 2): pending (sockets whose request has not
     * fully arrived, now), refusedFull (503: full and nothing could make
     * room), refusedAddress (429: the address had
     * Comet.MaxPendingPerAddress unfinished requests), evicted (503: the
     * oldest unfinished request, closed to make room), timeouts (408 at
     * Comet.HandshakeTimeout), timeoutsShortened (408 at the deadline
     * shortened while the core is crowded); then messagesIn, bytesIn
     * (client texts), broadcasts, sendsTo, sendsUser (sends taken),
     * resumesRecovered, resumesLost (attaches that resumed), eventQueueBytes,
     * outputQueueBytes (now), fanouts (broadcasts timed), and the hub's
     * again: hubLost (broadcasts this node's pages never got: gone from
     * Redis before this node could fetch them; the pages were told, with how
     * many), hubGaps (how often that happened) and hubDuplicates (copies of
     * broadcasts delivered here already, sent again after a lost link,
     * skipped); fanoutNanos (the fan-out times of the timed broadcasts
     * summed), httpRefused (HTTP requests the core answered with an error,
     * every status); deflated (frames compressed for permessage-deflate,
     * each once for all its receivers), deflatePlainBytes and
     * deflateCompressedBytes (their payloads before and after).  Every figure, with its labelled ones, is in
     * {@code <context>/comet4j/metrics} (docs/metrics.md).
     */
    public Map<String, Long> getStats() {
        long[] s = new long[STATS.length];
        running("getStats").call("getStats", h -> {
            Native.stats(h, s);
            return 0;
        });
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < STATS.length; i++) {
            m.put(STATS[i], s[i]);
        }
        m.put("originsRefused", figures.originsRefused.sum());
        return m;
    }

    /** The names of Native.stats's slots, in order (c4j_stats_t's scalars, jni.c). */
    private static final String[] STATS = {"conns", "accepted", "messagesOut", "bytesOut", "slowConsumers",
        "eventsDropped", "hubUp", "hubOutbox", "hubRefused", "pending", "refusedFull", "refusedAddress",
        "evicted", "timeouts", "timeoutsShortened", "messagesIn", "bytesIn", "broadcasts", "sendsTo",
        "sendsUser", "resumesRecovered", "resumesLost", "eventQueueBytes", "outputQueueBytes", "fanouts",
        "hubLost", "hubGaps", "hubDuplicates", "fanoutNanos", "httpRefused", "deflated", "deflatePlainBytes",
        "deflateCompressedBytes"};

    /** What Java counts itself (the handshakes, commands, actions): {@link Figures}. */
    private final Figures figures = new Figures();

    Figures figures() { return figures; }

    /**
     * The core's figures and Java's own in Prometheus's text format 0.0.4
     * (docs/metrics.md), as MetricsServlet serves them.
     */
    String metricsText() {
        Actions a = actions;
        byte[] extra = EngineHandle.utf8(figures.text(a != null ? a.queued() : 0));
        byte[] text = running("metrics").get("metricsText", h -> Native.metricsText(h, extra));
        if (text == null) {
            throw new org.comet4j.core.exception.NativeException("metricsText: out of memory",
                    org.comet4j.core.exception.NativeException.ENOMEM);
        }
        return new String(text, java.nio.charset.StandardCharsets.UTF_8);
    }

    void originRefused() {
        figures.originsRefused.increment();
    }

    /** Handshakes refused for their origin: a line at most once a minute per origin ({@link RateLog}). */
    private final RateLog originLog = new RateLog(LOG, Level.WARNING, "handshakes refused for their origin");

    RateLog originLog() { return originLog; }

    /** Sockets handed to the core (one port) that it closed at once (full...): a line a minute per reason. */
    private final RateLog adoptLog = new RateLog(LOG, Level.WARNING, "connections handed to the core and closed");

    RateLog adoptLog() { return adoptLog; }

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
    public void addSubscribeListener(SubscribeListener l) { addListener(SubscribeEvent.class, l); }
    public void removeSubscribeListener(SubscribeListener l) { removeListener(SubscribeEvent.class, l); }
    public void addPublishListener(PublishListener l) { addListener(PublishEvent.class, l); }
    public void removePublishListener(PublishListener l) { removeListener(PublishEvent.class, l); }
    public void addPresenceListener(PresenceListener l) { addListener(PresenceEvent.class, l); }
    public void removePresenceListener(PresenceListener l) { removeListener(PresenceEvent.class, l); }
    public void addBeforeRemoveListener(BeforeRemoveListener l) { addListener(BeforeRemoveEvent.class, l); }
    public void removeBeforeRemoveListener(BeforeRemoveListener l) { removeListener(BeforeRemoveEvent.class, l); }
    public void addRemovedListener(RemovedListener l) { addListener(RemovedEvent.class, l); }
    public void removeRemovedListener(RemovedListener l) { removeListener(RemovedEvent.class, l); }
    public void addErrorListener(ErrorListener l) { addListener(ErrorEvent.class, l); }
    public void removeErrorListener(ErrorListener l) { removeListener(ErrorEvent.class, l); }

    /**
     * Fires an event to its listeners (the Observable's, kept reachable from
     * this package: CometServlet and Delivery fire through it).
     */
    @Override
    protected boolean fireEvent(Event anEvent) {
        return super.fireEvent(anEvent);
    }

    /**
     * Stops the engine (as CometContext.destroy does: every connection
     * closes with 1001) and forgets every listener.  Comet4J's engine
     * destroy; an application normally leaves this to CometAppListener.
     */
    @Override
    public void destroy() {
        stop();
        super.destroy();
    }

    // ---- handshake support (CometServlet) ----------------------------------------------

    /** A new connection id from the core ({@link Connections#newId}). */
    String newId() { return connections.newId(); }

    /** Signs a ticket for cid (see docs/protocol.md; {@link Connections#ticket}). */
    String ticket(String cid, String user, long expSeconds, List<String> channels) {
        return connections.ticket(cid, user, expSeconds, channels);
    }

    /** Remembers a handshake until its connection attaches or the ticket expires. */
    void addPending(String cid, RequestSnapshot request, String user, long expiresAtMillis) {
        connections.addPending(cid, request, user, expiresAtMillis);
    }

    int pendingCount() { return connections.pendingCount(); }

    /**
     * Marks a channel registered with presence while running
     * ({@link Membership#markPresence}).  Synchronized with start: a channel
     * registered meanwhile is in start's list or marked after it.
     */
    synchronized void markPresence(String channel) { membership.markPresence(channel); }

    CometConfig getConfig() { return config; }

    /** Whether another node holds connection id ({@link ClusterMaps#knownElsewhere}). */
    String[] knownElsewhere(String id) { return cluster.knownElsewhere(id); }

    // ---- events from the core (the Dispatcher calls these) --------------------------------

    /** CONNECT, DYING, REVIVAL and DROP records: the life cycle above ({@link Connections}). */
    void onConnect(String cid, String user, String ip, int remotePort, String transport) {
        connections.onConnect(cid, user, ip, remotePort, transport);
    }

    void onDying(String cid, int code, String reason) { connections.onDying(cid, code, reason); }

    void onRevival(String cid, String user, String ip, int remotePort, String transport) {
        connections.onRevival(cid, user, ip, remotePort, transport);
    }

    void onDrop(String cid, int code, String reason) { connections.onDrop(cid, code, reason); }

    /** A SUB record: the core decided a subscription of cid (PresenceEvents, {@link Membership#onSubscribed}). */
    void onSubscribed(String cid, String channel, boolean subscribed, int code) {
        membership.onSubscribed(cid, channel, subscribed, code);
    }

    /** A client frame (everything but ping): a command, answered by {@link Commands}. */
    void onClientMessage(String cid, String text) {
        if (isDebugOn()) {
            LOG.info("comet4j: client frame from " + cid + ": " + text);
        }
        commands.handle(cid, text);
    }

    /** A client's binary message (a BINARY record): a command with bytes, answered by {@link Commands#handleBinary}. */
    void onClientBinary(String cid, byte[] message) {
        if (isDebugOn()) {
            LOG.info("comet4j: binary frame from " + cid + " (" + message.length + " bytes)");
        }
        commands.handleBinary(cid, message);
    }

    /** An HTTP API request that passed the key (docs/protocol.md section 8): answered by {@link ApiHandler}. */
    void onApi(long id, String method, String path, String query, String body) {
        api.handle(id, method, path, query, body);
    }

    /** A record from the hub's action queue (event ACTION): run by {@link RemoteActions}. */
    void onAction(String json) { remoteActions.onAction(json); }

    /** A LOG record of the core: to the logger org.comet4j.native at its level ({@link Logs}). */
    void onLog(int level, String text) {
        NATIVE_LOG.log(Logs.ofCore(level), "comet4j core: " + text);
        if (level == 0) {
            fireError(new CometException("comet4j core: " + text));
        }
    }

    /** Once a dispatcher round (at most a second apart): BeforeRemove again for the vetoed removals that are due. */
    void onTick() {
        CometConfig c = config;
        connections.retryRemovals(System.currentTimeMillis(), c == null ? 5000 : c.removalRetryMs());
        originLog.tick();
        adoptLog.tick();
    }

    /** Fires e to its listeners; one that throws is logged (and an ErrorEvent fired) and the others still run. */
    void fire(Event<CometEngine> e) {
        fireVeto(e);
    }

    /** {@link #fire}, returning false if a listener returned false (a veto); one that threw vetoes nothing. */
    boolean fireVeto(Event<CometEngine> e) {
        return fireEvent(e, (l, t) -> failed(e, l, (Throwable) t, ""));
    }

    private void failed(Event<CometEngine> e, Object listener, Throwable t, String outcome) {
        LOG.log(Level.SEVERE, "comet4j: " + (listener == null ? "an interceptor" : listener.getClass().getName())
                + " failed on " + e.getClass().getSimpleName() + outcome, t);
        if (!(e instanceof ErrorEvent)) {
            fireError(t instanceof Exception ? (Exception) t : new CometException(t));
        }
    }

    /** An ErrorEvent to the ErrorListeners (one that throws is only logged). */
    void fireError(Exception err) {
        if (!hasListener(ErrorEvent.class)) {
            return;
        }
        ErrorEvent ev = new ErrorEvent(this, err);
        fireEvent(ev, (l, t) -> LOG.log(Level.SEVERE, "comet4j: an ErrorListener failed", (Throwable) t));
    }

    // ---- for Commands, Actions, RemoteActions, ApiHandler and the classes above ---------------

    /** The native handle while the engine runs, else null. */
    EngineHandle handle() { return handle; }

    /** One port: the container way's bridge while the engine runs, else null. */
    Bridge bridge() { return bridge; }

    /** The handle, or IllegalStateException naming op (before start, after stop). */
    EngineHandle running(String op) {
        EngineHandle h = handle;
        if (h == null) {
            throw new IllegalStateException(stopped ? "comet4j: " + op + " after the engine was stopped"
                    : "comet4j: " + op + " before the engine was started"
                    + " (is CometAppListener the first listener in web.xml?)");
        }
        return h;
    }

    /** Debug lines are logged: Comet.LogLevel debug, Comet.Debug true, or org.comet4j at FINE ({@link Logs#debug}). */
    boolean isDebugOn() {
        return Logs.debug();
    }

    /** Whether Comet.Hub is Redis on this running engine. */
    boolean isHubRedis() { return hubRedis; }

    /** What this node reads of the hub's maps (the handshake, the admin page's nodes). */
    ClusterMaps cluster() { return cluster; }

    /** Whether page requests go to the hub's action queue (Redis hub, Comet.ListenActions=false). */
    boolean queuesActions() { return queueActions; }

    ChannelOptions channelOptions(String channel) { return channelOptions.get(channel); }

    ActionHandler actionHandler(String route) { return handlers.actionHandler(route); }

    Actions actions() { return actions; }

    /**
     * Fires a decision event (SubscribeEvent, PublishEvent): false if a
     * listener returned false or threw (a refusal fails closed).
     */
    boolean decide(Event<CometEngine> e) {
        return fireEvent(e, (l, t) -> {
            failed(e, l, (Throwable) t, "; refused");
            e.stopEvent();
        });
    }

    /** Native.drop of an id: 0, or ENOCONN / ESTOPPED (nobody holds it, the engine stops). */
    int dropCode(String cid, int code, String reason) { return delivery.dropCode(cid, code, reason); }

    /** Runs the channel's ChannelListeners ({@link Handlers#fireChannel}). */
    void fireChannel(ChannelEvent e) { handlers.fireChannel(e); }

    /** The connection with this id, made (and tracked) if Java has not seen it yet. */
    CometConnection known(String cid) { return connections.known(cid); }

    /** The channels of this node's identity cid, as the core has them (CometConnection.getChannels). */
    List<String> channelsOf(String cid) { return membership.channelsOf(cid); }

    /** Native.subscribe ({@link Delivery#subscribe}): 0 or a negative code. */
    int nativeSubscribe(String cid, String channel, long ackId) { return delivery.subscribe(cid, channel, ackId); }

    /** Native.unsubscribe ({@link Delivery#unsubscribe}): 0 or a negative code. */
    int nativeUnsubscribe(String cid, String channel) { return delivery.unsubscribe(cid, channel); }

    /** One whole frame to one connection; false if it is gone or the engine stopped ({@link Delivery#frame}). */
    boolean sendFrame(String cid, String frameJson) { return delivery.frame(cid, frameJson); }

    /** {"t":"ack","id":id}. */
    void sendAck(String cid, long id) { delivery.ack(cid, id); }

    /** {"t":"err","id":id,"code":code,"message":message}; no id when id < 0 (the command had none). */
    void sendError(String cid, long id, int code, String message) {
        figures.error(code);
        delivery.error(cid, id, code, message);
    }

    /** A request onto the hub's action queue ({@link RemoteActions#enqueue}): 0, or a negative code. */
    int hubAction(String requestJson) { return remoteActions.enqueue(requestJson); }

    /** The core's /api/presence answer ({@link Membership#membersJson}). */
    String membersJson(String channel) { return membership.membersJson(channel); }

    /** The core's /api/online answer, user null: every user ({@link Membership#onlineJson}). */
    String onlineJson(String user) { return membership.onlineJson(user); }

    /** Answers HTTP API request id; false when the engine no longer runs. */
    boolean apiReply(long id, int status, String json) {
        byte[] b = EngineHandle.utf8(json);
        try {
            int rc = running("apiReply").call("apiReply", h -> Native.apiReply(h, id, status, b));
            return rc == 0;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
