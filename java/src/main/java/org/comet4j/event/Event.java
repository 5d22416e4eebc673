package org.comet4j.event;

/**
 * What every event carries: its target (the object that fired it, for the
 * core events the {@code CometEngine}) and two flags a listener may set.
 * {@link #stopEvent()} vetoes the action an event announces (it only has an
 * effect on "Before" events); {@link #preventDefault()} keeps the event from
 * reaching the listeners that have not run yet.  Names follow Comet4J.
 *
 * @param <O> the type of the target, an Observable
 */
@SuppressWarnings("rawtypes")
public class Event<O extends Observable> {

    private volatile O target;
    private volatile boolean stopped;
    private volatile boolean preventDefault;

    public Event(O target) {
        this.target = target;
    }

    /** The object that fired this event; null after {@link #destroy()}. */
    public O getTarget() {
        return target;
    }

    /** Vetoes the action this event announces (BeforeConnect: refuse). */
    public void stopEvent() {
        stopped = true;
    }

    /** Listeners that have not run yet will not see this event. */
    public void preventDefault() {
        preventDefault = true;
    }

    public boolean hasStoped() {
        return stopped;
    }

    public boolean hasPreventDefault() {
        return preventDefault;
    }

    /** Forgets the target (Comet4J freed its references this way); subclasses forget their data too. */
    public void destroy() {
        target = null;
    }
}
