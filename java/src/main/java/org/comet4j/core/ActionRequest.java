package org.comet4j.core;

import java.util.Collections;
import java.util.Map;

/**
 * One page request handed to an {@link ActionHandler}.
 *
 * <p>With a Redis hub (Comet.Hub=redis://...) a request may come from a page
 * held by another node, through the hub's action queue (that node has
 * Comet.ListenActions=false).  Such a request has the page's connection id
 * ({@link #getConnectionId()}) and user ({@link #getUser()}), but
 * {@link #getConnection()} is null unless this node holds the connection:
 * its headers, parameters and address stay on the node that holds it.  The
 * answer (the handler's result or error) reaches the page wherever it is;
 * to send it more, use {@link CometEngine#sendToConnection} with the id.
 */
public final class ActionRequest {

    private final String route;
    private final Object params;
    private final String connectionId;
    private final String user;
    private final CometConnection connection;
    private final long id;

    /** A request from a page this node holds. */
    ActionRequest(String route, Object params, CometConnection connection, long id) {
        this(route, params, connection.getId(), connection.getUser(), connection, id);
    }

    /** A request from the hub's action queue: connection is this node's object for the id, or null. */
    ActionRequest(String route, Object params, String connectionId, String user, CometConnection connection,
            long id) {
        this.route = route;
        this.params = params;
        this.connectionId = connectionId;
        this.user = user;
        this.connection = connection;
        this.id = id;
    }

    /** The route the page named, e.g. "cart.add". */
    public String getRoute() {
        return route;
    }

    /**
     * The request's params, parsed (JSONUtil.parse: Map, List, String,
     * Number, Boolean), or null when the page sent none.
     */
    public Object getParams() {
        return params;
    }

    /** The params as an object; an empty map when they are absent or not an object. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> getParamMap() {
        return params instanceof Map ? Collections.unmodifiableMap((Map<String, Object>) params)
                : Collections.emptyMap();
    }

    /** One member of the params object, or null. */
    public Object getParam(String name) {
        return getParamMap().get(name);
    }

    /**
     * The requesting connection, or null when another node holds it (a
     * request from the hub's action queue, see the class comment).
     */
    public CometConnection getConnection() {
        return connection;
    }

    /** The requesting connection's id, wherever it is held. */
    public String getConnectionId() {
        return connectionId;
    }

    /** Whether the request came through the hub's action queue from a page this node does not hold. */
    public boolean isRemote() {
        return connection == null;
    }

    /** The connection's user, or null when anonymous. */
    public String getUser() {
        return connection != null ? connection.getUser() : user;
    }

    /** The page's id of this request (its answer carries it). */
    public long getId() {
        return id;
    }

    @Override
    public String toString() {
        return "ActionRequest[" + route + " #" + id + " from " + connectionId + (isRemote() ? " (remote)" : "") + "]";
    }
}
