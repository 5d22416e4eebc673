package org.comet4j.core.listener;

import org.comet4j.core.event.RemovedEvent;
import org.comet4j.event.Listener;

/**
 * Extend this to handle {@link RemovedEvent}s; add it with
 * {@code CometEngine.addRemovedListener}.  Runs when a connection was removed (on the comet4j-dispatcher thread).
 */
public abstract class RemovedListener extends Listener<RemovedEvent> {
    @Override
    public abstract boolean handleEvent(RemovedEvent event);
}
