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
        assertEquals("zh", c.getLanguage());
        assertEquals(4100, c.getPort());
        assertEquals("0.0.0.0", c.getHost());
        assertNull(c.getPublicUrl());
        assertEquals(Runtime.getRuntime().availableProcessors(), c.getThreads());
        assertEquals(25000, c.getHeartbeat());
        assertEquals(65536, c.getMaxFrame());
        assertEquals(65536, c.getMaxMessage());
        assertEquals(1048576, c.getMaxQueue());
        assertEquals("*", c.getAllowedOrigins());
        assertEquals(60, c.getTicketTtl());
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
        bad("Comet.Port", "70000", "between 0 and 65535");
        bad("Comet.Port", "-1", "between");
        bad("Comet.Threads", "0", "between 1");
        bad("Comet.Timeout", "1e3", "not a number");
        bad("Comet.Timeout", "20000", "greater than Comet.Heartbeat");
        bad("Comet.Heartbeat", "x", "not a number");
        bad("Comet.MaxFrame", "99999999999", "between");
        bad("Comet.MaxMessage", "-5", "between");
        bad("Comet.MaxQueue", "ten", "not a number");
        bad("Comet.MaxConnections", "0", "between");
        bad("Comet.TicketTtl", "0", "between");
        bad("Comet.CacheExpires", "soon", "not a number");
        bad("Comet.Debug", "yes", "true or false");
        bad("Comet.WorkStyle", "carrier-pigeon", "must be one of");
        bad("Comet.Secret", "short", "at least 16 bytes");
        bad("Comet.PublicUrl", "ftp://example.com/", "http://, https://, ws:// or wss://");
        bad("Comet.PublicUrl", "https:///comet", "http://, https://, ws:// or wss://");
        bad("Comet.PublicUrl", "ws://bad url", "not a URL");
        bad("Comet.Language", "123", "not a language code");
    }

    @Test
    void blankMeansDefault() {
        CometConfig c = CometConfig.parse(Map.of("Comet.Port", "  ", "Comet.Timeout", ""));
        assertEquals(4100, c.getPort());
        assertEquals(60000, c.getTimeout());
    }

    @Test
    void coreFieldNamesMapToParameters() {
        assertEquals("Comet.MaxFrame", CometConfig.parameterOf("max_frame"));
        assertEquals("Comet.Timeout", CometConfig.parameterOf("idle_timeout_ms"));
        assertEquals("Comet.Secret", CometConfig.parameterOf("secret_len"));
        assertEquals("Comet.*", CometConfig.parameterOf(null));
    }
}
