package org.comet4j.event;

/**
 * An interceptor ({@link Observable#addEventInterceptor}): it sees every
 * event of its observable before any listener does, and returning false
 * stops the event (the action it announces does not happen, no listener
 * runs, no later interceptor either).
 *
 * @param <E> the event type
 */
@SuppressWarnings("rawtypes")
public interface InterceptorInterface<E extends Event> {

    /** @return false to stop the event, true to let it go on */
    boolean intercept(E anEvent);
}
