package org.comet4j.core.listener;

import org.comet4j.core.event.SubscribeEvent;
import org.comet4j.event.Listener;

/**
 * Handles {@link SubscribeEvent}s: return false to refuse a page's subscription (4030); add it with {@code CometEngine.addSubscribeListener}.
 */
public abstract class SubscribeListener extends Listener<SubscribeEvent> {

    @Override
    public abstract boolean handleEvent(SubscribeEvent event);
}
