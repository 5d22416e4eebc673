package org.comet4j.core.listener;

import org.comet4j.core.event.PresenceEvent;
import org.comet4j.event.Listener;

/**
 * Receives joins and leaves on channels registered with presence ({@link PresenceEvent}); add it with {@code CometEngine.addPresenceListener}.
 */
public abstract class PresenceListener extends Listener<PresenceEvent> {

    @Override
    public abstract boolean handleEvent(PresenceEvent event);
}
