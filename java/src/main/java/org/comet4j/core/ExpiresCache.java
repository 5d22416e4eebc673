package org.comet4j.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Comet4J's cache of the messages of each connection, each message kept
 * for a time span.  Comet4J used it for the messages of dying connections;
 * the native core keeps those itself now, so the engine does not use this
 * class, but it works as it did for code of its own: push, then get (which
 * takes the list out).  Messages older than the time span are dropped when
 * the cache is used (no thread: the frequency is only remembered).  Keys
 * are held weakly, as in Comet4J.  Thread-safe.
 */
public class ExpiresCache {

    private final long timespan;
    private final long frequency;
    private final Map<CometConnection, List<CometMessage>> cache =
            Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * @param aTimespan how long a message is kept, ms (0 or less: for ever)
     * @param aFrequency Comet4J's check interval, ms (remembered only)
     */
    public ExpiresCache(long aTimespan, long aFrequency) {
        this.timespan = aTimespan;
        this.frequency = aFrequency;
    }

    /** Keeps a message for c. */
    public synchronized void push(CometConnection c, CometMessage e) {
        if (c == null || e == null) {
            return;
        }
        cache.computeIfAbsent(c, k -> new ArrayList<>()).add(e);
    }

    /** Keeps messages for c. */
    public synchronized void push(CometConnection c, List<CometMessage> e) {
        if (c == null || e == null) {
            return;
        }
        cache.computeIfAbsent(c, k -> new ArrayList<>()).addAll(e);
    }

    /**
     * Takes c's messages out of the cache: those not expired, in the order
     * pushed, or null if there are none.
     */
    public synchronized List<CometMessage> get(CometConnection c) {
        List<CometMessage> list = cache.remove(c);
        if (list == null) {
            return null;
        }
        expire(list, System.currentTimeMillis());
        return list.isEmpty() ? null : list;
    }

    private void expire(List<CometMessage> list, long now) {
        if (timespan <= 0) {
            return;
        }
        for (Iterator<CometMessage> it = list.iterator(); it.hasNext();) {
            if (it.next().getTime() + timespan < now) {
                it.remove();
            }
        }
    }

    long frequency() { return frequency; }

    /** Forgets everything. */
    public synchronized void destroy() {
        cache.clear();
    }
}
