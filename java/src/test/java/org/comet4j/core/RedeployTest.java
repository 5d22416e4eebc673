package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.util.Map;

import org.comet4j.core.exception.NativeException;
import org.junit.jupiter.api.Test;

/** Start, stop, start again on the same port; a port in use fails clearly. */
class RedeployTest {

    @Test
    void stopReleasesThePortAndThreads() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        for (int round = 0; round < 3; round++) {
            Harness.start(Map.of("Comet.Port", String.valueOf(port)), "c");
            assertEquals(port, Harness.engine().getPort());
            assertTrue(CometContext.getInstance().isInit());
            Harness.stop();
            assertFalse(dispatcherAlive(), "no dispatcher thread left after destroy");
        }
        CometEngine old = Harness.engine();
        Harness.start(Map.of(), "c");
        Harness.stop();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> old.sendToAll("c", 1));
        assertTrue(e.getMessage().contains("stopped"), e.getMessage());
    }

    @Test
    void portInUseFailsNamingTheCause() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            NativeException e = assertThrows(NativeException.class,
                    () -> Harness.start(Map.of("Comet.Port", String.valueOf(taken.getLocalPort()))));
            assertTrue(e.getMessage().contains("Comet.Port"), e.getMessage());
            assertTrue(e.getMessage().toLowerCase().contains("in use"), e.getMessage());
            assertFalse(CometContext.getInstance().isInit());
        } finally {
            CometContext.getInstance().destroy();
        }
        assertFalse(dispatcherAlive());
    }

    static boolean dispatcherAlive() throws InterruptedException {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(Dispatcher.THREAD_NAME)) {
                t.join(5000);
                if (t.isAlive()) {
                    return true;
                }
            }
        }
        return false;
    }
}
