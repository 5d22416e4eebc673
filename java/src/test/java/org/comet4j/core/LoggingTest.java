package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.comet4j.core.exception.ConfigException;
import org.comet4j.test.FakeHttp;
import org.junit.jupiter.api.Test;

/**
 * Logging with a real engine: Comet.LogLevel sets the level of the logger
 * org.comet4j while it runs, the core's records reach org.comet4j.native
 * at their level, and refusals a client can repeat at will (a bad ticket,
 * an origin not allowed) are logged a few times a minute, however many
 * requests come.
 */
class LoggingTest {

    static final Logger ROOT = Logger.getLogger("org.comet4j");

    @Test
    void logLevelValues() {
        assertEquals(Level.SEVERE, CometConfig.parse(Map.of("Comet.LogLevel", "error")).getLogLevel());
        assertEquals(Level.WARNING, CometConfig.parse(Map.of("Comet.LogLevel", "warn")).getLogLevel());
        assertEquals(Level.INFO, CometConfig.parse(Map.of("Comet.LogLevel", " INFO ")).getLogLevel());
        assertEquals(Level.FINE, CometConfig.parse(Map.of("Comet.LogLevel", "debug")).getLogLevel());
        assertEquals(Level.FINE, CometConfig.parse(Map.of("Comet.Debug", "true")).getLogLevel(), "Comet4J's switch");
        assertEquals(Level.WARNING, CometConfig.parse(Map.of("Comet.Debug", "true", "Comet.LogLevel", "warn"))
                .getLogLevel(), "Comet.LogLevel wins");
        assertNull(CometConfig.defaults().getLogLevel(), "neither: logging.properties decides");
        ConfigException e = assertThrows(ConfigException.class,
                () -> CometConfig.parse(Map.of("Comet.LogLevel", "verbose")));
        assertEquals("Comet.LogLevel: must be one of [debug, error, info, warn]: 'verbose'", e.getMessage());
        assertEquals("Comet.LogLevel", e.getParameter());
    }

    @Test
    void theLevelHoldsWhileTheEngineRunsAndIsGivenBack() throws Exception {
        Level before = ROOT.getLevel();
        try (LogCapture jul = new LogCapture("org.comet4j")) {
            Harness.start(Map.of("Comet.LogLevel", "warn"), "news");
            try {
                assertEquals(Level.WARNING, ROOT.getLevel());
                assertEquals(List.of(), jul.containing("Initialization completely"), "an info line, below warn");
            } finally {
                Harness.stop();
            }
            assertEquals(before, ROOT.getLevel());

            Harness.start(Map.of("Comet.LogLevel", "debug"), "news");
            try {
                String cid = (String) Harness.handshake().get("cId");
                assertEquals(1, jul.containing("comet4j: handshake " + cid).size(), "debug: every handshake");
            } finally {
                Harness.stop();
            }
            assertEquals(before, ROOT.getLevel());
            assertEquals(1, jul.containing("Initialization completely").size(), jul.messages().toString());
        }
    }

    static int get(String url, String origin) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET();
        if (origin != null) {
            b.header("Origin", origin);
        }
        return Harness.HTTP.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Waits until a matching record came, then 1.5 s more for any other: the records of the core are async. */
    static List<LogRecord> settle(LogCapture jul, String s) throws InterruptedException {
        long end = System.currentTimeMillis() + 10000;
        while (jul.containing(s).isEmpty() && System.currentTimeMillis() < end) {
            Thread.sleep(20);
        }
        Thread.sleep(1500);
        return jul.containing(s);
    }

    @Test
    void manyRefusalsFewLines() throws Exception {
        int n = 300;
        try (LogCapture jul = new LogCapture("org.comet4j")) {
            Harness.start(Map.of("Comet.AllowedOrigins", "https://app.example"), "news");
            try {
                String port = "http://127.0.0.1:" + Harness.engine().getPort();
                for (int i = 0; i < n; i++) {
                    assertEquals(401, get(port + "/sse?ticket=forged" + i, null));
                    assertEquals(403, get(port + "/sse?ticket=x", "https://evil" + (i % 40) + ".example"));
                }
                // The core's lines: org.comet4j.native, WARNING, naming the address; at most one a
                // minute per worker (Comet.Threads 2) for each kind.
                List<LogRecord> tickets = settle(jul, "refused for their ticket (401)");
                assertTrue(tickets.size() >= 1 && tickets.size() <= 2, jul.messages().toString());
                for (LogRecord r : tickets) {
                    assertEquals("org.comet4j.native", r.getLoggerName());
                    assertEquals(Level.WARNING, r.getLevel());
                    assertTrue(r.getMessage().contains("invalid ticket, from 127.0.0.1"), r.getMessage());
                }
                List<LogRecord> origins = settle(jul, "refused for their origin (403");
                assertTrue(origins.size() >= 1 && origins.size() <= 2, jul.messages().toString());
                assertTrue(origins.get(0).getMessage().matches(".*from 127\\.0\\.0\\.1, origin https://evil\\d+"
                        + "\\.example .*"), origins.get(0).getMessage());

                // The handshake's (Java): at most ten origins a minute, once each; all counted.
                long refused = Harness.engine().getStats().get("originsRefused");
                for (int i = 0; i < n; i++) {
                    FakeHttp.Resp r = Harness.handshake(new FakeHttp.Req().param("cmd", "conn")
                            .header("Host", "127.0.0.1:8080").header("Origin", "https://evil" + (i % 40) + ".example"));
                    assertEquals(403, r.status);
                }
                assertEquals(refused + n, Harness.engine().getStats().get("originsRefused"));
                List<LogRecord> hs = jul.containing("handshake refused for origin");
                assertEquals(10, hs.size(), jul.messages().toString());
                assertEquals("org.comet4j", hs.get(0).getLoggerName());
                assertEquals(n - 10, Harness.engine().originLog().suppressed());
            } finally {
                Harness.stop();
            }
        }
    }

    @Test
    void theCoreRecordsFollowTheLevel() throws Exception {
        try (LogCapture jul = new LogCapture("org.comet4j")) {
            Harness.start(Map.of("Comet.LogLevel", "error"), "news");
            try {
                String port = "http://127.0.0.1:" + Harness.engine().getPort();
                assertEquals(401, get(port + "/sse?ticket=forged", null));
                Thread.sleep(1500);
                assertEquals(List.of(), jul.containing("refused"), "a warning, below error");
            } finally {
                Harness.stop();
            }
        }
    }
}
