package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The handshake answer of an engine behind public URLs (Comet.PublicUrl), with WorkStyle and ConnExpires set. */
class PublicUrlHandshakeTest {

    @BeforeAll
    static void start() {
        Harness.start(Map.of("Comet.PublicUrl", "https://example.com/comet, ws://[2001:db8::7]:4100/ws",
                "Comet.WorkStyle", "stream", "Comet.ConnExpires", "2500"), "clock");
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    @Test
    void answerHasOneUrlPerBaseAndTransport() throws Exception {
        Map<String, Object> a = Harness.handshake();
        assertEquals(List.of("wss://example.com/comet/ws", "ws://[2001:db8::7]:4100/ws"), a.get("endpoints"));
        assertEquals(List.of("https://example.com/comet/sse", "http://[2001:db8::7]:4100/sse"), a.get("stream"));
        assertEquals(List.of("https://example.com/comet/poll", "http://[2001:db8::7]:4100/poll"), a.get("lpool"));
        assertEquals(List.of("https://example.com/comet/cmd", "http://[2001:db8::7]:4100/cmd"), a.get("cmd"));
        assertEquals("stream", a.get("workStyle"));
        assertEquals(2500L, a.get("connExpires"));
    }
}
