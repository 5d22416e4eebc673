package org.comet4j.event;

/** Comet4J's marker for a sub-event; it carries nothing. */
public class SubEvent {
}
