package org.comet4j.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * One client attached to the native port, as the application sees it: its
 * id (the cId of the handshake), address, user, transport, state and a
 * snapshot of its handshake request.  The socket itself lives in the C core;
 * this object only describes it.  Created by the engine's dispatcher when the
 * core reports the attach; never by applications.
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
    /** The channels the engine knows it is subscribed to (the ticket's, then every subscribe/unsubscribe). */
    final Set<String> channels = ConcurrentHashMap.newKeySet();

    CometConnection(String id, String clientIp, int clientPort, String user, String workStyle,
                    RequestSnapshot request) {
        this.id = id;
        this.clientIp = clientIp;
        this.clientPort = clientPort;
        this.user = user;
        this.workStyle = workStyle;
        this.request = request;
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
     * of the connection.  Null if the ticket was minted outside this servlet.
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

    /** The channels this connection is subscribed to, as far as the engine knows (a copy). */
    public List<String> getChannels() {
        return new ArrayList<>(channels);
    }

    /** True if the engine knows this connection is subscribed to the channel. */
    public boolean isSubscribed(String channel) {
        return channels.contains(channel);
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
        return "CometConnection[" + id + " " + clientIp + ":" + clientPort + " " + state + "]";
    }
}
