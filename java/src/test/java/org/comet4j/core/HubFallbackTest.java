package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.comet4j.core.exception.NativeException;
import org.junit.jupiter.api.Test;

/**
 * With Redis gone after start-up, the online and presence queries answer
 * this node's own figures (after at most the 500 ms wait) instead of
 * failing, and the engine still stops cleanly; and a command the hub's
 * full outbox cannot take is answered 5030 (retry later), not 4290.
 */
class HubFallbackTest {

    static CometConfig config(String redisUrl) {
        Map<String, String> cfg = new HashMap<>();
        cfg.put("Comet.Port", "0");
        cfg.put("Comet.Host", "127.0.0.1");
        cfg.put("Comet.Threads", "1");
        cfg.put("Comet.Secret", Harness.SECRET);
        cfg.put("Comet.Hub", redisUrl);
        return CometConfig.parse(cfg);
    }

    /**
     * Redis killed, the outbox filled to its bound (Comet.HubOutboxRecords) with
     * sends to ids nobody holds, then the sub of a page another node holds
     * (as comet4j-node queues it, run by Commands here): Native.subscribe
     * answers EFULL, which is "the server cannot take it now" (5030), not
     * the page's 257th subscription (4290, the core's own answer).  The err
     * cannot reach the page (it would go through the same outbox), so the
     * test reads what Commands sends.
     */
    @Test
    void aSubTheHubsFullOutboxCannotTakeIs5030() throws Exception {
        RedisServer redis = RedisServer.start();
        Map<String, ChannelOptions> channels = new ConcurrentHashMap<>();
        channels.put("room", ChannelOptions.defaults());
        List<String> sent = Collections.synchronizedList(new ArrayList<>());
        CometEngine e = new CometEngine(channels) {
            @Override
            void sendError(String cid, long id, int code, String message) {
                sent.add(cid + " " + id + " " + code + " " + message);
                super.sendError(cid, id, code, message);
            }
        };
        try {
            Map<String, String> small = new HashMap<>();
            small.put("Comet.Port", "0");
            small.put("Comet.Host", "127.0.0.1");
            small.put("Comet.Threads", "1");
            small.put("Comet.Secret", Harness.SECRET);
            small.put("Comet.Hub", redis.url);
            small.put("Comet.HubOutboxRecords", "50");
            e.start(CometConfig.parse(small));
            redis.close();
            redis = null;
            HubTest.await(() -> e.getStats().get("hubUp") == 0, "the link down");
            int queued = 0;
            try {
                while (queued <= 1000) {
                    e.sendToConnection(e.newId(), "room", queued);
                    queued++;
                }
            } catch (NativeException full) {
                assertEquals(NativeException.EFULL, full.getCode(), full.getMessage());
            }
            assertEquals(50, queued, queued + " records queued");

            String page = e.newId(); // held by no node here: its commands go through the hub
            new Commands(e).run("sub", CometConnection.remote(page, "zoe"), 7,
                    Map.of("t", "sub", "cId", page, "id", 7L, "ch", "room"));
            assertEquals(1, sent.size(), sent.toString());
            String err = sent.get(0);
            assertTrue(err.startsWith(page + " 7 5030 "), err);
            assertTrue(err.contains("outbox is full") && err.contains("retry later"), err);
        } finally {
            e.stop();
            if (redis != null) {
                redis.close();
            }
        }
    }

    @Test
    void queriesFallBackToThisNodeWhenRedisIsGone() throws Exception {
        RedisServer redis = RedisServer.start();
        Map<String, ChannelOptions> channels = new ConcurrentHashMap<>();
        channels.put("lobby", ChannelOptions.defaults().presence());
        CometEngine e = new CometEngine(channels);
        Harness.Client c = new Harness.Client();
        try {
            e.start(config(redis.url));
            String cid = e.newId();
            String ticket = e.ticket(cid, "zed", System.currentTimeMillis() / 1000 + 60, new ArrayList<>(List.of("lobby")));
            c.ws = Harness.HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create("ws://127.0.0.1:" + e.getPort() + "/ws?ticket=" + ticket), c)
                    .get(10, TimeUnit.SECONDS);
            assertEquals("open", c.next(10000).get("t"));
            HubTest.await(() -> e.getMemberCount("lobby") == 1 && e.getOnlineCount() == 1, "zed, through the hub");

            redis.close();
            redis = null;
            long t0 = System.currentTimeMillis();
            assertEquals(1, e.getOnlineCount(), "this node's own count");
            assertEquals(1, e.getMemberCount("lobby"));
            assertEquals(Map.of(cid, "zed"), e.getMembers("lobby"));
            assertTrue(e.isOnline("zed"));
            long took = System.currentTimeMillis() - t0;
            assertTrue(took < 5000, "four queries took " + took + " ms");
            e.sendToAll("lobby", "still delivered here");
            assertEquals("still delivered here", c.nextMsg(10000).get("data"));
        } finally {
            c.abort();
            e.stop();
            if (redis != null) {
                redis.close();
            }
        }
        assertTrue(!e.isRunning());
    }
}
