package org.comet4j.core.listener;

import org.comet4j.core.event.BeforeRemoveEvent;
import org.comet4j.event.Listener;

/**
 * Extend this to handle {@link BeforeRemoveEvent}s; add it with
 * {@code CometEngine.addBeforeRemoveListener}.  Runs before a connection is removed (on the comet4j-dispatcher thread); return false to keep it (see BeforeRemoveEvent).
 */
public abstract class BeforeRemoveListener extends Listener<BeforeRemoveEvent> {
    @Override
    public abstract boolean handleEvent(BeforeRemoveEvent event);
}
