package org.comet4j.event;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * Listener lists by event class, and the one loop that runs them.  Lists are
 * copy-on-write, so a listener may add or remove listeners while an event is
 * being fired and the running dispatch is not disturbed.  Listeners run in
 * the order they were added, on the thread that fires the event; exceptions
 * from a listener propagate to that thread.
 *
 * @param <E> the base type of the events this object fires
 */
public class Observable<E extends Event<?>> {

    private final Map<Class<?>, List<Listener<?>>> listeners = new ConcurrentHashMap<>();

    /** Adds a listener for events of exactly the given class. */
    public <T extends E> void addListener(Class<T> eventType, Listener<? super T> listener) {
        if (eventType == null || listener == null) {
            throw new NullPointerException("event type and listener must not be null");
        }
        listeners.computeIfAbsent(eventType, k -> new CopyOnWriteArrayList<>()).add(listener);
    }

    /** Removes a listener added with {@link #addListener}; false if it was not there. */
    public <T extends E> boolean removeListener(Class<T> eventType, Listener<? super T> listener) {
        List<Listener<?>> list = listeners.get(eventType);
        return list != null && list.remove(listener);
    }

    /** Removes every listener of every event type. */
    public void removeAllListeners() {
        listeners.clear();
    }

    /** True if at least one listener waits for events of this class. */
    public boolean hasListener(Class<? extends E> eventType) {
        List<Listener<?>> list = listeners.get(eventType);
        return list != null && !list.isEmpty();
    }

    /**
     * Runs the listeners of the event's class in order.  A listener that
     * returns false stops the event; {@link Event#preventDefault()} ends the
     * dispatch without stopping it.  A listener's exception propagates.
     * @return false if the event was stopped (a veto), true otherwise
     */
    public boolean fireEvent(E event) {
        return fireEvent(event, null);
    }

    /**
     * Like {@link #fireEvent(Event)}, but when onError is not null a
     * listener's exception goes to it and the next listener runs.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    protected boolean fireEvent(E event, BiConsumer<Listener<?>, Throwable> onError) {
        List<Listener<?>> list = listeners.get(event.getClass());
        if (list != null) {
            for (Listener l : list) {
                boolean go;
                try {
                    go = ((Listener<E>) l).handleEvent(event);
                } catch (RuntimeException | LinkageError | AssertionError e) {
                    if (onError == null) {
                        throw e;
                    }
                    onError.accept(l, e);
                    go = true;
                }
                if (!go) {
                    event.stopEvent();
                }
                if (event.hasStoped() || event.hasPreventDefault()) {
                    break;
                }
            }
        }
        return !event.hasStoped();
    }
}
