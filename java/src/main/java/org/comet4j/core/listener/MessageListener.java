package org.comet4j.core.listener;

import org.comet4j.core.event.MessageEvent;
import org.comet4j.event.Listener;

/**
 * Extend this to handle {@link MessageEvent}s; add it with
 * {@code CometEngine.addMessageListener}.  Runs after each message handed to the core, on the sending thread.
 */
public abstract class MessageListener extends Listener<MessageEvent> {

    @Override
    public abstract boolean handleEvent(MessageEvent event);
}
