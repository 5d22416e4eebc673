package org.comet4j.event;

/**
 * A kind of sub-event, compared by identity (CometContextEvent.INITIALIZED,
 * CometContextEvent.DESTROYED).
 */
public class SubEventType {

    private final String name;

    public SubEventType() {
        this(null);
    }

    /** A named kind: its name is what {@link #toString()} says. */
    public SubEventType(String name) {
        this.name = name;
    }

    @Override
    public String toString() {
        return name != null ? name : super.toString();
    }
}
