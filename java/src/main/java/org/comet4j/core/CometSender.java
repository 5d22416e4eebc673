package org.comet4j.core;

/**
 * Comet4J's sender: it wrote messages into the held responses and cached
 * those for dying connections.  Kept so that code naming it compiles; it
 * does nothing here: {@code CometEngine.sendTo} and {@code sendToAll} hand
 * the message to the native core, which writes it on every transport and
 * keeps what a dying connection must get when it comes back (and each
 * channel's history for Comet.CacheExpires ms).
 */
public class CometSender {

    private final ExpiresCache cache;

    /** timespan: Comet.CacheExpires; frequency: Comet.CacheFrequency. */
    public CometSender(long timespan, long frequency) {
        this.cache = new ExpiresCache(timespan, frequency);
    }

    /** Nothing to stop: no thread was started. */
    public void destroy() {
        cache.destroy();
    }
}
