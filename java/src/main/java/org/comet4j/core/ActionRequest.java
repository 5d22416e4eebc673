package org.comet4j.core;

import java.util.Collections;
import java.util.Map;

/** One page request handed to an {@link ActionHandler}. */
public final class ActionRequest {

    private final String route;
    private final Object params;
    private final CometConnection connection;
    private final long id;

    ActionRequest(String route, Object params, CometConnection connection, long id) {
        this.route = route;
        this.params = params;
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

    /** The requesting connection. */
    public CometConnection getConnection() {
        return connection;
    }

    /** The connection's user, or null when anonymous. */
    public String getUser() {
        return connection.getUser();
    }

    /** The page's id of this request (its answer carries it). */
    public long getId() {
        return id;
    }

    @Override
    public String toString() {
        return "ActionRequest[" + route + " #" + id + " from " + connection.getId() + "]";
    }
}
