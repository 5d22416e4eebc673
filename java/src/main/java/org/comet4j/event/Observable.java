package org.comet4j.event;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * Comet4J's observable: an {@link EventSource} (listeners) per event class,
 * interceptors that see every event first, and the one loop that fires.
 * Thread-safe: lists are copy-on-write, so a listener may add or remove
 * listeners while an event is being fired.  Listeners and interceptors run
 * in the order they were added (Comet4J ran the last added first), on the
 * thread that fires the event.
 *
 * <p>Differences from Comet4J, on purpose: {@link #addListener} makes the
 * event's source when it has none (Comet4J ignored a listener of an event
 * not declared with {@link #addEvent}); {@link #destroy()} empties the
 * object and leaves it usable.
 *
 * @param <E> the base type of the events this object fires
 * @param <L> the base type of its listeners
 */
@SuppressWarnings({"rawtypes", "unchecked"})
public class Observable<E extends Event, L extends ListenerInterface<E>> {

    private final Map<Class<?>, EventSource<E, L>> eventSources = new ConcurrentHashMap<>();
    private final List<InterceptorInterface<E>> interceptors = new CopyOnWriteArrayList<>();
    private volatile boolean suspend;

    // ---- interceptors ----------------------------------------------------------

    /**
     * Adds an interceptor: it sees every event of this object before the
     * listeners; returning false stops the event (the action does not happen)
     * and no later interceptor or listener runs.  {@link #eventIntercept}
     * runs before every interceptor.
     */
    public void addEventInterceptor(InterceptorInterface anInterceptor) {
        if (anInterceptor == null) {
            throw new NullPointerException("interceptor");
        }
        interceptors.add(anInterceptor);
    }

    /** Removes an interceptor (Comet4J's signature: an interceptor that is also a listener). */
    public void removeEventInterceptor(L anInterceptor) {
        interceptors.remove(anInterceptor);
    }

    /** Removes an interceptor added with {@link #addEventInterceptor}. */
    public void removeEventInterceptor(InterceptorInterface anInterceptor) {
        interceptors.remove(anInterceptor);
    }

    public void removeAllEventInterceptor() {
        interceptors.clear();
    }

    /**
     * Sees every event before the interceptors and listeners; a subclass may
     * override it.  Returning false stops the event.
     */
    public boolean eventIntercept(E anEvent) {
        return true;
    }

    /** Listeners are not told of events until {@link #resumeEvents()}; the actions still happen. */
    public void suspendEvents() {
        suspend = true;
    }

    public void resumeEvents() {
        suspend = false;
    }

    // ---- firing ------------------------------------------------------------------

    /**
     * Fires an event: {@link #eventIntercept}, the interceptors, then (unless
     * suspended) the listeners of the event's exact class.  A listener's
     * exception propagates.
     * @return false if the event was stopped (a veto), true otherwise
     */
    protected boolean fireEvent(E anEvent) {
        return fireEvent(anEvent, null);
    }

    /**
     * Like {@link #fireEvent(Event)}; with onError not null, an exception of
     * a listener or interceptor goes to it and the next one runs.
     */
    protected boolean fireEvent(E anEvent, BiConsumer<ListenerInterface<?>, Throwable> onError) {
        if (!eventIntercept(anEvent)) {
            anEvent.stopEvent();
            return false;
        }
        for (InterceptorInterface<E> i : interceptors) {
            boolean go;
            try {
                go = i.intercept(anEvent);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                if (onError == null) {
                    throw e;
                }
                onError.accept(null, e);
                go = true;
            }
            if (!go) {
                anEvent.stopEvent();
                return false;
            }
        }
        if (suspend) {
            return !anEvent.hasStoped();
        }
        EventSource<E, L> es = eventSources.get(anEvent.getClass());
        return es == null ? !anEvent.hasStoped() : es.fire(anEvent, onError);
    }

    // ---- events and listeners --------------------------------------------------------

    /** Declares an event class (its source, empty); listeners may be added without it. */
    protected void addEvent(Class<E> clazz) {
        eventSources.computeIfAbsent(clazz, k -> new EventSource<>());
    }

    /** Forgets an event class and its listeners. */
    protected void removeEvent(Class<E> clazz) {
        EventSource<E, L> es = eventSources.remove(clazz);
        if (es != null) {
            es.removeAllListeners();
        }
    }

    /** Forgets every event class and every listener. */
    protected void removeAllEvent() {
        for (EventSource<E, L> es : eventSources.values()) {
            es.removeAllListeners();
        }
        eventSources.clear();
    }

    /** Adds a listener for events of exactly the given class. */
    public void addListener(Class<E> clazz, L aListener) {
        if (clazz == null || aListener == null) {
            throw new NullPointerException("event type and listener must not be null");
        }
        eventSources.computeIfAbsent(clazz, k -> new EventSource<>()).addListener(aListener);
    }

    /** Removes one listener of an event class. */
    public void removeListener(Class<E> clazz, L aListener) {
        EventSource<E, L> es = clazz == null ? null : eventSources.get(clazz);
        if (es != null) {
            es.removeListener(aListener);
        }
    }

    /** Removes every listener of an event class. */
    public void removeListener(Class<E> clazz) {
        EventSource<E, L> es = clazz == null ? null : eventSources.get(clazz);
        if (es != null) {
            es.removeAllListeners();
        }
    }

    /** Removes every listener of every event class (Comet4J's name). */
    public void removeAllListener() {
        for (EventSource<E, L> es : eventSources.values()) {
            es.removeAllListeners();
        }
    }

    /** Removes every listener of every event class. */
    public void removeAllListeners() {
        removeAllListener();
    }

    /** True if at least one listener waits for events of this class. */
    public boolean hasListener(Class<?> eventType) {
        EventSource<E, L> es = eventType == null ? null : eventSources.get(eventType);
        return es != null && !es.isEmpty();
    }

    /** The listeners of an event class (live), or an empty list. */
    public List<L> getListeners(Class<E> clazz) {
        EventSource<E, L> es = clazz == null ? null : eventSources.get(clazz);
        return es != null ? es.getListeners() : new ArrayList<>(0);
    }

    /** The source of an event class, or null. */
    public EventSource<E, L> getEventSource(Class<E> clazz) {
        return clazz == null ? null : eventSources.get(clazz);
    }

    /** Every event source (a copy of the list). */
    public List<EventSource<E, L>> getAllEventSource() {
        return new ArrayList<>(eventSources.values());
    }

    /** Forgets every event, listener and interceptor; the object stays usable. */
    public void destroy() {
        removeAllEvent();
        interceptors.clear();
        suspend = false;
    }
}
