package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** sendToAll reaches every one of many clients, each message once and in order. */
class BroadcastTest {

    static final int CLIENTS = 500;
    static final int MESSAGES = 20;

    @BeforeAll
    static void start() {
        Harness.start(Map.of(), "news");
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    @Test
    void broadcastReachesAllInOrder() throws Exception {
        HttpClient http = HttpClient.newHttpClient(); // one selector thread for all clients
        List<Harness.Client> clients = new ArrayList<>();
        List<CompletableFuture<?>> opening = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            Map<String, Object> a = MiniJson.object(
                    Harness.handshake(new FakeHttp.Req().param("cmd", "conn")).body.toString());
            Harness.Client c = new Harness.Client();
            clients.add(c);
            opening.add(Harness.connectAsync(http, (String) a.get("ticket"), c).thenAccept(ws -> c.ws = ws));
        }
        CompletableFuture.allOf(opening.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
        for (Harness.Client c : clients) {
            assertEquals("open", c.next(10000).get("t")); // attached: the core will fan out to it
        }
        for (int i = 0; i < MESSAGES; i++) {
            Harness.engine().sendToAll("news", Map.of("seq", i));
        }
        for (Harness.Client c : clients) {
            for (int i = 0; i < MESSAGES; i++) {
                Map<String, Object> m = c.nextMsg(10000);
                assertEquals("news", m.get("ch"));
                assertEquals((long) i, ((Map<?, ?>) m.get("data")).get("seq"));
            }
        }
        long deadline = System.currentTimeMillis() + 10000;
        while (Harness.engine().getConnections().size() < CLIENTS && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(CLIENTS, Harness.engine().getConnections().size());
        for (Harness.Client c : clients) {
            c.abort();
        }
    }
}
