package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.comet4j.core.exception.NativeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many application threads sending at once through the real core to pages
 * on real WebSockets: sendTo (one connection and a list), sendToConnection
 * and sendToUser (both pages of a user), each thread reusing its own send
 * buffer.  Every page must get exactly what was sent to it, each thread's
 * messages in the order that thread sent them, with their text intact
 * (characters of every UTF-8 length): a message lost, doubled, sent to
 * another page, reordered or garbled fails.
 */
class ConcurrentSendTest {

    static final int USERS = 3, PAGES = 2 * USERS, THREADS = 4, SENDS = 400;
    static final String TEXT = "h\u00e9llo \u20ac \ud83d\ude00 \"q\" \\ ";
    static final List<Harness.Client> clients = new ArrayList<>();
    static final List<CometConnection> conns = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        Harness.start(Map.of(), "news");
        for (int i = 0; i < PAGES; i++) {
            Map<String, Object> claims = new LinkedHashMap<>();
            String cid = "concurrent-send-page-" + i;
            claims.put("cid", cid);
            claims.put("sub", "user" + i / 2);
            claims.put("exp", System.currentTimeMillis() / 1000 + 60);
            claims.put("ch", List.of("news"));
            Harness.Client c = Harness.connect(Harness.jwt(Harness.SECRET, claims));
            assertEquals("open", c.next(5000).get("t"));
            clients.add(c);
            long end = System.currentTimeMillis() + 5000;
            CometConnection conn;
            while ((conn = Harness.engine().getConnection(cid)) == null && System.currentTimeMillis() < end) {
                Thread.sleep(10);
            }
            conns.add(conn);
        }
    }

    @AfterAll
    static void stop() {
        for (Harness.Client c : clients) {
            c.abort();
        }
        Harness.stop();
    }

    @Test
    void largeMessagesAndRefusalsCrossAsBefore() throws Exception {
        CometEngine engine = Harness.engine();
        // Over the 4 KB copied onto the native stack: the array is pinned instead.
        String big = "\u00e9".repeat(6000) + "end";
        engine.sendTo("news", conns.get(0), big);
        assertEquals(big, clients.get(0).nextMsg(10000).get("data"));
        byte[] bytes = new byte[9000];
        new Random(4).nextBytes(bytes);
        engine.sendToUser("user1", "news", bytes);
        for (int p : new int[] {2, 3}) {
            assertEquals(java.util.Arrays.toString(bytes),
                    java.util.Arrays.toString(Harness.binaryData(clients.get(p).nextBinary(10000))));
        }
        NativeException e = assertThrows(NativeException.class,
                () -> engine.sendToUser("u".repeat(1000), "news", "x"));
        assertEquals(NativeException.EBADNAME, e.getCode(), "a user name too long");
        e = assertThrows(NativeException.class, () -> engine.sendToAll("c".repeat(1000), "x"));
        assertEquals(NativeException.EBADNAME, e.getCode(), "a channel name too long");
        e = assertThrows(NativeException.class, () -> engine.sendTo("news", conns.get(0), "x".repeat(2 << 20)));
        assertEquals(NativeException.ETOOBIG, e.getCode(), "over Comet.MaxQueue");
        engine.sendToConnection("no-such-page-anywhere", "news", "x"); // nobody: no error
        // After all that, the pages got nothing else.
        for (Harness.Client c : clients) {
            assertEquals(null, c.messages.poll(200, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void everyPageGetsWhatWasSentToItInEachThreadsOrder() throws Exception {
        CometEngine engine = Harness.engine();
        // expected.get(page).get(thread): the numbers that thread sent the page, in order.
        List<List<List<Long>>> expected = new ArrayList<>();
        for (int p = 0; p < PAGES; p++) {
            List<List<Long>> perThread = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                perThread.add(new ArrayList<>());
            }
            expected.add(perThread);
        }
        Thread[] threads = new Thread[THREADS];
        Throwable[] failed = new Throwable[1];
        for (int t = 0; t < THREADS; t++) {
            final int me = t;
            threads[t] = new Thread(() -> {
                Random r = new Random(me);
                Map<String, Object> data = new LinkedHashMap<>();
                try {
                    for (long n = 0; n < SENDS; n++) {
                        data.put("w", me);
                        data.put("n", n);
                        data.put("s", TEXT + n);
                        int p = r.nextInt(PAGES);
                        List<Integer> to = new ArrayList<>();
                        switch ((int) (n % 4)) {
                            case 0:
                                engine.sendTo("news", conns.get(p), data);
                                to.add(p);
                                break;
                            case 1: {
                                int q = (p + 1 + r.nextInt(PAGES - 1)) % PAGES;
                                engine.sendTo("news", List.of(conns.get(p), conns.get(q)), data);
                                to.add(p);
                                to.add(q);
                                break;
                            }
                            case 2:
                                engine.sendToConnection(conns.get(p).getId(), "news", data);
                                to.add(p);
                                break;
                            default:
                                engine.sendToUser("user" + p / 2, "news", data);
                                to.add(p / 2 * 2);
                                to.add(p / 2 * 2 + 1);
                        }
                        synchronized (expected) {
                            for (int q : to) {
                                expected.get(q).get(me).add(n);
                            }
                        }
                    }
                } catch (Throwable e) {
                    failed[0] = e;
                }
            });
        }
        for (Thread th : threads) {
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        if (failed[0] != null) {
            throw new AssertionError("a sending thread failed", failed[0]);
        }
        for (int p = 0; p < PAGES; p++) {
            int want = 0;
            for (List<Long> l : expected.get(p)) {
                want += l.size();
            }
            Map<Integer, List<Long>> got = new HashMap<>();
            for (int i = 0; i < want; i++) {
                Map<String, Object> m = clients.get(p).nextMsg(10000);
                assertEquals("news", m.get("ch"));
                Map<?, ?> d = (Map<?, ?>) m.get("data");
                long n = (Long) d.get("n");
                assertEquals(TEXT + n, d.get("s"), "the text, whole");
                got.computeIfAbsent(((Long) d.get("w")).intValue(), k -> new ArrayList<>()).add(n);
            }
            for (int t = 0; t < THREADS; t++) {
                assertEquals(expected.get(p).get(t), got.getOrDefault(t, List.of()),
                        "page " + p + ", thread " + t + ": what it sent, in its order");
            }
            // Nothing more: a doubled or misdelivered message would be here.
            String extra = clients.get(p).messages.poll(300, TimeUnit.MILLISECONDS);
            assertEquals(null, extra, "page " + p + " got nothing else");
        }
    }
}
