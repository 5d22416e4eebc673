package org.comet4j.core.listener;

import org.comet4j.core.event.PublishEvent;
import org.comet4j.event.Listener;

/**
 * Handles {@link PublishEvent}s: return false to refuse a page's publication (4030); add it with {@code CometEngine.addPublishListener}.
 */
public abstract class PublishListener extends Listener<PublishEvent> {

    @Override
    public abstract boolean handleEvent(PublishEvent event);
}
