package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * What ClusterMaps decides without Redis: the form of an id, the distinct
 * users of a map, and that an engine that is not running (or has a local
 * hub) writes nothing and reads null.  The maps through a real Redis are in
 * HubTest and HubFallbackTest.
 */
class ClusterMapsTest {

    @Test
    void isIdIsTwentyTwoUrlSafeCharacters() {
        assertTrue(ClusterMaps.isId("AZaz09-_AZaz09-_AZaz09"));
        assertTrue(ClusterMaps.isId("______________________"));
        assertFalse(ClusterMaps.isId(""));
        assertFalse(ClusterMaps.isId("AZaz09-_AZaz09-_AZaz0"), "21 chars");
        assertFalse(ClusterMaps.isId("AZaz09-_AZaz09-_AZaz09A"), "23 chars");
        assertFalse(ClusterMaps.isId("AZaz09+/AZaz09-_AZaz09"), "standard base64, not URL-safe");
        assertFalse(ClusterMaps.isId("AZaz09-_AZaz09-_AZaz=="), "padding");
        assertFalse(ClusterMaps.isId("AZaz09-_AZaz09-_AZaz0\u00e9"), "not ASCII");
        assertFalse(ClusterMaps.isId("AZaz09-_AZaz09 _AZaz09"), "a space");
        assertFalse(ClusterMaps.isId(null));
    }

    @Test
    void distinctUsersCountsNamesOnce() {
        Map<String, Object> online = new HashMap<>();
        assertEquals(0, ClusterMaps.distinctUsers(online));
        online.put("c1", "alice");
        online.put("c2", "alice");
        online.put("c3", "bob");
        online.put("c4", null); // anonymous
        online.put("c5", "");
        online.put("c6", 42L); // not a user name
        assertEquals(2, ClusterMaps.distinctUsers(online));
    }

    @Test
    void anEngineThatIsNotRunningNeitherWritesNorReads() {
        CometEngine engine = new CometEngine();
        ClusterMaps maps = new ClusterMaps(engine);
        CometConnection c = new CometConnection("AZaz09-_AZaz09-_AZaz09", null, 0, "alice",
                CometProtocol.WORKSTYLE_WEBSOCKET, null);
        maps.online(c);
        maps.offline(c.getId());
        maps.set(ClusterMaps.HUB_PRESENCE + "lobby", c.getId(), "\"alice\"");
        assertNull(maps.get(ClusterMaps.HUB_ONLINE));
        assertNull(maps.get(ClusterMaps.HUB_PRESENCE + "lobby"));
        assertNull(maps.knownElsewhere(c.getId()), "a local hub knows no other node");
        assertNull(maps.knownElsewhere("not an id"));
    }
}
