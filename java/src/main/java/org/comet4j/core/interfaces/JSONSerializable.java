package org.comet4j.core.interfaces;

/**
 * Comet4J's marker for objects meant to be sent as JSON.  It changes
 * nothing: JSONUtil serializes any bean by its getters, marked or not.
 */
public interface JSONSerializable {
}
