package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.comet4j.core.event.PublishEvent;
import org.comet4j.core.event.SubscribeEvent;
import org.comet4j.core.exception.NativeException;
import org.comet4j.core.listener.PublishListener;
import org.comet4j.core.listener.SubscribeListener;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * RemoteActions alone, on an engine that is not running: which connection
 * a queued sub is decided for (this node's object, or a stand-in for a page
 * another node holds) and which records are skipped.  The SubscribeListener
 * refuses, so no command reaches the (absent) core.  The queue through a
 * real Redis is in HubTest.
 */
class RemoteActionsTest {

    final Map<String, ChannelOptions> channels = new ConcurrentHashMap<>();
    final List<CometConnection> asked = new ArrayList<>();
    CometEngine engine;
    RemoteActions remote;

    @BeforeEach
    void setUp() {
        channels.put("chat", ChannelOptions.defaults());
        engine = new CometEngine(channels);
        engine.addSubscribeListener(new SubscribeListener() {
            @Override
            public boolean handleEvent(SubscribeEvent e) {
                asked.add(e.getConn());
                return false;
            }
        });
        remote = new RemoteActions(engine, new Commands(engine));
    }

    @Test
    void aSubForAConnectionHereIsDecidedForThisNodesObject() {
        engine.onConnect("c1", "alice", "10.0.0.1", 50001, "websocket");
        remote.onAction("{\"t\":\"sub\",\"cId\":\"c1\",\"user\":\"alice\",\"id\":1,\"ch\":\"chat\"}");
        assertEquals(1, asked.size());
        assertSame(engine.getConnection("c1"), asked.get(0));
        assertFalse(asked.get(0).isRemote());
    }

    @Test
    void aSubForAPageElsewhereIsDecidedForAStandIn() {
        remote.onAction("{\"t\":\"sub\",\"cId\":\"c9\",\"user\":\"zed\",\"id\":2,\"ch\":\"chat\"}");
        remote.onAction("{\"t\":\"sub\",\"cId\":\"c8\",\"user\":\"\",\"id\":3,\"ch\":\"chat\"}");
        assertEquals(2, asked.size());
        CometConnection c = asked.get(0);
        assertTrue(c.isRemote());
        assertEquals("c9", c.getId());
        assertEquals("zed", c.getUser());
        assertNull(asked.get(1).getUser(), "an empty user is anonymous");
        assertNull(engine.getConnection("c9"), "a stand-in is not one of this node's connections");
        assertTrue(engine.getConnections().isEmpty());
    }

    @Test
    void recordsThatAreNotCommandsAreSkipped() {
        for (String json : List.of(
                "not json",
                "[1,2]",
                "{\"t\":\"sub\",\"id\":1,\"ch\":\"chat\"}",
                "{\"t\":\"sub\",\"cId\":\"\",\"id\":1,\"ch\":\"chat\"}",
                "{\"t\":\"sub\",\"cId\":\"c1\",\"ch\":\"chat\"}",
                "{\"t\":\"sub\",\"cId\":\"c1\",\"id\":-1,\"ch\":\"chat\"}",
                "{\"t\":\"sub\",\"cId\":\"c1\",\"id\":\"1\",\"ch\":\"chat\"}",
                "{\"t\":\"zap\",\"cId\":\"c1\",\"id\":1,\"ch\":\"chat\"}",
                "{\"t\":\"sub\",\"cId\":\"c1\",\"id\":1,\"ch\":\"unregistered\"}",
                "{\"t\":\"sub\",\"cId\":\"c1\",\"id\":1}",
                "{\"cId\":\"c1\",\"id\":1}",
                "{\"t\":\"req\",\"cId\":\"c1\",\"id\":1,\"route\":\"nobody\"}")) {
            remote.onAction(json);
        }
        assertTrue(asked.isEmpty(), "no listener was asked: " + asked);
    }

    /** comet4j-node queues a page's binary pub with its bytes as "b64" (docs/protocol.md section 11). */
    @Test
    void aBinaryPubFromAnotherNodeIsDecidedWithItsBytes() {
        channels.put("room", ChannelOptions.defaults().clientWritable());
        List<Object> data = new ArrayList<>();
        engine.addPublishListener(new PublishListener() {
            @Override
            public boolean handleEvent(PublishEvent e) {
                data.add(e.getData());
                return false; // refused: nothing goes to the (absent) core
            }
        });
        remote.onAction("{\"t\":\"pub\",\"cId\":\"c9\",\"user\":\"zed\",\"id\":4,\"ch\":\"room\",\"b64\":\"AP8K\"}");
        remote.onAction("{\"t\":\"pub\",\"cId\":\"c9\",\"user\":\"zed\",\"id\":5,\"ch\":\"room\",\"b64\":\"A*8K\"}");
        remote.onAction("{\"t\":\"pub\",\"cId\":\"c9\",\"user\":\"zed\",\"id\":6,\"ch\":\"room\",\"data\":[1]}");
        assertEquals(2, data.size(), "the bad base64 is refused before any listener: " + data);
        assertArrayEquals(new byte[] {0, (byte) 0xff, 10}, (byte[]) data.get(0));
        assertEquals(List.of(1L), data.get(1));
    }

    @Test
    void enqueueWithoutAnEngineIsStopped() {
        assertEquals(NativeException.ESTOPPED, remote.enqueue("{}"));
    }
}
