package org.comet4j.event;

/**
 * A listener for one kind of event: Comet4J's contract, kept as is.
 * {@link #handleEvent(Event)} returns false to stop the event: for a
 * "Before" event that vetoes the action (BeforeConnect: the connection is
 * refused), and for every event no later listener sees it.
 *
 * @param <E> the event type
 */
@SuppressWarnings("rawtypes")
public abstract class Listener<E extends Event> implements ListenerInterface<E> {

    /**
     * Handles one event.
     * @return true to go on; false stops the event (see the class comment)
     */
    @Override
    public abstract boolean handleEvent(E anEvent);
}
