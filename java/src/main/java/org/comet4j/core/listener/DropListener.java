package org.comet4j.core.listener;

import org.comet4j.core.event.DropEvent;
import org.comet4j.event.Listener;

/**
 * Extend this to handle {@link DropEvent}s; add it with
 * {@code CometEngine.addDropListener}.  Runs when a connection closed (on the comet4j-dispatcher thread).
 */
public abstract class DropListener extends Listener<DropEvent> {

    @Override
    public abstract boolean handleEvent(DropEvent event);
}
