package org.comet4j.core.listener;

import org.comet4j.core.event.DyingEvent;
import org.comet4j.event.Listener;

/**
 * Extend this to handle {@link DyingEvent}s; add it with
 * {@code CometEngine.addDyingListener}.  Runs when a connection lost its
 * transport and waits to be revived (on the comet4j-dispatcher thread).
 */
public abstract class DyingListener extends Listener<DyingEvent> {

    @Override
    public abstract boolean handleEvent(DyingEvent event);
}
