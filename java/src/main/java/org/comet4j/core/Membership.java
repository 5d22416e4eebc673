package org.comet4j.core;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.logging.Logger;

import org.comet4j.core.event.PresenceEvent;
import org.comet4j.core.exception.NativeException;
import org.comet4j.core.util.JSONUtil;

/**
 * Who is here, as the core knows it (c4j.h, "Who is here"): the core
 * registers every identity it holds (attached, between long-polls or
 * dying) with its user and its channels as its workers decide them, and
 * this class only asks it.  There is no index here: getConnections(channel),
 * getMembers, getMemberCount, isOnline, getOnlineCount, getUserConnections,
 * CometConnection.getChannels() and the HTTP API's online and presence
 * answers are the core's, its ids mapped to this node's CometConnection
 * objects ({@link Connections}) where the API hands out objects.  With a
 * Redis hub, the members of a presence channel and who is online are the
 * cluster's (the hub's maps, which every node's core writes; up to
 * {@value #CLUSTER_TIMEOUT_MS} ms, then this node's own and one warning
 * from the core).
 *
 * <p>Presence: the engine marks every channel registered with presence in
 * the core ({@link #markPresence}), which from then on sends the channel's
 * pages {"t":"join"|"leave"} frames on every node and keeps the channel's
 * presence map; this class turns the core's SUB records of such a channel
 * into PresenceEvents ({@link #onSubscribed}), in the order the core reports
 * them (joins after the ConnectEvent, leaves before BeforeDrop and Drop).
 */
final class Membership {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    /** How long a question of the cluster's maps waits for Redis. */
    static final int CLUSTER_TIMEOUT_MS = 500;

    /** One question of the core: a JSON text, or null with rc[0] the code. */
    private interface Question {
        byte[] ask(long handle, int[] rc);
    }

    private final CometEngine engine;
    private final Map<String, ChannelOptions> channelOptions;
    private final Connections connections;

    /** channelOptions: the registered channels (which are presence channels), read live. */
    Membership(CometEngine engine, Map<String, ChannelOptions> channelOptions, Connections connections) {
        this.engine = engine;
        this.channelOptions = channelOptions;
        this.connections = connections;
    }

    // ---- the channels' members ---------------------------------------------------------

    /** This node's connections subscribed to channel (alive and dying), as the core has them. */
    List<CometConnection> connections(String channel) {
        List<CometConnection> out = new ArrayList<>();
        for (String id : membersOf(channel, false).keySet()) {
            CometConnection c = connections.get(id);
            if (c != null) { // else its CONNECT record is not handled yet
                out.add(c);
            }
        }
        return out;
    }

    /**
     * Connection id → user (null when anonymous), sorted by id: for a
     * presence channel with a Redis hub the cluster's, else this node's.
     */
    Map<String, String> members(String channel) {
        return membersOf(channel, isPresenceChannel(channel));
    }

    /** How many are subscribed: for a presence channel with a Redis hub, in the cluster. */
    int count(String channel) {
        EngineHandle h = engine.handle();
        if (channel == null || channel.isEmpty() || h == null) {
            return 0;
        }
        byte[] ch = EngineHandle.utf8(channel);
        int cluster = isPresenceChannel(channel) ? 1 : 0;
        int rc;
        try {
            rc = h.call("memberCount", a -> Native.memberCount(a, ch, cluster, CLUSTER_TIMEOUT_MS));
        } catch (IllegalStateException e) { // closed meanwhile
            return 0;
        }
        return quiet(rc) ? 0 : Errors.check("memberCount(" + channel + ")", rc);
    }

    /** The HTTP API's /api/presence answer: the core's JSON as it gives it. */
    String membersJson(String channel) {
        byte[] ch = EngineHandle.utf8(channel);
        int cluster = isPresenceChannel(channel) ? 1 : 0;
        return answer("members(" + channel + ")",
                (a, rc) -> Native.members(a, ch, cluster, CLUSTER_TIMEOUT_MS, rc));
    }

    private Map<String, String> membersOf(String channel, boolean cluster) {
        Map<String, String> out = new TreeMap<>();
        if (channel == null || channel.isEmpty()) {
            return out;
        }
        byte[] ch = EngineHandle.utf8(channel);
        Object m = question("members(" + channel + ")",
                (a, rc) -> Native.members(a, ch, cluster ? 1 : 0, CLUSTER_TIMEOUT_MS, rc));
        Object list = m instanceof Map ? ((Map<?, ?>) m).get("members") : null;
        if (list instanceof List) {
            for (Object o : (List<?>) list) {
                Map<?, ?> e = (Map<?, ?>) o;
                Object u = e.get("user");
                out.put((String) e.get("cId"), u instanceof String ? (String) u : null);
            }
        }
        return out;
    }

    // ---- users ---------------------------------------------------------------------------------

    /** Whether the user has an identity (alive or dying): with a Redis hub, on any node. */
    boolean online(String user) {
        if (user == null || user.isEmpty()) {
            return false;
        }
        return Boolean.TRUE.equals(field(onlineOf(user), "online"));
    }

    /** Distinct users (anonymous identities not counted): with a Redis hub, the cluster's. */
    int onlineCount() {
        Object n = field(onlineOf(null), "users");
        return n instanceof Long ? (int) (long) (Long) n : 0;
    }

    /** The HTTP API's /api/online answer (user null: every user): the core's JSON as it gives it. */
    String onlineJson(String user) {
        byte[] u = user == null ? null : EngineHandle.utf8(user);
        return answer("online", (a, rc) -> Native.online(a, u, 1, CLUSTER_TIMEOUT_MS, rc));
    }

    private Object onlineOf(String user) {
        byte[] u = user == null ? null : EngineHandle.utf8(user);
        return question("online", (a, rc) -> Native.online(a, u, 1, CLUSTER_TIMEOUT_MS, rc));
    }

    /** This node's connections of a user (possibly empty). */
    List<CometConnection> userConnections(String user) {
        List<CometConnection> out = new ArrayList<>();
        if (user == null || user.isEmpty()) {
            return out;
        }
        byte[] u = EngineHandle.utf8(user);
        Object ids = question("userIdentities", (a, rc) -> Native.userIdentities(a, u, rc));
        if (ids instanceof List) {
            for (Object id : (List<?>) ids) {
                CometConnection c = connections.get((String) id);
                if (c != null) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    /** The channels of this node's identity cid (empty when the core does not hold it). */
    List<String> channelsOf(String cid) {
        List<String> out = new ArrayList<>();
        byte[] id = EngineHandle.utf8(cid);
        Object chs = field(question("identity", (a, rc) -> Native.identity(a, id, rc)), "channels");
        if (chs instanceof List) {
            for (Object ch : (List<?>) chs) {
                out.add((String) ch);
            }
        }
        return out;
    }

    // ---- presence -------------------------------------------------------------------------

    boolean isPresenceChannel(String channel) {
        ChannelOptions o = channel == null ? null : channelOptions.get(channel);
        return o != null && o.isPresence();
    }

    /**
     * Marks channel a presence channel in the running core (the engine does
     * it for every presence channel at start, and CometContext for one
     * registered later); a refusal (a name the core does not take) is
     * logged: the channel has no presence.
     */
    void markPresence(String channel) {
        EngineHandle h = engine.handle();
        if (h == null) {
            return; // the start marks it
        }
        byte[] ch = EngineHandle.utf8(channel);
        int rc;
        try {
            rc = h.call("channelPresence", a -> Native.channelPresence(a, ch, 1));
        } catch (IllegalStateException e) {
            return;
        }
        if (rc < 0 && rc != NativeException.ESTOPPED) {
            LOG.warning("comet4j: " + Errors.exception("channelPresence(" + channel + ")", rc).getMessage()
                    + ": the channel has no presence");
        }
    }

    /**
     * A SUB record: the core decided cid's subscription to channel.  On a
     * presence channel a done subscription is a join, an unsubscription a
     * leave: a PresenceEvent.  A refusal (code 4290, 5030) changes nothing.
     */
    void onSubscribed(String cid, String channel, boolean subscribed, int code) {
        if (code != 0) {
            if (engine.isDebugOn()) {
                LOG.info("comet4j: the core refused " + cid + " on " + channel + " (" + code + ")");
            }
            return;
        }
        if (isPresenceChannel(channel)) {
            engine.fire(new PresenceEvent(engine, channel, connections.known(cid), subscribed));
        }
    }

    // ---- asking the core ------------------------------------------------------------------

    /** What the core's answer holds under name, or null. */
    private static Object field(Object answer, String name) {
        return answer instanceof Map ? ((Map<?, ?>) answer).get(name) : null;
    }

    /**
     * The core's answer, parsed; null when the engine is not running, and for
     * the codes that mean "nobody" ({@link #quiet}).  Any other code throws.
     */
    private Object question(String op, Question q) {
        int[] rc = new int[1];
        String json = ask(op, q, rc);
        if (json == null) {
            if (quiet(rc[0])) {
                return null;
            }
            throw Errors.exception(op, rc[0]);
        }
        return JSONUtil.parse(json, Integer.MAX_VALUE);
    }

    /** The core's answer as it gives it; any code (engine stopped: ESTOPPED) throws. */
    private String answer(String op, Question q) {
        int[] rc = new int[1];
        String json = ask(op, q, rc);
        if (json == null) {
            throw Errors.exception(op, rc[0]);
        }
        return json;
    }

    /** The answer's text, or null with rc[0] the code (ESTOPPED when the engine does not run). */
    private String ask(String op, Question q, int[] rc) {
        EngineHandle h = engine.handle();
        byte[] json = null;
        if (h != null) {
            try {
                json = h.get(op, a -> q.ask(a, rc));
            } catch (IllegalStateException e) { // closed meanwhile
                json = null;
            }
        }
        if (json == null && rc[0] >= 0) {
            rc[0] = NativeException.ESTOPPED; // not asked: not running, or stopping
        }
        return json == null ? null : new String(json, StandardCharsets.UTF_8);
    }

    /** Codes that mean "nobody here": the engine stops, a name nobody can have, an id not held. */
    private static boolean quiet(int rc) {
        return rc == NativeException.ESTOPPED || rc == NativeException.EBADNAME || rc == NativeException.ENOCONN;
    }
}
