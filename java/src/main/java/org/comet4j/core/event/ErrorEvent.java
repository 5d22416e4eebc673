package org.comet4j.core.event;

import org.comet4j.core.CometEngine;
import org.comet4j.event.Event;

/**
 * Something failed inside the engine and was logged: a listener or action
 * handler threw, or the core reported an error.  Fired on the thread where
 * it happened (usually "comet4j-dispatcher"); Comet4J declared this event
 * and never fired it.  An ErrorListener that throws is only logged.
 */
public class ErrorEvent extends Event<CometEngine> {

    private volatile Exception err;

    public ErrorEvent(CometEngine target, Exception anErr) {
        super(target);
        this.err = anErr;
    }

    public Exception getErr() {
        return err;
    }

    public void setErr(Exception err) {
        this.err = err;
    }
}
