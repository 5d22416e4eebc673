package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Comet.HandshakeTimeout and Comet.MaxPendingPerAddress reach the core:
 * sockets that send no request are cut with 408, an address over its cap
 * of a crowded core gets 429 at once, and getStats() counts both by
 * reason (docs/protocol.md section 2, "Unfinished requests").
 */
class UnfinishedRequestTest {

    @BeforeAll
    static void start() {
        Harness.start(Map.of("Comet.HandshakeTimeout", "1500", "Comet.MaxConnections", "8",
                "Comet.MaxPendingPerAddress", "2"));
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    private static Socket connect(String from) throws Exception {
        Socket s = new Socket(InetAddress.getByName("127.0.0.1"), Harness.engine().getPort(),
                InetAddress.getByName(from), 0);
        s.setSoTimeout(10000);
        return s;
    }

    private static String answer(Socket s) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = s.getInputStream()) {
            byte[] b = new byte[512];
            for (int n; (n = in.read(b)) > 0;) {
                out.write(b, 0, n);
            }
        }
        s.close();
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    private static long stat(String name) {
        return Harness.engine().getStats().get(name);
    }

    private static void awaitPending(long n) throws InterruptedException {
        for (int i = 0; i < 200 && stat("pending") < n; i++) {
            Thread.sleep(10);
        }
        assertEquals(n, stat("pending"));
    }

    @Test
    void silentSocketsAreCutAndAnAddressOverItsCapRefused() throws Exception {
        List<Socket> quiet = new ArrayList<>();
        // Not crowded (under 4 of 8 held): no cap for 127.0.0.2.
        for (int i = 0; i < 4; i++) {
            quiet.add(connect("127.0.0.2"));
            awaitPending(i + 1);
        }
        // Crowded: 127.0.0.2 is over its 2, 127.0.0.3 has its own.
        String refused = answer(connect("127.0.0.2"));
        assertTrue(refused.startsWith("HTTP/1.1 429 "), refused);
        assertTrue(refused.endsWith("too many unfinished requests from this address"), refused);
        quiet.add(connect("127.0.0.3"));
        awaitPending(5);
        assertEquals(1L, stat("refusedAddress"));
        // 5 of 8 held: the deadline is three quarters of 1.5 s.
        for (Socket s : quiet) {
            String a = answer(s);
            assertTrue(a.startsWith("HTTP/1.1 408 Request Timeout\r\n"), a);
            assertTrue(a.contains("Connection: close\r\n"), a);
            assertTrue(a.endsWith("request timeout (server busy)") || a.endsWith("request timeout"), a);
        }
        assertEquals(0L, stat("pending"));
        assertEquals(5L, stat("timeouts") + stat("timeoutsShortened"));
        assertEquals(0L, stat("evicted"));
        assertEquals(0L, stat("refusedFull"));
    }
}
