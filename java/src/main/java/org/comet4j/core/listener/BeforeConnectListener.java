package org.comet4j.core.listener;

import org.comet4j.core.event.BeforeConnectEvent;
import org.comet4j.event.Listener;

/**
 * Extend this to handle {@link BeforeConnectEvent}s; add it with
 * {@code CometEngine.addBeforeConnectListener}.  Runs during the handshake; return false to refuse the connection (403).
 */
public abstract class BeforeConnectListener extends Listener<BeforeConnectEvent> {

    @Override
    public abstract boolean handleEvent(BeforeConnectEvent event);
}
