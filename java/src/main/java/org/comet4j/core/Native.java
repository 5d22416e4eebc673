package org.comet4j.core;

import java.nio.ByteBuffer;

/**
 * The JNI bridge to libcomet4j.so, and nothing else: one native method per
 * call of native/include/c4j.h, paired with native/src/jni.c.  Only
 * primitives, byte arrays (UTF-8) and a direct buffer cross the boundary.
 * Methods return a negative code on failure; {@link #strerror(int)} names it.
 * Internal: applications use CometEngine.
 */
final class Native {
    private Native() {}

    /**
     * Validates the configuration and allocates an engine; tlsCert and
     * tlsKey (PEM paths, both or null) are read and checked here.
     * @return a handle (> 0), or a negative code; on -1000 (invalid
     *         configuration) {@link #configError()} names the field.
     */
    static native long engineNew(String host, int port, int threads, byte[] secret,
                                 int heartbeatMs, int idleTimeoutMs, int holdMs, int maxHeader,
                                 int maxFrame, int maxMessage, int maxQueue,
                                 int maxConns, String allowedOrigins,
                                 int connExpiresMs, int historySize, int historyAgeMs,
                                 String apiKey, String hub, String hubPrefix,
                                 int listenActions, int handshakeTimeoutMs,
                                 int maxPendingPerAddr, String tlsCert, String tlsKey,
                                 String metrics, int hubOutboxRecords,
                                 int hubOutboxBytes, int hubCatchUpRecords,
                                 int hubCatchUpBytes, int deflate);

    static native String configError();

    /** Binds and starts the workers; 0 or a negative code. */
    static native int engineStart(long h);

    /** The bound port, or -1. */
    static native int enginePort(long h);

    /** Closes everything and joins the workers; idempotent. */
    static native int engineStop(long h);

    /** Frees a stopped engine; the handle is invalid afterwards. */
    static native void engineFree(long h);

    /** {@link #send}'s kinds: to every page of a channel, to one connection, to a user's. */
    static final int TO_ALL = 0, TO_ID = 1, TO_USER = 2;
    /** Added to a kind: the data is bytes, a binary message (docs/protocol.md section 11):
     *  a binary frame on WebSocket, base64 on SSE and long-poll. */
    static final int BINARY = 4;

    /**
     * One message, all in buf (a {@link SendBuffer}'s array): the data, its
     * first dataLen bytes (JSON in UTF-8, or with BINARY the bytes), then
     * the channel (channelLen bytes), then the connection id or user
     * (whoLen bytes, none for TO_ALL): c4j_send_all, c4j_send_to,
     * c4j_send_user or their _binary forms as kind says.  The core copies
     * what it keeps before returning.  0 or a negative code (-22 when the
     * lengths do not fit the array).
     */
    static native int send(long h, int kind, byte[] buf, int dataLen, int channelLen, int whoLen,
                           long timeMs);

    static native int drop(long h, byte[] cid, int code, String reason);

    /**
     * Subscribes a connection (by id, on whichever worker holds it) to a
     * channel; when ackId >= 0 the core then sends it {"t":"ack","id":ackId,
     * "pos":{channel:[epoch, offset]}}.
     */
    static native int subscribe(long h, byte[] cid, byte[] channel, long ackId);

    static native int unsubscribe(long h, byte[] cid, byte[] channel);

    /** Sends one whole frame (a JSON object, e.g. a command's answer) to one connection. */
    static native int sendFrame(long h, byte[] cid, byte[] frameJson);

    /** A new random connection id (22 URL-safe characters). */
    static native String newId();

    /** Signs claims (a JSON object) into an HS256 JWT with the engine's secret, or null. */
    static native String ticket(long h, byte[] claimsJson);

    /**
     * Blocks up to timeoutMs and fills buf (direct, little-endian records, see
     * c4j.h) from position 0.  Returns bytes written, 0 on timeout, or -1008
     * once the engine has stopped and all events were read.
     */
    static native int poll(long h, ByteBuffer buf, int timeoutMs);

    /** Fills out with c4j_stats_t's fields in order. */
    static native void stats(long h, long[] out);

    /** c4j_metrics_text with extra (UTF-8, may be null) appended: the UTF-8 text, or null when out of memory. */
    static native byte[] metricsText(long h, byte[] extra);

    /** Answers HTTP API request id (event 7) with status and a JSON body; 0 once queued. */
    static native int apiReply(long h, long id, int status, byte[] json);

    static native String strerror(int code);

    /** One whole frame to every page subscribed to channel, on every node
     *  (c4j_send_channel_frame); 0 or a negative code. */
    static native int sendChannelFrame(long h, byte[] channel, byte[] frameJson);

    /** Queues an action request (a JSON object) for one node with
     *  Comet.ListenActions (c4j_hub_action); 0 or a negative code. */
    static native int hubAction(long h, byte[] json);

    /** The action request json (the bytes of its ACTION event) has run and
     *  been answered: it leaves this node's taken list (c4j_hub_action_done). */
    static native int hubActionDone(long h, byte[] json);

    /** Sets field of the cluster-wide map key to value (a JSON value), or
     *  removes it when value is null (c4j_hub_set). */
    static native int hubSet(long h, byte[] key, byte[] field, byte[] value);

    /** The cluster-wide map key as a UTF-8 JSON object, or null with rc[0]
     *  the negative code (c4j_hub_get). */
    static native byte[] hubGet(long h, byte[] key, int timeoutMs, int[] rc);

    /** The cluster's nodes as Redis holds them, a UTF-8 JSON array of
     *  {id, heartbeat, alive, self}, or null with rc[0] the negative code
     *  (c4j_hub_nodes). */
    static native byte[] hubNodes(long h, int timeoutMs, int[] rc);

    // ---- who is here (the core's one model of membership, c4j.h) -------------
    // Each answer is a new UTF-8 JSON text, or null with rc[0] the negative
    // code (rc[0] is 0 on success); the buffer grows while it does not fit.

    /** {"channel","count","members":[{"cId","user"},...]} sorted by cId;
     *  cluster 1: the cluster's presence map with a Redis hub (c4j_members). */
    static native byte[] members(long h, byte[] channel, int cluster, int timeoutMs, int[] rc);

    /** How many identities are subscribed to channel, or a negative code (c4j_member_count). */
    static native int memberCount(long h, byte[] channel, int cluster, int timeoutMs);

    /** user null: {"users","connections"}; else {"user","online","connections"} (c4j_online). */
    static native byte[] online(long h, byte[] user, int cluster, int timeoutMs, int[] rc);

    /** This node's identity cid: {"cId","user","channels":[...]}; rc[0] -1002 when
     *  not held (c4j_identity). */
    static native byte[] identity(long h, byte[] cid, int[] rc);

    /** The ids of user's identities on this node: ["id",...] (c4j_user_identities). */
    static native byte[] userIdentities(long h, byte[] user, int[] rc);

    /** Marks channel a presence channel (on 1) or not (0): the core sends its
     *  join/leave frames and keeps its presence map (c4j_channel_presence). */
    static native int channelPresence(long h, byte[] channel, int on);

    // ---- one port: sockets taken over from the servlet container (Takeover) ----

    /** SocketChannelImpl.fdVal of a JDK socket channel, read from C; -1 if it has none. */
    static native int socketFd(Object channel);

    /** EPollSelectorImpl.epfd of a JDK selector, read from C; -1 if it has none. */
    static native int selectorFd(Object selector);

    /** 1 when fd's peer is ip:port and its local port localPort (c4j_takeover_peer_ok), else 0. */
    static native int takeoverPeerOk(int fd, String ip, int port, int localPort);

    /** c4j_takeover_detach: (newFd &lt;&lt; 32) | sink, or -errno with nothing changed. */
    static native long takeoverDetach(int fd, int epfd);

    /** c4j_adopt: the core owns fd and sink from this call on, whatever it returns. */
    static native int adopt(long h, int fd, int sink, byte[] bytes);
}
