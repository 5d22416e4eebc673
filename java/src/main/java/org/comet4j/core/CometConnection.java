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
    private volatile long dyingTime;
    /**
     * The client's address, compact: IPV4 | the IPv4 address << 16 | the
     * port; or, for any other address (IPv6, null), the port alone with the
     * address in {@link #otherIp}, written before this field.
     */
    private volatile long address;
    private volatile String otherIp;
    private final String user;
    private volatile String workStyle;
    private volatile HttpServletRequest request;
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
                            String workStyle, HttpServletRequest request, boolean remote) {
        this.engine = engine;
        this.remote = remote;
        this.id = id;
        setAddress(clientIp, clientPort);
        this.user = user;
        this.workStyle = workStyle;
        this.request = request;
    }

    /**
     * Comet4J's constructor: a connection object for a request, with a new
     * id, the client's address (NetUtil.getIpAddr), the work style
     * Comet.WorkStyle names and a snapshot of the request.  It is not held
     * by the core and in no engine's list: what is sent to it reaches
     * nobody.  Connections are made by the engine when pages attach; this
     * is for code (tests, say) that made its own.
     */
    public CometConnection(HttpServletRequest anRequest, HttpServletResponse anResponse) {
        this(null, newId(), org.comet4j.core.util.NetUtil.getIpAddr(anRequest), anRequest.getRemotePort(),
                null, workStyleOf(CometContext.getInstance().getWorkStyle()), RequestSnapshot.of(anRequest), false);
    }

    private static String newId() {
        byte[] b = new byte[16];
        new java.security.SecureRandom().nextBytes(b);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Comet4J's auto was stream or lpool by browser; here the page picks: stream stands for auto. */
    private static String workStyleOf(String configured) {
        return CometProtocol.WORKSTYLE_AUTO.equals(configured) ? CometProtocol.WORKSTYLE_STREAM : configured;
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

    private static final long IPV4 = 1L << 48;

    private void setAddress(String ip, int port) {
        long v4 = ipv4(ip);
        if (v4 < 0) {
            otherIp = ip;
            address = port & 0xffff;
        } else {
            address = IPV4 | v4 << 16 | (port & 0xffff);
            otherIp = null;
        }
    }

    /** The dotted IPv4 address as an unsigned 32-bit number, or -1 for anything else. */
    static long ipv4(String ip) {
        if (ip == null || ip.length() < 7 || ip.length() > 15) {
            return -1;
        }
        long out = 0;
        int part = 0, digits = 0, dots = 0;
        for (int i = 0; i < ip.length(); i++) {
            char ch = ip.charAt(i);
            if (ch == '.') {
                if (digits == 0 || ++dots > 3) {
                    return -1;
                }
                out = out << 8 | part;
                part = 0;
                digits = 0;
            } else if (ch >= '0' && ch <= '9' && !(digits == 1 && part == 0) && ++digits <= 3) {
                part = part * 10 + (ch - '0');
                if (part > 255) {
                    return -1;
                }
            } else {
                return -1;
            }
        }
        return dots == 3 && digits > 0 ? out << 8 | part : -1;
    }

    /** The client's address as the native port saw it (of the latest attach). */
    public String getClientIp() {
        long a = address;
        if ((a & IPV4) == 0) {
            return otherIp;
        }
        long v4 = a >>> 16 & 0xffffffffL;
        return (v4 >>> 24) + "." + (v4 >>> 16 & 0xff) + "." + (v4 >>> 8 & 0xff) + "." + (v4 & 0xff);
    }

    /** The client's port as the native port saw it (of the latest attach). */
    public int getClientPort() {
        return (int) (address & 0xffff);
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

    /**
     * Sets the state this object reports (Comet4J's setter).  The core's
     * view wins: its next event for the connection (dying, revival, drop)
     * sets it again.
     */
    public void setState(String state) {
        if (CometProtocol.STATE_DYING.equals(state) && !CometProtocol.STATE_DYING.equals(this.state)) {
            dyingTime = System.currentTimeMillis();
        }
        this.state = state;
    }

    /** When the connection last turned dying, ms since the epoch; 0 if it never did. */
    public long getDyingTime() {
        return dyingTime;
    }

    /**
     * Sets {@link #getDyingTime()} (Comet4J's setter; its connector expired
     * a connection Comet.ConnExpires after it).  The core ends a dying
     * connection on its own clock, so this changes only what the getter says.
     */
    public void setDyingTime(long dyingTime) {
        this.dyingTime = dyingTime;
    }

    /**
     * The handshake parameter {@code cv} (Comet4J's client version; comet4j.js
     * sends its own version there), or null.
     */
    public String getClientVersion() {
        return getParameter(CometProtocol.FLAG_CLIENTVERSION);
    }

    /** A new transport attached under this id: alive again, with its address and work style. */
    void revive(String clientIp, int clientPort, String workStyle) {
        setAddress(clientIp, clientPort);
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

    /**
     * Replaces the request this connection carries (Comet4J's setter): a
     * snapshot of it is kept, since a container reuses a request object
     * once its request ended.
     */
    public void setRequest(HttpServletRequest request) {
        this.request = request == null || request instanceof RequestSnapshot ? request : RequestSnapshot.of(request);
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

    /**
     * Does nothing (Comet4J's setter): no servlet response holds the
     * connection, the core does; {@link #getResponse()} stays null.
     * @deprecated use CometEngine.sendTo
     */
    @Deprecated
    public void setResponse(HttpServletResponse response) {
    }

    /** Forgets the request (Comet4J's destroy); the connection itself lives on in the core. */
    public void destroy() {
        request = null;
    }

    @Override
    public String toString() {
        return "CometConnection[" + id + (remote ? " remote" : " " + getClientIp() + ":" + getClientPort()) + " " + state + "]";
    }
}
