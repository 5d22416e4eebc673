package org.comet4j.core;

import org.comet4j.event.Observable;

/**
 * Comet4J's connector: the list of connections and the thread that dropped
 * the ones dying longer than Comet.ConnExpires.  Kept so that code naming it
 * compiles; it does nothing here.  The connections are
 * {@code CometEngine.getConnections()}, and the native core itself ends a
 * dying connection Comet.ConnExpires ms after it lost its transport (within
 * a tick of its worker), so no thread is started.
 */
@SuppressWarnings("rawtypes")
public class CometConnector extends Observable {

    private final long timespan;
    private final long frequency;

    /** aTimespan: Comet.ConnExpires; aFrequency: Comet.ConnFrequency (both only remembered). */
    public CometConnector(long aTimespan, long aFrequency) {
        this.timespan = aTimespan;
        this.frequency = aFrequency;
    }

    /** The connections of the application's engine (a copy). */
    public java.util.List<CometConnection> getConnections() {
        return CometContext.getInstance().getEngine().getConnections();
    }

    long timespan() { return timespan; }

    long frequency() { return frequency; }

    /** Nothing to stop: no thread was started. */
    @Override
    public void destroy() {
        super.destroy();
    }
}
