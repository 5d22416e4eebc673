package org.comet4j.core.listener;

import org.comet4j.core.event.ConnectEvent;
import org.comet4j.event.Listener;

/**
 * Extend this to handle {@link ConnectEvent}s; add it with
 * {@code CometEngine.addConnectListener}.  Runs when a connection attached (on the comet4j-dispatcher thread).
 */
public abstract class ConnectListener extends Listener<ConnectEvent> {

    @Override
    public abstract boolean handleEvent(ConnectEvent event);
}
