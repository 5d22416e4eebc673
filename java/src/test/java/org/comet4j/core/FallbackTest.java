package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.event.DropEvent;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP transports of the native port through the real library: SSE
 * (GET /sse, read with java.net.http's BodyHandlers.ofLines()), long polling
 * (GET /poll answers a JSON array of frames) and commands (POST /cmd).
 */
class FallbackTest {

    static Recorder events;

    @BeforeAll
    static void start() {
        Harness.start(Map.of(), "tick");
        events = new Recorder(Harness.engine());
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    static void drop(String cid) throws Exception {
        CometConnection conn = Harness.engine().getConnection(cid);
        if (conn != null) {
            Harness.engine().drop(conn);
            events.await(DropEvent.class, cid, 5000);
        }
    }

    @Test
    void sseReceivesDataFrames() throws Exception {
        Map<String, Object> a = Harness.handshake();
        String cid = (String) a.get("cId");
        String ticket = (String) a.get("ticket");
        Harness.Sse sse = new Harness.Sse(Harness.httpUrl("/sse", ticket, null));
        try {
            assertEquals(200, sse.response.statusCode());
            assertTrue(sse.response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"),
                    sse.response.headers().toString());
            Map<String, Object> open = sse.next(5000);
            assertEquals("open", open.get("t"));
            assertEquals(cid, open.get("cId"));
            CometConnection conn = events.await(ConnectEvent.class, cid, 5000).getConn();
            assertEquals(CometProtocol.WORKSTYLE_STREAM, conn.getWorkStyle());
            assertEquals(CometProtocol.STATE_ALIVE, conn.getState());

            Harness.engine().sendToAll("tick", Map.of("n", 1));
            Map<String, Object> m = sse.nextMsg(5000);
            assertEquals("tick", m.get("ch"));
            assertEquals(Map.of("n", 1L), m.get("data"));
            Harness.engine().sendTo("tick", conn, "to you");
            assertEquals("to you", sse.nextMsg(5000).get("data"));

            // SSE has no way back: pings go to /cmd.
            HttpResponse<String> r = Harness.post(Harness.httpUrl("/cmd", ticket, null), "{\"t\":\"ping\"}", 5000);
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
            assertEquals(List.of(Map.of("t", "pong")), MiniJson.parse(r.body()));
            HttpResponse<String> two = Harness.post(Harness.httpUrl("/cmd", ticket, null),
                    "[{\"t\":\"ping\"},{\"t\":\"ping\"}]", 5000);
            assertEquals(List.of(Map.of("t", "pong"), Map.of("t", "pong")), MiniJson.parse(two.body()));
        } finally {
            drop(cid);
            sse.close();
        }
    }

    @Test
    void longPollReturnsAJsonArray() throws Exception {
        Map<String, Object> a = Harness.handshake();
        String cid = (String) a.get("cId");
        String url = Harness.httpUrl("/poll", (String) a.get("ticket"), null);
        try {
            List<Map<String, Object>> first = Harness.poll(url, 10000);
            assertTrue(!first.isEmpty(), "the first poll answers at once with open");
            assertEquals("open", first.get(0).get("t"));
            assertEquals(cid, first.get(0).get("cId"));
            CometConnection conn = events.await(ConnectEvent.class, cid, 5000).getConn();
            assertEquals(CometProtocol.WORKSTYLE_LLOOP, conn.getWorkStyle());

            // A poll held open is answered as soon as a frame is ready.
            CompletableFuture<List<Map<String, Object>>> held = CompletableFuture.supplyAsync(() -> {
                try {
                    return Harness.poll(url, 30000);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(300);
            long sentAt = System.currentTimeMillis();
            Harness.engine().sendToAll("tick", "polled");
            List<Map<String, Object>> frames = held.get(10, TimeUnit.SECONDS);
            assertTrue(System.currentTimeMillis() - sentAt < 5000);
            List<Object> data = new ArrayList<>();
            for (Map<String, Object> f : frames) {
                if ("msg".equals(f.get("t"))) {
                    data.add(f.get("data"));
                }
            }
            assertEquals(List.of("polled"), data);
            assertEquals(CometProtocol.STATE_ALIVE, conn.getState(), "between two polls it is attached");

            // Frames sent between polls wait for the next one.
            Harness.engine().sendTo("tick", conn, "a");
            Harness.engine().sendTo("tick", conn, "b");
            Thread.sleep(100);
            List<Object> next = new ArrayList<>();
            for (Map<String, Object> f : Harness.poll(url, 10000)) {
                next.add(f.get("data"));
            }
            assertEquals(List.of("a", "b"), next);
        } finally {
            drop(cid);
        }
    }
}
