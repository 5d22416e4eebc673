package org.comet4j.event;

/**
 * What a listener is, as an interface (Comet4J's): anything with
 * {@link #handleEvent(Event)}, a lambda included, can be added to an
 * {@link Observable}.  {@link Listener} is the abstract class most code
 * extends.
 *
 * @param <E> the event type
 */
@SuppressWarnings("rawtypes")
public interface ListenerInterface<E extends Event> {

    /**
     * Handles one event.
     * @return true to go on; false stops the event: for a "Before" event it
     *         vetoes the action, and no later listener sees it
     */
    boolean handleEvent(E anEvent);
}
