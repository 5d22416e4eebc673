package org.comet4j.core.listener;

import org.comet4j.core.event.RevivalEvent;
import org.comet4j.event.Listener;

/**
 * Extend this to handle {@link RevivalEvent}s; add it with
 * {@code CometEngine.addRevivalListener}.  Runs when a dying connection
 * attached again (on the comet4j-dispatcher thread).
 */
public abstract class RevivalListener extends Listener<RevivalEvent> {

    @Override
    public abstract boolean handleEvent(RevivalEvent event);
}
