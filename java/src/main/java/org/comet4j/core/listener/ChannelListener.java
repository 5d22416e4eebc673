package org.comet4j.core.listener;

import org.comet4j.core.event.ChannelEvent;
import org.comet4j.event.Listener;

/**
 * Receives what pages publish on one channel ({@link ChannelEvent}); add it with {@code CometEngine.addChannelListener(channel, listener)}.
 */
public abstract class ChannelListener extends Listener<ChannelEvent> {

    @Override
    public abstract boolean handleEvent(ChannelEvent event);
}
