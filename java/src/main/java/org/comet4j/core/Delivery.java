package org.comet4j.core;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

import org.comet4j.core.event.MessageEvent;
import org.comet4j.core.exception.NativeException;
import org.comet4j.core.util.JSONUtil;

/**
 * What this node hands the core to deliver to pages: the engine's sendTo,
 * sendToAll, sendToUser and sendToConnection (the data serialized once by
 * JSONUtil, or, when it is a byte[], handed over as bytes: a binary
 * message, docs/protocol.md section 11; then the MessageEvents
 * CometEngine's class comment tells, with the data as given),
 * (un)subscriptions, a whole frame to one page (the answers to its
 * commands: ack, err, res) and drops.  Each call only enqueues: the core frames a message once and fans
 * it out, here or, with a Redis hub, on whichever node holds the
 * connection.  A connection that closed a moment ago is not an error
 * (Comet4J did not fail either), nor is a send while the engine stops; any
 * other code throws, and for a frame is logged (answers race with drops).
 */
final class Delivery {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    private static final int CLOSE_IDLE_TIMEOUT = 4002;

    private final CometEngine engine;
    private final Connections connections;

    Delivery(CometEngine engine, Connections connections) {
        this.engine = engine;
        this.connections = connections;
    }

    // ---- messages (CometEngine's sendTo*, with their MessageEvents) ----------------------

    /**
     * What a send hands the core ({@link SendBuffer}, one JNI call): the
     * bytes themselves when data is a byte[] (a binary message), else its
     * JSON (UTF-8); the channel; who.  Each send to a list reuses the
     * encoded data and channel.
     */
    void sendTo(String channel, CometConnection c, Object data) {
        checkChannel(channel);
        if (c == null) {
            throw new NullPointerException("connection");
        }
        SendBuffer b = SendBuffer.take();
        try {
            boolean binary = data instanceof byte[];
            b.data(data, binary, channel);
            sendData(channel, c.getId(), binary, b);
        } finally {
            b.release();
        }
        fireMessage(c, data, channel);
    }

    void sendTo(String channel, List<CometConnection> list, Object data) {
        checkChannel(channel);
        if (list.isEmpty()) {
            return;
        }
        SendBuffer b = SendBuffer.take();
        try {
            boolean binary = data instanceof byte[];
            b.data(data, binary, channel);
            for (CometConnection c : list) {
                sendData(channel, c.getId(), binary, b);
            }
        } finally {
            b.release();
        }
        for (CometConnection c : list) {
            fireMessage(c, data, channel);
        }
    }

    void sendToAll(String channel, Object data) {
        checkChannel(channel);
        SendBuffer b = SendBuffer.take();
        int rc;
        try {
            boolean binary = data instanceof byte[];
            b.data(data, binary, channel);
            rc = engine.running("sendToAll").send("sendToAll", Native.TO_ALL | (binary ? Native.BINARY : 0), b, 0);
        } finally {
            b.release();
        }
        if (rc == NativeException.ESTOPPED) {
            return; // the engine is stopping: every connection is closing anyway
        }
        check("sendToAll(" + channel + ")", rc);
        if (engine.hasListener(MessageEvent.class)) {
            for (CometConnection c : connections.all()) {
                fireMessage(c, data, channel);
            }
        }
    }

    void sendToUser(String userId, String channel, Object data) {
        checkChannel(channel);
        if (userId == null || userId.isEmpty()) {
            throw new IllegalArgumentException("comet4j: user must not be empty");
        }
        SendBuffer b = SendBuffer.take();
        int rc;
        try {
            boolean binary = data instanceof byte[];
            b.data(data, binary, channel);
            b.who(userId);
            rc = engine.running("sendToUser").send("sendToUser", Native.TO_USER | (binary ? Native.BINARY : 0), b, 0);
        } finally {
            b.release();
        }
        if (rc == NativeException.ENOCONN || rc == NativeException.ESTOPPED) {
            return;
        }
        check("sendToUser(" + userId + ", " + channel + ")", rc);
        if (engine.hasListener(MessageEvent.class)) {
            for (CometConnection c : engine.getUserConnections(userId)) {
                fireMessage(c, data, channel);
            }
        }
    }

    /** To one connection by its id, wherever it is; no MessageEvent. */
    void sendToConnection(String connectionId, String channel, Object data) {
        checkChannel(channel);
        if (connectionId == null || connectionId.isEmpty()) {
            throw new IllegalArgumentException("comet4j: connection id must not be empty");
        }
        SendBuffer b = SendBuffer.take();
        try {
            boolean binary = data instanceof byte[];
            b.data(data, binary, channel);
            sendData(channel, connectionId, binary, b);
        } finally {
            b.release();
        }
    }

    static void checkChannel(String channel) {
        if (channel == null || channel.isEmpty()) {
            throw new IllegalArgumentException("comet4j: channel must not be empty");
        }
    }

    private void fireMessage(CometConnection c, Object data, String channel) {
        if (engine.hasListener(MessageEvent.class)) {
            engine.fireEvent(new MessageEvent(engine, c, new CometMessage(data, channel)));
        }
    }

    /** Native.send to connection cid, wherever it is, of the data and channel in b. */
    private void sendData(String channel, String cid, boolean binary, SendBuffer b) {
        b.who(cid);
        int rc = engine.running("sendTo").send("sendTo", Native.TO_ID | (binary ? Native.BINARY : 0), b, 0);
        // A connection that closed a moment ago is not an error (Comet4J did not
        // fail either), nor is a send while the engine stops.
        if (rc == NativeException.ENOCONN || rc == NativeException.ESTOPPED) {
            LOG.fine("comet4j: sendTo(" + cid + "): connection gone");
            return;
        }
        check("sendTo(" + channel + ", " + cid + ")", rc);
    }

    /** What the core answers a send when the hub's outbox cannot take it. */
    static final String OUTBOX_FULL = "the hub's outbox is full: Redis is unreachable or slow"
            + " (Comet.HubOutboxRecords, Comet.HubOutboxBytes); not sent, retry later";

    /** Errors.check, with the reason of a full outbox spelled out (EFULL). */
    private static void check(String op, int rc) {
        if (rc == NativeException.EFULL) {
            throw new NativeException(op + ": " + OUTBOX_FULL + " (" + rc + ")", rc);
        }
        Errors.check(op, rc);
    }

    // ---- subscriptions, drops and frames ----------------------------------------------------

    /**
     * Native.subscribe: cid (on whichever node holds it) gets channel's
     * messages from now on; ackId >= 0: the core acks the page's command.
     * @return 0 or a negative code (ENOCONN, ESTOPPED, ...)
     */
    int subscribe(String cid, String channel, long ackId) {
        byte[] id = EngineHandle.utf8(cid);
        byte[] ch = EngineHandle.utf8(channel);
        return engine.running("subscribe").call("subscribe", h -> Native.subscribe(h, id, ch, ackId));
    }

    /** Native.unsubscribe: 0 or a negative code. */
    int unsubscribe(String cid, String channel) {
        byte[] id = EngineHandle.utf8(cid);
        byte[] ch = EngineHandle.utf8(channel);
        return engine.running("unsubscribe").call("unsubscribe", h -> Native.unsubscribe(h, id, ch));
    }

    /** @throws IllegalArgumentException for 4002, 4004 and 4005 (the core's own) */
    void drop(CometConnection c, int code, String reason) {
        dropId(c.getId(), code, reason);
    }

    /** Closes a connection by its id, wherever it is; an id nobody holds is ignored. */
    void dropConnection(String connectionId, int code, String reason) {
        if (connectionId == null || connectionId.isEmpty()) {
            throw new IllegalArgumentException("comet4j: connection id must not be empty");
        }
        dropId(connectionId, code, reason);
    }

    /** Native.drop: 0, or ENOCONN / ESTOPPED (nobody holds the id, the engine stops); other codes throw. */
    int dropCode(String connectionId, int code, String reason) {
        byte[] cid = EngineHandle.utf8(connectionId);
        String r = reason == null ? "" : reason;
        EngineHandle h = engine.handle();
        if (h == null) {
            return NativeException.ESTOPPED;
        }
        int rc;
        try {
            rc = h.call("drop", a -> Native.drop(a, cid, code, r));
        } catch (IllegalStateException e) { // closed meanwhile
            return NativeException.ESTOPPED;
        }
        if (rc != 0 && rc != NativeException.ENOCONN && rc != NativeException.ESTOPPED) {
            Errors.check("drop(" + connectionId + ")", rc);
        }
        return rc;
    }

    private void dropId(String connectionId, int code, String reason) {
        if (code == CLOSE_IDLE_TIMEOUT || code == CometProtocol.CLOSE_REPLACED || code == CometProtocol.CLOSE_EXPIRED) {
            throw new IllegalArgumentException("comet4j: close code " + code + " is reserved for the core");
        }
        byte[] cid = EngineHandle.utf8(connectionId);
        String r = reason == null ? "" : reason;
        int rc = engine.running("drop").call("drop", h -> Native.drop(h, cid, code, r));
        if (rc != NativeException.ENOCONN && rc != NativeException.ESTOPPED) {
            Errors.check("drop(" + connectionId + ")", rc);
        }
    }

    /**
     * Sends one whole frame to one connection; false if it is gone or the
     * engine stopped (never throws for those: answers race with drops).
     */
    boolean frame(String cid, String frameJson) {
        byte[] frame = EngineHandle.utf8(frameJson);
        EngineHandle h = engine.handle();
        if (h == null) {
            return false;
        }
        byte[] id = EngineHandle.utf8(cid);
        int rc;
        try {
            rc = h.call("sendFrame", a -> Native.sendFrame(a, id, frame));
        } catch (IllegalStateException e) { // closed meanwhile
            return false;
        }
        if (rc == NativeException.ENOCONN || rc == NativeException.ESTOPPED) {
            return false;
        }
        if (rc < 0) {
            LOG.warning("comet4j: " + Errors.exception("sendFrame(" + cid + ")", rc).getMessage());
            return false;
        }
        return true;
    }

    /** {"t":"ack","id":id}. */
    void ack(String cid, long id) {
        frame(cid, "{\"t\":\"ack\",\"id\":" + id + "}");
    }

    /** {"t":"err","id":id,"code":code,"message":message}; no id when id < 0 (the command had none). */
    void error(String cid, long id, int code, String message) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("t", "err");
        if (id >= 0) {
            f.put("id", id);
        }
        f.put("code", code);
        f.put("message", message == null ? "" : message);
        frame(cid, JSONUtil.object2json(f));
        if (engine.isDebugOn()) {
            LOG.info("comet4j: err " + code + " to " + cid + ": " + message);
        }
    }
}
