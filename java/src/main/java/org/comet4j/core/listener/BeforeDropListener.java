package org.comet4j.core.listener;

import org.comet4j.core.event.BeforeDropEvent;
import org.comet4j.event.Listener;

/**
 * Extend this to handle {@link BeforeDropEvent}s; add it with
 * {@code CometEngine.addBeforeDropListener}.  Runs just before DropEvent when a connection closed (on the comet4j-dispatcher thread).
 */
public abstract class BeforeDropListener extends Listener<BeforeDropEvent> {

    @Override
    public abstract boolean handleEvent(BeforeDropEvent event);
}
