package org.comet4j.core;

import java.util.ArrayList;
import java.util.List;

import org.comet4j.core.event.BeforeDropEvent;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.core.event.DyingEvent;
import org.comet4j.core.event.RevivalEvent;
import org.comet4j.core.listener.BeforeDropListener;
import org.comet4j.core.listener.ConnectListener;
import org.comet4j.core.listener.DropListener;
import org.comet4j.core.listener.DyingListener;
import org.comet4j.core.listener.RevivalListener;
import org.comet4j.event.Event;

/**
 * Records an engine's connection life-cycle events (connect, dying, revival,
 * beforeDrop, drop) in order, and waits for them by type and connection id.
 */
final class Recorder {

    private final List<Event<?>> events = new ArrayList<>();

    Recorder(CometEngine engine) {
        engine.addConnectListener(new ConnectListener() {
            @Override
            public boolean handleEvent(ConnectEvent e) {
                return add(e);
            }
        });
        engine.addDyingListener(new DyingListener() {
            @Override
            public boolean handleEvent(DyingEvent e) {
                return add(e);
            }
        });
        engine.addRevivalListener(new RevivalListener() {
            @Override
            public boolean handleEvent(RevivalEvent e) {
                return add(e);
            }
        });
        engine.addBeforeDropListener(new BeforeDropListener() {
            @Override
            public boolean handleEvent(BeforeDropEvent e) {
                return add(e);
            }
        });
        engine.addDropListener(new DropListener() {
            @Override
            public boolean handleEvent(DropEvent e) {
                return add(e);
            }
        });
    }

    private synchronized boolean add(Event<?> e) {
        events.add(e);
        notifyAll();
        return true;
    }

    static CometConnection conn(Event<?> e) {
        if (e instanceof ConnectEvent) {
            return ((ConnectEvent) e).getConn();
        }
        if (e instanceof DyingEvent) {
            return ((DyingEvent) e).getConn();
        }
        if (e instanceof RevivalEvent) {
            return ((RevivalEvent) e).getConn();
        }
        if (e instanceof BeforeDropEvent) {
            return ((BeforeDropEvent) e).getConn();
        }
        return ((DropEvent) e).getConn();
    }

    static String kind(Event<?> e) {
        String n = e.getClass().getSimpleName();
        n = n.substring(0, n.length() - "Event".length());
        return Character.toLowerCase(n.charAt(0)) + n.substring(1);
    }

    /** The kinds of the events of connection cid so far, in order, e.g. [connect, dying, revival]. */
    synchronized List<String> kinds(String cid) {
        List<String> out = new ArrayList<>();
        for (Event<?> e : events) {
            if (conn(e).getId().equals(cid)) {
                out.add(kind(e));
            }
        }
        return out;
    }

    /** The n-th (from 1) event of this type for cid, waiting up to ms for it. */
    synchronized <T extends Event<?>> T await(Class<T> type, String cid, int n, long ms) throws InterruptedException {
        long end = System.currentTimeMillis() + ms;
        while (true) {
            int seen = 0;
            for (Event<?> e : events) {
                if (e.getClass() == type && conn(e).getId().equals(cid) && ++seen == n) {
                    return type.cast(e);
                }
            }
            long left = end - System.currentTimeMillis();
            if (left <= 0) {
                throw new AssertionError("no " + type.getSimpleName() + " #" + n + " for " + cid + " within " + ms
                        + " ms; events of it: " + kinds(cid));
            }
            wait(left);
        }
    }

    <T extends Event<?>> T await(Class<T> type, String cid, long ms) throws InterruptedException {
        return await(type, cid, 1, ms);
    }
}
