package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.comet4j.core.exception.NativeException;
import org.junit.jupiter.api.Test;

/**
 * sendToAll while the hub's Redis is down (docs/protocol.md section 9,
 * "Redis faults"), as CometEngine.sendToAll documents it: a message the
 * outbox keeps reaches this node's page at once and the other node's once
 * Redis is back (exactly once, in order); one over Comet.HubOutboxRecords
 * throws NativeException EFULL and reaches no page, and /api/publish
 * answers it 503 with the reason; getStats() and /api/stats count it.
 * Two engines in this JVM, a real redis-server killed with SIGKILL and
 * started again (empty) on its port, real WebSocket pages.
 */
class HubOutageTest {

    static final String KEY = "outage-test-api-key-0123456789";
    static final int BOUND = 20;

    static CometConfig config(String url, String prefix, Map<String, String> extra) {
        Map<String, String> cfg = new HashMap<>();
        cfg.put("Comet.Port", "0");
        cfg.put("Comet.Host", "127.0.0.1");
        cfg.put("Comet.Threads", "1");
        cfg.put("Comet.Secret", Harness.SECRET);
        cfg.put("Comet.Hub", url);
        cfg.put("Comet.HubPrefix", prefix);
        cfg.put("Comet.ApiKey", KEY);
        cfg.putAll(extra);
        return CometConfig.parse(cfg);
    }

    static Harness.Client page(CometEngine e, String channel) throws Exception {
        Harness.Client c = new Harness.Client();
        String ticket = e.ticket(e.newId(), null, System.currentTimeMillis() / 1000 + 60,
                new ArrayList<>(List.of(channel)));
        c.ws = Harness.HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create("ws://127.0.0.1:" + e.getPort() + "/ws?ticket=" + ticket), c)
                .get(10, TimeUnit.SECONDS);
        assertEquals("open", c.next(10000).get("t"));
        return c;
    }

    static HttpResponse<String> publish(CometEngine e, String body) throws Exception {
        return Harness.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + e.getPort() + "/api/publish"))
                .header("X-Api-Key", KEY).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void sendToAllKeepsWhatTheOutboxHoldsAndThrowsBeyond() throws Exception {
        RedisServer redis = RedisServer.start();
        int port = redis.port;
        String prefix = "o" + System.nanoTime();
        Map<String, ChannelOptions> channels = new ConcurrentHashMap<>();
        channels.put("room", ChannelOptions.defaults());
        CometEngine a = new CometEngine(channels);
        CometEngine b = new CometEngine(channels);
        Harness.Client pa = null;
        Harness.Client pb = null;
        try {
            a.start(config(redis.url, prefix, Map.of("Comet.HubOutboxRecords", String.valueOf(BOUND))));
            b.start(config(redis.url, prefix, Map.of()));
            pa = page(a, "room");
            pb = page(b, "room");
            a.sendToAll("room", "before");
            assertEquals("before", pa.nextMsg(10000).get("data"));
            assertEquals("before", pb.nextMsg(10000).get("data"));

            redis.kill();
            redis = null;
            HubTest.await(() -> a.getStats().get("hubUp") == 0 && b.getStats().get("hubUp") == 0,
                    "both links down");
            for (int i = 0; i < BOUND; i++) {
                a.sendToAll("room", i); // kept: no exception
            }
            for (int i = 0; i < BOUND; i++) {
                assertEquals(i, ((Number) pa.nextMsg(10000).get("data")).intValue(), "A's page, at once");
            }
            NativeException full = assertThrows(NativeException.class, () -> a.sendToAll("room", "refused"));
            assertEquals(NativeException.EFULL, full.getCode(), full.getMessage());
            assertTrue(full.getMessage().contains("Comet.HubOutboxRecords"), full.getMessage());
            HttpResponse<String> r = publish(a, "{\"channel\":\"room\",\"data\":\"refused too\"}");
            assertEquals(503, r.statusCode(), r.body());
            assertTrue(r.body().contains("outbox is full") && r.body().contains("retry later"), r.body());
            assertEquals(2L, a.getStats().get("hubRefused"));
            assertEquals((long) BOUND, a.getStats().get("hubOutbox"));
            HttpResponse<String> stats = Harness.HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + a.getPort() + "/api/stats")).header("X-Api-Key", KEY).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, stats.statusCode());
            assertTrue(stats.body().contains("\"hubRefused\":2"), stats.body());

            redis = RedisServer.start(port); // empty, on the same port
            HubTest.await(() -> a.getStats().get("hubUp") == 1 && b.getStats().get("hubUp") == 1,
                    "both links back");
            for (int i = 0; i < BOUND; i++) {
                assertEquals(i, ((Number) pb.nextMsg(10000).get("data")).intValue(), "B's page, in order");
            }
            HubTest.await(() -> a.getStats().get("hubOutbox") == 0, "the outbox sent");
            a.sendToAll("room", "after");
            assertEquals("after", pa.nextMsg(10000).get("data"), "A's page: nothing twice, nothing refused");
            assertEquals("after", pb.nextMsg(10000).get("data"), "B's page: nothing refused");
            assertEquals(0L, b.getStats().get("hubLost"));
            assertEquals(0L, b.getStats().get("hubDuplicates"));
        } finally {
            if (pa != null) {
                pa.abort();
            }
            if (pb != null) {
                pb.abort();
            }
            a.stop();
            b.stop();
            if (redis != null) {
                redis.close();
            }
        }
    }
}
