package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.comet4j.core.event.ChannelEvent;
import org.comet4j.core.listener.ChannelListener;
import org.junit.jupiter.api.Test;

/** The channel listeners (their order and when a dispatch stops) and the action routes. */
class HandlersTest {

    final Handlers handlers = new Handlers();
    final List<String> log = new ArrayList<>();

    ChannelListener listener(String name, boolean go, Consumer<ChannelEvent> also) {
        return new ChannelListener() {
            @Override
            public boolean handleEvent(ChannelEvent e) {
                log.add(name);
                also.accept(e);
                return go;
            }
        };
    }

    static ChannelEvent event(String channel) {
        return new ChannelEvent(new CometEngine(), channel, "data", null);
    }

    @Test
    void channelListenersRunInOrderUntilOneSaysStop() {
        Logger logger = Logger.getLogger("org.comet4j");
        Level level = logger.getLevel();
        logger.setLevel(Level.OFF); // the throwing listener's SEVERE
        try {
            handlers.addChannelListener("chat", listener("a", true, e -> { }));
            handlers.addChannelListener("chat", listener("throws", true, e -> {
                throw new IllegalStateException("boom");
            }));
            handlers.addChannelListener("chat", listener("b", false, e -> { }));
            handlers.addChannelListener("chat", listener("c", true, e -> { }));
            handlers.addChannelListener("other", listener("other", true, e -> { }));
            handlers.fireChannel(event("chat"));
        } finally {
            logger.setLevel(level);
        }
        assertEquals(List.of("a", "throws", "b"), log, "a throw goes on; false stops");
    }

    @Test
    void stopEventAndPreventDefaultStopTheDispatch() {
        handlers.addChannelListener("s", listener("s1", true, ChannelEvent::stopEvent));
        handlers.addChannelListener("s", listener("s2", true, e -> { }));
        handlers.addChannelListener("p", listener("p1", true, ChannelEvent::preventDefault));
        handlers.addChannelListener("p", listener("p2", true, e -> { }));
        handlers.fireChannel(event("s"));
        handlers.fireChannel(event("p"));
        handlers.fireChannel(event("nobody")); // no listener: nothing
        assertEquals(List.of("s1", "p1"), log);
    }

    @Test
    void removingAChannelListener() {
        ChannelListener l = listener("l", true, e -> { });
        handlers.addChannelListener("chat", l);
        assertTrue(handlers.removeChannelListener("chat", l));
        assertFalse(handlers.removeChannelListener("chat", l));
        assertFalse(handlers.removeChannelListener(null, l));
        assertFalse(handlers.removeChannelListener("never", l));
        handlers.fireChannel(event("chat"));
        assertTrue(log.isEmpty());
        assertThrows(NullPointerException.class, () -> handlers.addChannelListener("chat", null));
    }

    @Test
    void oneHandlerARoute() {
        ActionHandler h = r -> "ok";
        handlers.addActionHandler("sum", h);
        assertSame(h, handlers.actionHandler("sum"));
        assertNull(handlers.actionHandler("other"));
        assertThrows(IllegalArgumentException.class, () -> handlers.addActionHandler("sum", r -> "again"));
        assertSame(h, handlers.actionHandler("sum"), "the first handler stays");
        assertThrows(IllegalArgumentException.class, () -> handlers.addActionHandler("", h));
        assertThrows(IllegalArgumentException.class, () -> handlers.addActionHandler(null, h));
        assertThrows(NullPointerException.class, () -> handlers.addActionHandler("x", null));
        assertSame(h, handlers.removeActionHandler("sum"));
        assertNull(handlers.removeActionHandler("sum"));
        assertNull(handlers.removeActionHandler(null));
        assertNull(handlers.actionHandler("sum"));
    }
}
