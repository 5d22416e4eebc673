package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * With Redis gone after start-up, the online and presence queries answer
 * this node's own figures (after at most the 500 ms wait) instead of
 * failing, and the engine still stops cleanly.
 */
class HubFallbackTest {

    @Test
    void queriesFallBackToThisNodeWhenRedisIsGone() throws Exception {
        RedisServer redis = RedisServer.start();
        Map<String, ChannelOptions> channels = new ConcurrentHashMap<>();
        channels.put("lobby", ChannelOptions.defaults().presence());
        CometEngine e = new CometEngine(channels);
        Harness.Client c = new Harness.Client();
        try {
            Map<String, String> cfg = new HashMap<>();
            cfg.put("Comet.Port", "0");
            cfg.put("Comet.Host", "127.0.0.1");
            cfg.put("Comet.Threads", "1");
            cfg.put("Comet.Secret", Harness.SECRET);
            cfg.put("Comet.Hub", redis.url);
            e.start(CometConfig.parse(cfg));
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
