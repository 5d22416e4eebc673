package org.comet4j.core;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.comet4j.core.event.ChannelEvent;
import org.comet4j.core.listener.ChannelListener;

/**
 * The application's handlers of what pages send: ChannelListeners by
 * channel (what pages publish, in the order they were added) and one
 * ActionHandler by route (the pages' requests).  Adding and removing is
 * safe from any thread while the dispatcher reads them.
 */
final class Handlers {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    private final Map<String, List<ChannelListener>> channelListeners = new ConcurrentHashMap<>();
    private final Map<String, ActionHandler> actionHandlers = new ConcurrentHashMap<>();

    /** channel: not empty (checked by the engine). */
    void addChannelListener(String channel, ChannelListener l) {
        if (l == null) {
            throw new NullPointerException("listener");
        }
        channelListeners.computeIfAbsent(channel, k -> new CopyOnWriteArrayList<>()).add(l);
    }

    boolean removeChannelListener(String channel, ChannelListener l) {
        List<ChannelListener> list = channel == null ? null : channelListeners.get(channel);
        return list != null && list.remove(l);
    }

    /**
     * Runs the channel's listeners on e in order, until one returns false,
     * stops the event or prevents its default; one that throws is logged
     * and the next one runs.
     */
    void fireChannel(ChannelEvent e) {
        List<ChannelListener> list = channelListeners.get(e.getChannel());
        if (list == null) {
            return;
        }
        for (ChannelListener l : list) {
            try {
                if (!l.handleEvent(e)) {
                    return;
                }
            } catch (RuntimeException | LinkageError | AssertionError t) {
                LOG.log(Level.SEVERE, "comet4j: " + l.getClass().getName() + " failed on a ChannelEvent of "
                        + e.getChannel(), t);
            }
            if (e.hasStoped() || e.hasPreventDefault()) {
                return;
            }
        }
    }

    /** @throws IllegalArgumentException if the route is empty or has a handler already */
    void addActionHandler(String route, ActionHandler handler) {
        if (route == null || route.isEmpty()) {
            throw new IllegalArgumentException("comet4j: route must not be empty");
        }
        if (handler == null) {
            throw new NullPointerException("handler");
        }
        if (actionHandlers.putIfAbsent(route, handler) != null) {
            throw new IllegalArgumentException("comet4j: route already has a handler: '" + route + "'");
        }
    }

    ActionHandler removeActionHandler(String route) {
        return route == null ? null : actionHandlers.remove(route);
    }

    /** The route's handler, or null. */
    ActionHandler actionHandler(String route) {
        return actionHandlers.get(route);
    }
}
