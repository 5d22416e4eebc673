package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Resume through the real library: broadcasts carry the channel's epoch and
 * offset, and a page that attaches with {@code since} gets what it missed
 * from the channel's history, then {"t":"recovered"}.
 */
class ResumeTest {

    static Recorder events;

    @BeforeAll
    static void start() {
        Harness.start(Map.of(), "feed", "other");
        events = new Recorder(Harness.engine());
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    static Harness.Client attach(Map<String, List<Object>> since) throws Exception {
        Map<String, Object> a = Harness.handshake();
        Harness.Client c = Harness.connect((String) a.get("ticket"), since);
        c.id = (String) a.get("cId");
        Map<String, Object> open = c.next(5000);
        assertEquals("open", open.get("t"));
        events.await(ConnectEvent.class, c.id, 5000);
        return c;
    }

    static void drop(Harness.Client c) throws Exception {
        CometConnection conn = Harness.engine().getConnection(c.id);
        if (conn != null) {
            Harness.engine().drop(conn);
            events.await(DropEvent.class, c.id, 5000);
        }
        c.abort();
    }

    @Test
    void broadcastsCarryEpochAndOffset() throws Exception {
        Harness.Client c = attach(null);
        try {
            Harness.engine().sendToAll("feed", "one");
            Map<String, Object> m1 = c.nextMsg(5000);
            Harness.engine().sendToAll("feed", "two");
            Map<String, Object> m2 = c.nextMsg(5000);
            String epoch = (String) m1.get("e");
            assertNotNull(epoch, "e on a broadcast: " + m1);
            assertTrue(epoch.matches("[A-Za-z0-9_-]{8}"), epoch);
            assertEquals(epoch, m2.get("e"));
            assertEquals((Long) m1.get("o") + 1, (Long) m2.get("o"));
            assertTrue((Long) m1.get("o") >= 1);

            Harness.engine().sendTo("feed", Harness.engine().getConnection(c.id), "just you");
            Map<String, Object> one = c.nextMsg(5000);
            assertEquals("just you", one.get("data"));
            assertFalse(one.containsKey("e"), "sendTo frames carry no epoch: " + one);
            assertFalse(one.containsKey("o"), "sendTo frames carry no offset: " + one);
        } finally {
            drop(c);
        }
    }

    @Test
    void reconnectWithSinceGetsTheMissedBroadcasts() throws Exception {
        Harness.Client first = attach(null);
        Harness.engine().sendToAll("feed", "before");
        Map<String, Object> last = first.nextMsg(5000);
        assertEquals("before", last.get("data"));
        drop(first);

        Harness.engine().sendToAll("feed", "missed 1");
        Harness.engine().sendToAll("feed", "missed 2");

        long o = (Long) last.get("o");
        Harness.Client back = attach(Map.of("feed", List.of(last.get("e"), o)));
        try {
            Map<String, Object> r1 = back.next(5000);
            Map<String, Object> r2 = back.next(5000);
            Map<String, Object> done = back.next(5000);
            assertEquals("msg", r1.get("t"));
            assertEquals("missed 1", r1.get("data"));
            assertEquals(o + 1, r1.get("o"));
            assertEquals("missed 2", r2.get("data"));
            assertEquals(o + 2, r2.get("o"));
            assertEquals(Map.of("t", "recovered", "ch", "feed", "recovered", true), done);

            Harness.engine().sendToAll("feed", "live");
            Map<String, Object> live = back.nextMsg(5000);
            assertEquals("live", live.get("data"));
            assertEquals(o + 3, live.get("o"), "no duplicate, no gap");
        } finally {
            drop(back);
        }
    }

    @Test
    void unknownEpochIsNotRecovered() throws Exception {
        Harness.engine().sendToAll("other", "x");
        Harness.Client c = attach(Map.of("other", List.of("zzzzzzzz", 1L)));
        try {
            assertEquals(Map.of("t", "recovered", "ch", "other", "recovered", false), c.next(5000));
            Harness.engine().sendToAll("other", "y");
            assertEquals("y", c.nextMsg(5000).get("data"));
        } finally {
            drop(c);
        }
    }
}
