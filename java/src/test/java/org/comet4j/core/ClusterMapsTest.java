package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * What ClusterMaps decides without Redis: the form of an id, and that an
 * engine that is not running (or has a local hub) knows no other node.
 * The maps through a real Redis (the core writes them) are in HubTest.
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
    void anEngineThatIsNotRunningKnowsNoOtherNode() {
        CometEngine engine = new CometEngine();
        ClusterMaps maps = new ClusterMaps(engine);
        assertNull(maps.knownElsewhere("AZaz09-_AZaz09-_AZaz09"), "a local hub knows no other node");
        assertNull(maps.knownElsewhere("not an id"));
    }
}
