package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

/** The rate-limited lines: a real logger, a clock the test moves. */
class RateLogTest {

    @Test
    void oneLineAKeyAWindowAtMostKeysAndASummary() {
        AtomicLong now = new AtomicLong(1_000_000);
        try (LogCapture jul = new LogCapture("org.comet4j.test.ratelog")) {
            Logger log = Logger.getLogger("org.comet4j.test.ratelog");
            log.setUseParentHandlers(false);
            RateLog r = new RateLog(log, Level.WARNING, "things refused", 60_000, 3, now::get);
            for (int i = 0; i < 1000; i++) {
                r.event("k" + (i % 50), k -> "refused " + k);
            }
            assertEquals(List.of("refused k0", "refused k1", "refused k2"), jul.messages(),
                    "three keys a window, once each");
            now.addAndGet(59_999);
            r.tick();
            assertEquals(3, jul.messages().size(), "the window runs");
            now.addAndGet(1);
            r.tick();
            assertEquals("comet4j: 997 more things refused in the last 60 s, not logged one by one",
                    jul.messages().get(3));
            r.tick();
            assertEquals(4, jul.messages().size(), "said once");
            r.event("k0", k -> "refused " + k);
            assertEquals("refused k0", jul.messages().get(4), "a new window: once a minute per key");
            r.event("bad\r\nline\u0000" + "x".repeat(200), k -> "refused " + k);
            String last = jul.messages().get(5);
            assertTrue(last.matches("refused bad\\?\\?line\\?x+"), last);
            assertEquals("refused ".length() + 100, last.length());
            log.setUseParentHandlers(true);
        }
    }
}
