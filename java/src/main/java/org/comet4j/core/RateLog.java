package org.comet4j.core;

import java.util.HashSet;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Log lines about what a client can repeat at will (a refused origin): at
 * most one line a window (a minute) per key and at most {@code keys} keys a
 * window; the others are counted, and one line says how many once the
 * window is over ({@link #tick}, from the dispatcher's round, or the next
 * event).  However many requests an attacker sends, a window logs at most
 * keys + 1 lines.  Keys are cut and made printable before they reach a
 * line.
 */
final class RateLog {

    private final Logger log;
    private final Level level;
    private final String what;
    private final long windowMs;
    private final int keys;
    private final LongSupplier clock;

    /** The keys logged in the window now running; empty when none runs. */
    private final Set<String> logged = new HashSet<>();
    private long since = -1;
    private long more;

    /**
     * @param what the summary's words for the events, e.g. "handshakes
     *        refused for their origin"
     * @param clock milliseconds, e.g. System::currentTimeMillis
     */
    RateLog(Logger log, Level level, String what, long windowMs, int keys, LongSupplier clock) {
        this.log = log;
        this.level = level;
        this.what = what;
        this.windowMs = windowMs;
        this.keys = keys;
        this.clock = clock;
    }

    /** The usual one: a minute, ten keys a minute, the wall clock. */
    RateLog(Logger log, Level level, String what) {
        this(log, level, what, 60_000, 10, System::currentTimeMillis);
    }

    /** An event of key: line(key) logged if key is new in this window and there is room, else counted. */
    void event(String key, java.util.function.Function<String, String> line) {
        String k = printable(key);
        String text = null;
        synchronized (this) {
            String summary = roll(clock.getAsLong());
            if (summary != null) {
                log.log(level, summary);
            }
            if (since < 0) {
                since = clock.getAsLong();
            }
            if (logged.size() < keys && logged.add(k)) {
                text = line.apply(k);
            } else {
                more++;
            }
        }
        if (text != null) {
            log.log(level, text);
        }
    }

    /** Ends a window that is over: the line of what it did not log one by one. */
    void tick() {
        String summary;
        synchronized (this) {
            summary = roll(clock.getAsLong());
        }
        if (summary != null) {
            log.log(level, summary);
        }
    }

    /** Closes the window if it is over; its summary, or null. */
    private String roll(long now) {
        if (since < 0 || now - since < windowMs) {
            return null;
        }
        String s = more == 0 ? null : "comet4j: " + more + " more " + what + " in the last "
                + windowMs / 1000 + " s, not logged one by one";
        since = -1;
        more = 0;
        logged.clear();
        return s;
    }

    /** At most 100 characters, printable ASCII ('?' for the others). */
    static String printable(String s) {
        String v = s == null ? "" : s.length() > 100 ? s.substring(0, 100) : s;
        StringBuilder b = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char ch = v.charAt(i);
            b.append(ch >= 0x20 && ch < 0x7f ? ch : '?');
        }
        return b.toString();
    }

    /** A summary line for tests: what the current window suppressed so far. */
    synchronized long suppressed() {
        return more;
    }
}
