package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.comet4j.core.exception.CometException;
import org.comet4j.core.exception.DoubleAppModuleKeyException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CometContextTest {

    @AfterEach
    void reset() {
        CometContext.getInstance().destroy();
    }

    @Test
    void registChannelTwiceThrows() {
        CometContext cc = CometContext.getInstance();
        cc.registChannel("hello");
        cc.registChannel("world");
        DoubleAppModuleKeyException e = assertThrows(DoubleAppModuleKeyException.class,
                () -> cc.registChannel("hello"));
        assertTrue(e instanceof CometException && e instanceof RuntimeException);
        assertTrue(e.getMessage().contains("hello"));
        assertEquals(List.of("hello", "world"), cc.getAppModules());
        cc.getAppModules().clear();
        assertEquals(2, cc.getAppModules().size(), "getAppModules returns a copy");
        assertThrows(IllegalArgumentException.class, () -> cc.registChannel(""));
        assertThrows(IllegalArgumentException.class, () -> cc.registChannel("x".repeat(129)));
    }

    @Test
    void singletonUntilDestroy() {
        CometContext a = CometContext.getInstance();
        assertSame(a, CometContext.getInstance());
        assertSame(a.getEngine(), CometContext.getInstance().getEngine());
        a.registChannel("c");
        a.destroy();
        CometContext b = CometContext.getInstance();
        assertNotSame(a, b);
        assertTrue(b.getAppModules().isEmpty());
    }

    @Test
    void gettersBeforeInitGiveDefaults() {
        CometContext cc = CometContext.getInstance();
        assertFalse(cc.isInit());
        assertEquals(60000, cc.getTimeout());
        assertEquals(-2, cc.getPort()); // Comet.Port not set: one port
        assertEquals("auto", cc.getWorkStyle());
        assertEquals(-1, cc.getEngine().getPort());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> cc.getEngine().sendToAll("c", "x"));
        assertTrue(e.getMessage().contains("before the engine was started"), e.getMessage());
    }
}
