package org.comet4j.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * One client attached to the native port, as the application sees it: its
 * id (the cId of the handshake), address, user, transport, state and a
 * snapshot of its handshake request.  The socket itself lives in the C core;
 * this object only describes it.  Created by the engine's dispatcher when the
 * core reports the attach; never by applications.
 *
 * <p><b>A page on another node</b> ({@link #isRemote()}): with a Redis hub, a
 * page held by another node (a comet4j-node, say) sends its sub, unsub and
 * pub through the hub's action queue (docs/protocol.md section 9), and this
 * node's SubscribeListeners, PublishListeners and ChannelListeners decide
 * on them.  Their event's connection is then a stand-in made for that one
 * command: only {@link #getId()} and {@link #getUser()} are meaningful;
 * {@link #getState()} is "alive" (it just sent a command),
 * {@link #getWorkStyle()}, {@link #getClientIp()} and {@link #getRequest()}
 * are null, {@link #getClientPort()} 0, the headers and parameters empty,
 * {@link #getChannels()} empty (its subscriptions live on its node), and
 * {@link #getConnectTime()} is when the stand-in was made.  Use the id to
 * address it ({@link CometEngine#sendToConnection}); this node's
 * getConnections() never lists it.
 */
public class CometConnection {

    private final String id;
    private volatile String clientIp;
    private volatile int clientPort;
    private final String user;
    private volatile String workStyle;
    private final RequestSnapshot request;
    private final long connectTime = System.currentTimeMillis();
    private volatile String state = CometProtocol.STATE_ALIVE;
    private final boolean remote;
    /** Asked for the channels (the core holds them); null for a stand-in. */
    private final CometEngine engine;

    CometConnection(CometEngine engine, String id, String clientIp, int clientPort, String user,
                    String workStyle, RequestSnapshot request) {
        this(engine, id, clientIp, clientPort, user, workStyle, request, false);
    }

    private CometConnection(CometEngine engine, String id, String clientIp, int clientPort, String user,
                            String workStyle, RequestSnapshot request, boolean remote) {
        this.engine = engine;
        this.remote = remote;
        this.id = id;
        this.clientIp = clientIp;
        this.clientPort = clientPort;
        this.user = user;
        this.workStyle = workStyle;
        this.request = request;
    }

    /** The stand-in for a page another node holds (see the class comment): its id and user only. */
    static CometConnection remote(String id, String user) {
        return new CometConnection(null, id, null, 0, user, null, null, true);
    }

    /**
     * True for the stand-in of a page held by another node of the hub (its
     * command came through the hub's action queue; see the class comment):
     * only the id and the user are meaningful.
     */
    public boolean isRemote() {
        return remote;
    }

    /** The connection id (22 URL-safe characters). */
    public String getId() {
        return id;
    }

    /** The client's address as the native port saw it (of the latest attach). */
    public String getClientIp() {
        return clientIp;
    }

    /** The client's port as the native port saw it (of the latest attach). */
    public int getClientPort() {
        return clientPort;
    }

    /**
     * The ticket's subject: the user a BeforeConnectListener set
     * (BeforeConnectEvent.setUser), else the handshake's principal name, or null.
     */
    public String getUser() {
        return user;
    }

    /**
     * The current transport: "websocket", "stream" (SSE) or "lpool" (long
     * polling).  A connection revived over another transport reports the new one.
     */
    public String getWorkStyle() {
        return workStyle;
    }

    /**
     * {@link CometProtocol#STATE_ALIVE}; {@link CometProtocol#STATE_DYING}
     * while its transport is lost and it waits up to Comet.ConnExpires ms to
     * be revived; {@link CometProtocol#STATE_DROPPED} once closed.
     */
    public String getState() {
        return state;
    }

    void setState(String state) {
        this.state = state;
    }

    /** A new transport attached under this id: alive again, with its address and work style. */
    void revive(String clientIp, int clientPort, String workStyle) {
        this.clientIp = clientIp;
        this.clientPort = clientPort;
        this.workStyle = workStyle;
        this.state = CometProtocol.STATE_ALIVE;
    }

    /** When the connection first attached (a revival keeps it), ms since the epoch. */
    public long getConnectTime() {
        return connectTime;
    }

    /**
     * A snapshot of the handshake request ({@link RequestSnapshot}): headers,
     * cookies, parameters, principal, session id stay readable for the life
     * of the connection.  Null if the ticket was minted outside this servlet,
     * and for a page on another node ({@link #isRemote()}).
     */
    public HttpServletRequest getRequest() {
        return request;
    }

    /** One header of the handshake request (case-insensitive), or null (also without a request). */
    public String getHeader(String name) {
        return request == null ? null : request.getHeader(name);
    }

    /**
     * Every header of the handshake request, by its name as sent, with all
     * its values; empty without a request.
     */
    public Map<String, List<String>> getHeaders() {
        if (request == null) {
            return Collections.emptyMap();
        }
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Enumeration<String> n = request.getHeaderNames(); n.hasMoreElements();) {
            String name = n.nextElement();
            out.put(name, Collections.list(request.getHeaders(name)));
        }
        return Collections.unmodifiableMap(out);
    }

    /** A query (or form) parameter of the handshake request, or null. */
    public String getParameter(String name) {
        return request == null ? null : request.getParameter(name);
    }

    /** The handshake request's parameters (each with all its values); empty without a request. */
    public Map<String, String[]> getParameters() {
        return request == null ? Collections.emptyMap() : request.getParameterMap();
    }

    /**
     * The channels this connection is subscribed to, as the core has them
     * now (a copy): the ticket's, then every subscription the core made and
     * every unsubscription, kept while it is dying; empty once dropped, and
     * for a page on another node.
     */
    public List<String> getChannels() {
        return remote || engine == null ? new ArrayList<>() : engine.channelsOf(id);
    }

    /** True if the core has this connection subscribed to the channel ({@link #getChannels()}). */
    public boolean isSubscribed(String channel) {
        return channel != null && getChannels().contains(channel);
    }

    /**
     * Always null: the connection is held by the native core, not by a
     * servlet response.  Kept so Comet4J code compiles.
     * @deprecated use CometEngine.sendTo
     */
    @Deprecated
    public HttpServletResponse getResponse() {
        return null;
    }

    @Override
    public String toString() {
        return "CometConnection[" + id + (remote ? " remote" : " " + clientIp + ":" + clientPort) + " " + state + "]";
    }
}
