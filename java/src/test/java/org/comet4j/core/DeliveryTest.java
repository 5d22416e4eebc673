package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.Test;

/**
 * What Delivery checks before it reaches the core, on an engine that is not
 * running: arguments, the core's own close codes, and that answers to pages
 * never throw.  Sends through the real core are in BroadcastTest and
 * CometEngineTest.
 */
class DeliveryTest {

    final Map<String, ChannelOptions> channels = new ConcurrentHashMap<>();
    final CometEngine engine = new CometEngine(channels);
    final Delivery delivery = new Delivery(engine, new Connections(engine));
    final CometConnection c = new CometConnection(engine, "c1", null, 0, null, CometProtocol.WORKSTYLE_WEBSOCKET,
            null);

    @Test
    void argumentsAreCheckedFirst() {
        assertThrows(IllegalArgumentException.class, () -> Delivery.checkChannel(null));
        assertThrows(IllegalArgumentException.class, () -> Delivery.checkChannel(""));
        Delivery.checkChannel("news");
        assertThrows(IllegalArgumentException.class, () -> delivery.sendToAll("", "x"));
        assertThrows(NullPointerException.class, () -> delivery.sendTo("news", (CometConnection) null, "x"));
        assertThrows(IllegalArgumentException.class, () -> delivery.sendToUser("", "news", "x"));
        assertThrows(IllegalArgumentException.class, () -> delivery.sendToUser(null, "news", "x"));
        assertThrows(IllegalArgumentException.class, () -> delivery.sendToConnection("", "news", "x"));
        assertThrows(IllegalArgumentException.class, () -> delivery.dropConnection(null, 4003, "x"));
    }

    @Test
    void theCoresCloseCodesAreRefusedBeforeAnythingElse() {
        for (int code : new int[] {4002, 4004, 4005}) {
            assertThrows(IllegalArgumentException.class, () -> delivery.drop(c, code, "no"));
            assertThrows(IllegalArgumentException.class, () -> delivery.dropConnection("c1", code, "no"));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> delivery.drop(c, 4003, "ok"));
        assertTrue(e.getMessage().contains("drop before the engine was started"), e.getMessage());
    }

    @Test
    void sendsBeforeStartSaySo() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> delivery.sendTo("news", c, "x"));
        assertTrue(e.getMessage().contains("sendTo before the engine was started"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> delivery.sendToAll("news", "x"));
        assertThrows(IllegalStateException.class, () -> delivery.sendToUser("alice", "news", "x"));
        delivery.sendTo("news", List.of(), "x"); // nobody to send to: the core is not asked
    }

    @Test
    void answersNeverThrow() {
        assertFalse(delivery.frame("c1", "{\"t\":\"res\",\"id\":1}"));
        delivery.ack("c1", 1);
        delivery.error("c1", -1, CometProtocol.ERR_BAD_COMMAND, null);
    }
}
