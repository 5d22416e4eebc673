package org.comet4j.core.listener;

import org.comet4j.core.event.CometContextEvent;
import org.comet4j.event.Listener;

/**
 * Listens to the CometContext's life ({@link CometContextEvent}): extend
 * it with {@link #onInitialized} and {@link #onDestroyed}, and add it with
 * {@code CometContext.getInstance().addListener(CometContextEvent.class, l)}.
 */
public abstract class CometContextListener extends Listener<CometContextEvent> {

    /** Calls onInitialized or onDestroyed, by the event's sub-type. */
    @Override
    public boolean handleEvent(CometContextEvent event) {
        if (event.getSubType() == CometContextEvent.INITIALIZED) {
            return onInitialized(event);
        }
        if (event.getSubType() == CometContextEvent.DESTROYED) {
            return onDestroyed(event);
        }
        return true;
    }

    public abstract boolean onInitialized(CometContextEvent event);

    public abstract boolean onDestroyed(CometContextEvent event);
}
