package org.comet4j.core;

import static org.comet4j.core.CometProtocol.*;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.comet4j.core.event.ChannelEvent;
import org.comet4j.core.event.PublishEvent;
import org.comet4j.core.event.SubscribeEvent;
import org.comet4j.core.exception.NativeException;
import org.comet4j.core.util.JSONUtil;

/**
 * The client's commands (docs/protocol.md section 7), on the dispatcher
 * thread: each MESSAGE record is parsed (JSONUtil.parse, strict and bounded)
 * and answered with frames addressed to its connection.
 * <ul>
 * <li>{"t":"sub","id","ch"}: registered channel (else 4040), SubscribeListeners
 *     (false → 4030), then Native.subscribe with the id: the core decides,
 *     acks with pos (or refuses: 4290 over C4J_MAX_CHANNELS) and reports it
 *     (a SUB record: the members follow from it, not from here);</li>
 * <li>{"t":"unsub","id","ch"}: Native.unsubscribe, ack;</li>
 * <li>{"t":"pub","id","ch","data"}: registered (4040) and client-writable
 *     (4031) channel, PublishListeners (4030), the channel's ChannelListeners,
 *     then the broadcast (sendToAll, through the core), ack.  A pub of bytes
 *     (docs/protocol.md section 11) comes as a BINARY record (u16 n, the
 *     command's JSON head, the bytes: {@link #handleBinary}) or with
 *     "b64" in place of "data" (over /cmd, or from comet4j-node through
 *     the action queue); its data is then a byte[] for the listeners and
 *     the broadcast is binary;</li>
 * <li>{"t":"req","id","route","params"}: the route's ActionHandler on the
 *     engine's pool (4040 without one), res or err later.  With a Redis hub
 *     and Comet.ListenActions=false it is not run here: it goes to the hub's
 *     action queue as {"t":"req","cId","user","id","route","params"} for a
 *     listening node, which answers the page wherever it is
 *     (RemoteActions.onAction); a request the queue refuses (outbox full while
 *     Redis is away, over 65535 bytes) is answered err 5000 "request not
 *     queued: ..." at once, as comet4j-node answers it.</li>
 * </ul>
 * Anything else, or a frame that is not such an object, gets err 4000.  A
 * command the core cannot take now (Native.subscribe or unsubscribe answer
 * EFULL: the hub's outbox is full while Redis is away; ENOMEM) gets err
 * 5030, retry later.
 *
 * <p>The sub, unsub and pub of a page on comet4j-node come through the hub's
 * action queue ({"t":"sub"|"unsub"|"pub","cId","user","id","ch"[,"data"]})
 * and run here the same way ({@link #run}) for a stand-in of that page
 * ({@link CometConnection#isRemote()}): the core routes Native.subscribe
 * and unsubscribe, acks and errors to the node that holds it, whose core
 * registers the membership.
 */
final class Commands {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    private final CometEngine engine;

    Commands(CometEngine engine) {
        this.engine = engine;
    }

    void handle(String cid, String text) {
        Map<?, ?> m = command(cid, text);
        if (m != null) {
            run((String) m.get("t"), engine.known(cid), (Long) m.get("id"), m);
        }
    }

    /**
     * A page's binary message (docs/protocol.md section 11): u16 n
     * (big-endian), n bytes of a command's JSON head, then the bytes, which
     * become its "data".  Only a pub carries bytes; anything else, or a
     * message that is no such thing, gets err 4000.
     */
    void handleBinary(String cid, byte[] message) {
        int n = message.length >= 2 ? (message[0] & 0xff) << 8 | (message[1] & 0xff) : -1;
        if (n < 2 || n > message.length - 2) {
            engine.sendError(cid, -1, ERR_BAD_COMMAND,
                    "a binary message is a u16 length, a command's JSON head and the bytes");
            return;
        }
        Map<?, ?> head = command(cid, new String(message, 2, n, StandardCharsets.UTF_8));
        if (head == null) {
            return;
        }
        long id = (Long) head.get("id");
        if (!"pub".equals(head.get("t"))) {
            engine.sendError(cid, id, ERR_BAD_COMMAND, "a binary message carries a pub only");
            return;
        }
        if (head.containsKey("data") || head.containsKey("b64")) {
            engine.sendError(cid, id, ERR_BAD_COMMAND, "the bytes of a binary pub are its data");
            return;
        }
        Map<Object, Object> m = new LinkedHashMap<>(head);
        m.put("data", Arrays.copyOfRange(message, 2 + n, message.length));
        run("pub", engine.known(cid), id, m);
    }

    /**
     * A command's JSON object with a String "t" and a Long "id" >= 0, or
     * null once answered err 4000.
     */
    private Map<?, ?> command(String cid, String text) {
        Object v;
        try {
            v = JSONUtil.parse(text);
        } catch (IllegalArgumentException e) {
            engine.figures().command("invalid");
            engine.sendError(cid, -1, ERR_BAD_COMMAND, e.getMessage());
            return null;
        }
        if (!(v instanceof Map)) {
            engine.figures().command("invalid");
            engine.sendError(cid, -1, ERR_BAD_COMMAND, "a command is a JSON object");
            return null;
        }
        Map<?, ?> m = (Map<?, ?>) v;
        Object t = m.get("t");
        Object idv = m.get("id");
        long id = idv instanceof Long ? (Long) idv : -1;
        if (!(t instanceof String)) {
            engine.figures().command("invalid");
            engine.sendError(cid, id, ERR_BAD_COMMAND, "missing \"t\"");
            return null;
        }
        if (id < 0) {
            engine.figures().command("invalid");
            engine.sendError(cid, -1, ERR_BAD_COMMAND, "\"id\" must be an integer >= 0");
            return null;
        }
        return m;
    }

    /**
     * One command t of connection c (this node's, or the stand-in of a page
     * another node holds, {@link CometConnection#isRemote()}: its command
     * came through the hub's action queue, RemoteActions.onAction).
     */
    void run(String t, CometConnection c, long id, Map<?, ?> m) {
        engine.figures().command(t);
        switch (t) {
            case "sub":
                sub(c, id, m);
                break;
            case "unsub":
                unsub(c, id, m);
                break;
            case "pub":
                pub(c, id, m);
                break;
            case "req":
                req(c, id, m);
                break;
            default:
                engine.sendError(c.getId(), id, ERR_BAD_COMMAND, "unknown command \"" + t + "\"");
        }
    }

    /** The command's "ch", or null after answering 4000. */
    private String channel(CometConnection c, long id, Map<?, ?> m) {
        Object ch = m.get("ch");
        if (!(ch instanceof String) || ((String) ch).isEmpty()) {
            engine.sendError(c.getId(), id, ERR_BAD_COMMAND, "missing \"ch\"");
            return null;
        }
        return (String) ch;
    }

    private void sub(CometConnection c, long id, Map<?, ?> m) {
        String ch = channel(c, id, m);
        if (ch == null) {
            return;
        }
        if (engine.channelOptions(ch) == null) {
            engine.sendError(c.getId(), id, ERR_UNKNOWN, "unknown channel " + ch);
            return;
        }
        if (!engine.decide(new SubscribeEvent(engine, c, ch))) {
            engine.sendError(c.getId(), id, ERR_REFUSED, "subscription refused");
            return;
        }
        int rc = engine.nativeSubscribe(c.getId(), ch, id);
        if (rc == NativeException.ENOCONN || rc == NativeException.ESTOPPED) {
            return; // gone meanwhile: nobody to answer
        }
        if (rc < 0) {
            answerNativeError(c, id, rc);
        }
        // else the core acks with pos (on the node that holds the page)
    }

    private void unsub(CometConnection c, long id, Map<?, ?> m) {
        String ch = channel(c, id, m);
        if (ch == null) {
            return;
        }
        if (engine.channelOptions(ch) == null && !c.isSubscribed(ch)) {
            engine.sendError(c.getId(), id, ERR_UNKNOWN, "unknown channel " + ch);
            return;
        }
        int rc = engine.nativeUnsubscribe(c.getId(), ch);
        if (rc == NativeException.ENOCONN || rc == NativeException.ESTOPPED) {
            return;
        }
        if (rc < 0) {
            answerNativeError(c, id, rc);
            return;
        }
        engine.sendAck(c.getId(), id);
    }

    private void pub(CometConnection c, long id, Map<?, ?> m) {
        String ch = channel(c, id, m);
        if (ch == null) {
            return;
        }
        ChannelOptions o = engine.channelOptions(ch);
        if (o == null) {
            engine.sendError(c.getId(), id, ERR_UNKNOWN, "unknown channel " + ch);
            return;
        }
        if (!o.isClientWritable()) {
            engine.sendError(c.getId(), id, ERR_NOT_WRITABLE, "channel " + ch + " is not writable by pages");
            return;
        }
        Object data = m.get("data");
        Object b64 = m.get("b64");
        if (b64 != null) {
            // Bytes over /cmd or through the action queue (docs/protocol.md section 11).
            if (m.containsKey("data") || !(b64 instanceof String)) {
                engine.sendError(c.getId(), id, ERR_BAD_COMMAND, "\"b64\" (a base64 string) or \"data\", not both");
                return;
            }
            try {
                data = Base64.getDecoder().decode((String) b64);
            } catch (IllegalArgumentException e) {
                engine.sendError(c.getId(), id, ERR_BAD_COMMAND, "\"b64\" is not base64: " + e.getMessage());
                return;
            }
        }
        if (!engine.decide(new PublishEvent(engine, c, ch, data))) {
            engine.sendError(c.getId(), id, ERR_REFUSED, "publication refused");
            return;
        }
        engine.fireChannel(new ChannelEvent(engine, ch, data, c));
        try {
            engine.sendToAll(ch, data);
        } catch (NativeException e) {
            if (e.getCode() == NativeException.EFULL) { // kept nowhere: the page may retry
                engine.sendError(c.getId(), id, ERR_BUSY,
                        "the hub's outbox is full (Redis unreachable or slow): retry later");
                return;
            }
            LOG.log(Level.WARNING, "comet4j: publication of " + c.getId() + " on " + ch + " not sent", e);
            engine.sendError(c.getId(), id, ERR_ACTION, String.valueOf(e.getMessage()));
            return;
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "comet4j: publication of " + c.getId() + " on " + ch + " not sent", e);
            engine.sendError(c.getId(), id, ERR_ACTION, String.valueOf(e.getMessage()));
            return;
        }
        engine.sendAck(c.getId(), id);
    }

    private void req(CometConnection c, long id, Map<?, ?> m) {
        Object route = m.get("route");
        if (!(route instanceof String) || ((String) route).isEmpty()) {
            engine.sendError(c.getId(), id, ERR_BAD_COMMAND, "missing \"route\"");
            return;
        }
        if (engine.queuesActions()) {
            queue(c, id, (String) route, m.get("params"));
            return;
        }
        ActionHandler h = engine.actionHandler((String) route);
        Actions a = engine.actions();
        if (h == null || a == null) {
            engine.sendError(c.getId(), id, ERR_UNKNOWN, "unknown route " + route);
            return;
        }
        a.run(h, new ActionRequest((String) route, m.get("params"), c, id));
    }

    /** A request for the hub's action queue; only a refusal is answered here. */
    private void queue(CometConnection c, long id, String route, Object params) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("t", "req");
        r.put("cId", c.getId());
        r.put("user", c.getUser());
        r.put("id", id);
        r.put("route", route);
        r.put("params", params);
        int rc = engine.hubAction(JSONUtil.object2json(r));
        if (rc >= 0 || rc == NativeException.ESTOPPED) {
            return;
        }
        String why = Errors.exception("hubAction", rc).getMessage();
        LOG.warning("comet4j: req from " + c.getId() + " not queued: " + why);
        engine.sendError(c.getId(), id, ERR_ACTION, "request not queued: " + why);
    }

    /**
     * A (un)subscription the core did not take.  4290 is not among these:
     * only the core answers it, once it has the page's C4J_MAX_CHANNELS.
     */
    private void answerNativeError(CometConnection c, long id, int rc) {
        if (rc == NativeException.EFULL) {
            engine.sendError(c.getId(), id, ERR_BUSY,
                    "the hub's outbox is full (Redis unreachable): retry later");
        } else if (rc == NativeException.ENOMEM) {
            engine.sendError(c.getId(), id, ERR_BUSY, "out of memory: retry later");
        } else if (rc == NativeException.EBADNAME) {
            engine.sendError(c.getId(), id, ERR_BAD_COMMAND, "invalid channel name");
        } else {
            engine.sendError(c.getId(), id, ERR_ACTION, Errors.exception("command", rc).getMessage());
        }
    }
}
