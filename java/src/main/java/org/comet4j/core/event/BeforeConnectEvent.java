package org.comet4j.core.event;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * Fired by CometServlet during the handshake, on the container's request
 * thread, with the real request and response (session, cookies, principal
 * are all live).  A listener that returns false refuses the connection: the
 * browser gets 403 and does not retry.  {@link #getConnectionId()} is the id
 * the connection will have if it attaches.
 */
public class BeforeConnectEvent extends Event<CometEngine> {

    private volatile HttpServletRequest request;
    private volatile HttpServletResponse response;
    private final String connectionId;
    private volatile String user;

    public BeforeConnectEvent(CometEngine target, HttpServletRequest anRequest, HttpServletResponse anResponse) {
        this(target, anRequest, anResponse, null);
    }

    public BeforeConnectEvent(CometEngine target, HttpServletRequest request, HttpServletResponse response,
                              String connectionId) {
        super(target);
        this.request = request;
        this.response = response;
        this.connectionId = connectionId;
    }

    /** The live handshake request; valid only while the listener runs. */
    public HttpServletRequest getRequest() {
        return request;
    }

    /** Replaces the request later listeners see (Comet4J's setter); the handshake goes on with its own. */
    public void setRequest(HttpServletRequest request) {
        this.request = request;
    }

    /** The live handshake response (a listener may add cookies or headers). */
    public HttpServletResponse getResponse() {
        return response;
    }

    /** Replaces the response later listeners see (Comet4J's setter); the answer goes to the real one. */
    public void setResponse(HttpServletResponse response) {
        this.response = response;
    }

    /**
     * Binds the connection to a user id (it goes into the ticket's "sub";
     * CometEngine.sendToUser and isOnline use it).  Without it the user is
     * the request's principal name, or none.
     */
    public void setUser(String user) {
        this.user = user;
    }

    /** The user set by {@link #setUser(String)}, or null. */
    public String getUser() {
        return user;
    }

    /** The id the connection will have once it attaches. */
    public String getConnectionId() {
        return connectionId;
    }

    @Override
    public void destroy() {
        super.destroy();
        request = null;
        response = null;
    }
}
