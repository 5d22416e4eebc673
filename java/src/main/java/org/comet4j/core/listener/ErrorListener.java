package org.comet4j.core.listener;

import org.comet4j.core.event.ErrorEvent;
import org.comet4j.event.Listener;

/**
 * Extend this to handle {@link ErrorEvent}s; add it with
 * {@code CometEngine.addErrorListener}.  Runs when something failed inside the engine (see ErrorEvent).
 */
public abstract class ErrorListener extends Listener<ErrorEvent> {
    @Override
    public abstract boolean handleEvent(ErrorEvent event);
}
