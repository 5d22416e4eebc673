package org.comet4j.event;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * The listeners of one kind of event, and the loop that runs them
 * (Comet4J's EventSource).  The list is copy-on-write: a listener may add
 * or remove listeners while an event is being fired and the running
 * dispatch is not disturbed.  Listeners run in the order they were added
 * (Comet4J ran the last added first), on the thread that fires.
 *
 * @param <E> the event type
 * @param <L> the listener type
 */
@SuppressWarnings("rawtypes")
public class EventSource<E extends Event, L extends ListenerInterface<E>> {

    /** The listeners, in the order added. */
    protected List<L> listeners = new CopyOnWriteArrayList<>();

    public EventSource() {
    }

    /**
     * Runs the listeners in order.  One that returns false stops the event;
     * {@link Event#preventDefault()} ends the dispatch without stopping it.
     * A listener's exception propagates.
     * @return false if the event was stopped (a veto), true otherwise
     */
    public boolean fire(E anEvent) {
        return fire(anEvent, null);
    }

    /** Like {@link #fire(Event)}; with onError not null, a listener's exception goes to it and the next one runs. */
    boolean fire(E anEvent, BiConsumer<ListenerInterface<?>, Throwable> onError) {
        for (L l : listeners) {
            if (anEvent.hasStoped()) {
                return false;
            }
            if (anEvent.hasPreventDefault()) {
                break;
            }
            boolean go;
            try {
                go = l.handleEvent(anEvent);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                if (onError == null) {
                    throw e;
                }
                onError.accept(l, e);
                go = true;
            }
            if (!go) {
                anEvent.stopEvent();
            }
        }
        return !anEvent.hasStoped();
    }

    public void addListener(L aListener) {
        if (aListener == null) {
            throw new NullPointerException("listener");
        }
        listeners.add(aListener);
    }

    public void removeListener(L aListener) {
        listeners.remove(aListener);
    }

    public void removeAllListeners() {
        listeners.clear();
    }

    /** aListener itself if it was added (by identity), else null. */
    public L getListener(L aListener) {
        for (L l : listeners) {
            if (l == aListener) {
                return l;
            }
        }
        return null;
    }

    /** The listeners, live (copy-on-write: iterating it is safe). */
    public List<L> getListeners() {
        return listeners;
    }

    public boolean isEmpty() {
        return listeners.isEmpty();
    }

    /** Removes every listener; the source stays usable. */
    public void destroy() {
        removeAllListeners();
    }
}
