package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.comet4j.core.exception.ConfigException;
import org.junit.jupiter.api.Test;

class CometConfigTest {

    @Test
    void defaults() {
        CometConfig c = CometConfig.defaults();
        assertEquals(60000, c.getTimeout());
        assertEquals(60000, c.getCacheExpires());
        assertEquals(60000, c.getCacheFrequency());
        assertEquals(5000, c.getConnExpires());
        assertEquals(5000, c.getConnFrequency());
        assertEquals("auto", c.getWorkStyle());
        assertFalse(c.isDebug());
        assertEquals("en", c.getLanguage()); // Comet4J's was zh: texts default to English here
        assertEquals(60000, c.getIdleTimeout());
        assertEquals(37500, c.getPollHold()); // 60 s asked: what the page waits (25 s + heartbeat / 2)
        assertEquals(-2, c.getPort()); // one port: no native listener
        assertTrue(c.isOnePort());
        assertEquals(0, c.listenPort()); // the container way's internal listener, on loopback
        assertEquals("127.0.0.1", c.listenHost());
        assertEquals("0.0.0.0", c.getHost());
        assertNull(c.getPublicUrl());
        assertEquals(Runtime.getRuntime().availableProcessors(), c.getThreads());
        assertEquals(25000, c.getHeartbeat());
        assertEquals(65536, c.getMaxFrame());
        assertEquals(65536, c.getMaxMessage());
        assertEquals(1048576, c.getMaxQueue());
        assertEquals("*", c.getAllowedOrigins());
        assertEquals(60, c.getTicketTtl());
        assertEquals(10000, c.getHandshakeTimeout());
        assertEquals(16, c.getMaxPendingPerAddress());
        assertEquals(32, c.getSecret().length);
        assertFalse(java.util.Arrays.equals(c.getSecret(), CometConfig.defaults().getSecret()),
                "the default secret is random per start");
    }

    @Test
    void values() {
        CometConfig c = CometConfig.parse(Map.of("Comet.Port", " 0 ", "Comet.Debug", "TRUE",
                "Comet.Language", "en", "Comet.WorkStyle", "websocket",
                "Comet.PublicUrl", "wss://example.com/comet, ws://b.example.com:4100/ws",
                "Comet.Secret", "sixteen-bytes-ok", "Comet.Timeout", "30000", "Comet.Heartbeat", "10000",
                "Other.Param", "ignored"));
        assertEquals(0, c.getPort());
        assertTrue(c.isDebug());
        assertEquals(Locale.ENGLISH, c.getLocale());
        assertEquals("websocket", c.getWorkStyle());
        assertEquals("wss://example.com/comet", c.getPublicUrl());
        assertEquals(List.of("wss://example.com/comet", "ws://b.example.com:4100/ws"), c.getPublicUrls());
        assertArrayEquals("sixteen-bytes-ok".getBytes(StandardCharsets.UTF_8), c.getSecret());
        assertEquals(30000, c.getTimeout());
        assertEquals(List.of("https://example.com/comet", "http://[::1]:4100/"),
                CometConfig.parse(Map.of("Comet.PublicUrl", "https://example.com/comet,http://[::1]:4100/"))
                        .getPublicUrls());
        // {workerIndex} with Comet.Workers: one URL per node process.
        assertEquals(List.of("ws://h:4100/ws", "ws://h:4101/ws", "ws://h:4102/ws", "https://x/"),
                CometConfig.parse(Map.of("Comet.PublicUrl", "ws://h:410{workerIndex}/ws, https://x/",
                        "Comet.Workers", "3")).getPublicUrls());
        assertEquals(List.of("ws://h:4100/ws"),
                CometConfig.parse(Map.of("Comet.PublicUrl", "ws://h:410{workerIndex}/ws")).getPublicUrls());
        bad("Comet.Workers", "0", "");
        for (String ws : new String[] {"auto", "websocket", "stream", "lpool"}) {
            assertEquals(ws, CometConfig.parse(Map.of("Comet.WorkStyle", ws)).getWorkStyle());
        }
    }

    private static void bad(String name, String value, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> CometConfig.parse(Map.of(name, value)));
        assertEquals(name, e.getParameter());
        assertTrue(e.getMessage().startsWith(name + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void badValuesNameTheParameter() {
        bad("Comet.Port", "abc", "not a number: 'abc'");
        assertEquals("Comet.Port: not a number: 'abc'",
                assertThrows(ConfigException.class, () -> CometConfig.parse(Map.of("Comet.Port", "abc"))).getMessage());
        bad("Comet.Port", "70000", "between -1 and 65535");
        bad("Comet.Port", "-2", "between");
        bad("Comet.Threads", "0", "between 1");
        bad("Comet.Timeout", "1e3", "not a number");
        bad("Comet.IdleTimeout", "20000", "greater than Comet.Heartbeat");
        bad("Comet.Heartbeat", "x", "not a number");
        bad("Comet.MaxFrame", "99999999999", "between");
        bad("Comet.MaxMessage", "-5", "between");
        bad("Comet.MaxQueue", "ten", "not a number");
        bad("Comet.MaxConnections", "0", "between");
        bad("Comet.HandshakeTimeout", "99", "between 100 and 600000");
        bad("Comet.HandshakeTimeout", "soon", "not a number");
        bad("Comet.MaxPendingPerAddress", "-1", "between 0 and 1000000");
        assertEquals(0, CometConfig.parse(Map.of("Comet.MaxPendingPerAddress", "0")).getMaxPendingPerAddress());
        assertEquals(2500, CometConfig.parse(Map.of("Comet.HandshakeTimeout", "2500")).getHandshakeTimeout());
        bad("Comet.TicketTtl", "0", "between");
        bad("Comet.CacheExpires", "soon", "not a number");
        bad("Comet.WorkStyle", "carrier-pigeon", "must be one of");
        bad("Comet.Secret", "short", "at least 16 bytes");
        bad("Comet.PublicUrl", "ftp://example.com/", "http://, https://, ws:// or wss://");
        bad("Comet.PublicUrl", "https:///comet", "http://, https://, ws:// or wss://");
        bad("Comet.PublicUrl", "ws://bad url", "not a URL");
    }

    @Test
    void blankMeansDefault() {
        CometConfig c = CometConfig.parse(Map.of("Comet.Port", "  ", "Comet.Timeout", ""));
        assertEquals(-2, c.getPort()); // not set: one port
        assertTrue(c.isOnePort());
        assertEquals(60000, c.getTimeout());
    }

    @Test
    void hubSettings() {
        CometConfig d = CometConfig.defaults();
        assertEquals("local", d.getHub());
        assertFalse(d.isHubRedis());
        assertEquals("c4j", d.getHubPrefix());
        assertTrue(d.isListenActions());
        for (String url : new String[] {"redis://127.0.0.1", "redis://redis.internal:6380", "redis://h/3",
            "redis://[::1]:6379/0"}) {
            CometConfig c = CometConfig.parse(Map.of("Comet.Hub", url));
            assertEquals(url, c.getHub());
            assertTrue(c.isHubRedis());
        }
        CometConfig c = CometConfig.parse(Map.of("Comet.Hub", " local ", "Comet.HubPrefix", "app-1:prod.x_y",
                "Comet.ListenActions", "FALSE"));
        assertFalse(c.isHubRedis());
        assertEquals("app-1:prod.x_y", c.getHubPrefix());
        assertFalse(c.isListenActions());
        bad("Comet.Hub", "redis", "must be local or redis://host[:port][/db]");
        bad("Comet.Hub", "http://127.0.0.1:6379", "must be local or redis://");
        bad("Comet.Hub", "redis://", "must be local or redis://");
        bad("Comet.Hub", "redis://h:port", "must be local or redis://");
        bad("Comet.Hub", "redis://h:70000", "port must be between 1 and 65535");
        bad("Comet.Hub", "redis://h/db", "must be local or redis://");
        bad("Comet.Hub", "redis://user:pw@h", "must be local or redis://");
        bad("Comet.HubPrefix", "has space", "1 to 64 characters");
        bad("Comet.HubPrefix", "x".repeat(65), "1 to 64 characters");
        bad("Comet.ListenActions", "sometimes", "true or false");
    }

    @Test
    void hubBounds() {
        CometConfig d = CometConfig.defaults();
        assertEquals(100000, d.getHubOutboxRecords()); // 10 s at 1,000 a second, ten times over
        assertEquals(64 << 20, d.getHubOutboxBytes());
        assertEquals(100000, d.getHubCatchUpRecords());
        assertEquals(64 << 20, d.getHubCatchUpBytes());
        CometConfig c = CometConfig.parse(Map.of("Comet.HubOutboxRecords", "5", "Comet.HubOutboxBytes", "65536",
                "Comet.HubCatchUpRecords", "0", "Comet.HubCatchUpBytes", "1048576"));
        assertEquals(5, c.getHubOutboxRecords());
        assertEquals(65536, c.getHubOutboxBytes());
        assertEquals(0, c.getHubCatchUpRecords());
        assertEquals(1048576, c.getHubCatchUpBytes());
        bad("Comet.HubOutboxRecords", "0", "between 1 and 10000000");
        bad("Comet.HubOutboxBytes", "1000", "between 65536 and");
        bad("Comet.HubCatchUpRecords", "-1", "between 0 and 10000000");
        bad("Comet.HubCatchUpBytes", "x", "not a number");
        assertEquals("Comet.HubOutboxRecords",
                CometConfig.parameterOf("hub_outbox_records: must be between 1 and 10000000"));
        assertEquals("Comet.HubCatchUpBytes",
                CometConfig.parameterOf("hub_catchup_bytes: must be between 65536 and 17179869184"));
    }

    @Test
    void deflate() {
        assertTrue(CometConfig.defaults().isDeflate());
        assertFalse(CometConfig.parse(Map.of("Comet.Deflate", "false")).isDeflate());
        assertTrue(CometConfig.parse(Map.of("Comet.Deflate", "TRUE")).isDeflate());
        bad("Comet.Deflate", "on", "true or false");
        assertEquals("Comet.Deflate", CometConfig.parameterOf("deflate: must be 0 or 1"));
    }

    @Test
    void portMinusOneNeedsPublicUrl() {
        CometConfig c = CometConfig.parse(Map.of("Comet.Port", "-1", "Comet.PublicUrl", "ws://node1:4100/ws"));
        assertEquals(-1, c.getPort());
        ConfigException e = assertThrows(ConfigException.class,
                () -> CometConfig.parse(Map.of("Comet.Port", "-1")));
        assertEquals("Comet.PublicUrl", e.getParameter());
        assertTrue(e.getMessage().contains("Comet.Port is -1"), e.getMessage());
    }

    @Test
    void coreFieldNamesMapToParameters() {
        assertEquals("Comet.Hub", CometConfig.parameterOf("hub: cannot reach redis://report:6379/0: refused"));
        assertEquals("Comet.HubPrefix", CometConfig.parameterOf("hub_prefix: must be 1 to 64 of A-Z"));
        assertEquals("Comet.ListenActions", CometConfig.parameterOf("listen_actions: must be 0 or 1"));
        assertEquals("Comet.Heartbeat", CometConfig.parameterOf("heartbeat_ms: must be between 100 and 3600000"));
        assertEquals("Comet.MaxFrame", CometConfig.parameterOf("max_frame"));
        assertEquals("Comet.IdleTimeout", CometConfig.parameterOf("idle_timeout_ms"));
        assertEquals("Comet.Timeout", CometConfig.parameterOf("hold_ms: must be between 0 and 86400000"));
        assertEquals("Comet.Secret", CometConfig.parameterOf("secret_len"));
        assertEquals("Comet.HandshakeTimeout",
                CometConfig.parameterOf("handshake_timeout_ms: must be between 100 and 600000"));
        assertEquals("Comet.MaxPendingPerAddress",
                CometConfig.parameterOf("max_pending_per_addr: must be between 0 (no cap) and 1000000"));
        assertEquals("Comet.*", CometConfig.parameterOf(null));
    }
}
