package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * CometConnection keeps an IPv4 address and the port in one number and any
 * other address as its string: each comes back as it was given, also after
 * a revival over another address.
 */
class CometConnectionAddressTest {

    private static CometConnection of(String ip, int port) {
        return new CometConnection(null, "cid0123456789abcdefghi", ip, port, null, "websocket", null);
    }

    @Test
    void everyAddressComesBackAsGiven() {
        for (String ip : new String[] {"127.0.0.1", "0.0.0.0", "255.255.255.255", "10.20.30.40", "192.168.1.254",
                "::1", "2001:db8::7", "::ffff:10.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3",
                "a.b.c.d", "", "1.2.3.4 "}) {
            for (int port : new int[] {0, 1, 443, 50000, 65535}) {
                CometConnection c = of(ip, port);
                assertEquals(ip, c.getClientIp(), ip);
                assertEquals(port, c.getClientPort(), ip + " " + port);
            }
        }
        CometConnection none = of(null, 0);
        assertNull(none.getClientIp());
        assertEquals(0, none.getClientPort());
    }

    @Test
    void aRevivalTakesTheNewAddress() {
        CometConnection c = of("10.0.0.1", 1000);
        c.revive("2001:db8::1", 2000, "stream");
        assertEquals("2001:db8::1", c.getClientIp());
        assertEquals(2000, c.getClientPort());
        assertEquals("stream", c.getWorkStyle());
        c.revive("172.16.5.4", 3000, "websocket");
        assertEquals("172.16.5.4", c.getClientIp());
        assertEquals(3000, c.getClientPort());
        assertEquals("CometConnection[cid0123456789abcdefghi 172.16.5.4:3000 alive]", c.toString());
    }
}
