package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.comet4j.core.exception.ConfigException;
import org.comet4j.test.FakeHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Comet.Metrics and MetricsServlet (docs/metrics.md) over a real engine:
 * who may read (the key as a bearer, a list of addresses: 401, 403), the
 * text with the core's figures and Java's own (a refused BeforeConnect,
 * tickets issued), and the settings refused at start naming Comet.Metrics.
 */
class MetricsServletTest {

    static final String KEY = "metrics-test-key-0123456789abcdef";

    @BeforeAll
    static void start() {
        Harness.start(Map.of("Comet.ApiKey", KEY, "Comet.Metrics", "10.1.2.3, 127.0.0.1"), "news");
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    private static FakeHttp.Resp get(FakeHttp.Req req) throws Exception {
        FakeHttp.Resp resp = new FakeHttp.Resp();
        new MetricsServlet().doGet(FakeHttp.request(req), FakeHttp.response(resp));
        return resp;
    }

    private static String text(FakeHttp.Resp r) {
        return new String(r.bytes.toByteArray(), StandardCharsets.UTF_8);
    }

    private static long value(String text, String line) {
        for (String l : text.split("\n")) {
            if (l.startsWith(line + " ")) {
                return Long.parseLong(l.substring(line.length() + 1));
            }
        }
        throw new AssertionError("no " + line + " in\n" + text);
    }

    @Test
    void aListedAddressOrTheKeyReadsAnyOtherIsRefused() throws Exception {
        FakeHttp.Resp ok = get(new FakeHttp.Req());
        assertEquals(200, ok.status);
        assertEquals("text/plain; version=0.0.4; charset=utf-8", ok.contentType);
        FakeHttp.Req other = new FakeHttp.Req();
        other.remoteAddr = "192.0.2.7";
        assertEquals(403, get(other).status);
        other.header("Authorization", "Bearer " + KEY);
        assertEquals(200, get(other).status);
        other.header("Authorization", "Bearer not-the-key-0123456789");
        FakeHttp.Resp wrong = get(other);
        assertEquals(401, wrong.status);
        assertTrue(wrong.headers.get("WWW-Authenticate").startsWith("Bearer"));
        // An IPv4 client seen through a dual-stack socket.
        FakeHttp.Req mapped = new FakeHttp.Req();
        mapped.remoteAddr = "::ffff:10.1.2.3";
        assertEquals(200, get(mapped).status);
    }

    @Test
    void theRules() {
        assertEquals(404, MetricsServlet.allowed(null, KEY, "127.0.0.1", null));
        assertEquals(401, MetricsServlet.allowed("true", KEY, "127.0.0.1", null));
        assertEquals(0, MetricsServlet.allowed("true", KEY, "127.0.0.1", "bearer " + KEY));
        assertEquals(401, MetricsServlet.allowed("true", KEY, "127.0.0.1", "Basic eDp5"));
        assertEquals(403, MetricsServlet.allowed("10.0.0.1", "", "127.0.0.1", "Bearer " + KEY));
        assertEquals(0, MetricsServlet.allowed("0:0:0:0:0:0:0:1", "", "::1", null));
    }

    @Test
    void theTextHasTheCoresFiguresAndJavasOwn() throws Exception {
        String before = text(get(new FakeHttp.Req()));
        Harness.handshake();
        String after = text(get(new FakeHttp.Req()));
        assertEquals(value(before, "comet4j_tickets_issued_total") + 1, value(after, "comet4j_tickets_issued_total"));
        assertTrue(after.contains("\n# TYPE comet4j_connections gauge\n"), after);
        assertTrue(after.contains("\n# TYPE comet4j_action_handler_seconds histogram\n"), after);
        assertEquals(0, value(after, "comet4j_action_handler_seconds_bucket{le=\"+Inf\"}"));
        assertTrue(after.endsWith("\n"));
        // The core's scalars in getStats() too, under their names.
        assertTrue(Harness.engine().getStats().containsKey("broadcasts"));
    }

    @Test
    void badSettingsNameComet_Metrics() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> CometConfig.parse(Map.of("Comet.Metrics", "true")));
        assertEquals("Comet.Metrics", e.getParameter());
        assertTrue(e.getMessage().contains("Comet.ApiKey"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> CometConfig.parse(Map.of("Comet.Metrics", "yes please")));
        assertEquals("Comet.Metrics", e.getParameter());
        assertNull(CometConfig.parse(Map.of("Comet.Metrics", "false")).getMetrics());
        assertEquals("true", CometConfig.parse(Map.of("Comet.Metrics", "TRUE", "Comet.ApiKey", KEY)).getMetrics());
    }
}
