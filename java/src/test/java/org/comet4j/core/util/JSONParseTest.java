package org.comet4j.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** JSONUtil.parse: strict RFC 8259, plain Java values, bounded. */
class JSONParseTest {

    @Test
    void values() {
        assertNull(JSONUtil.parse("null"));
        assertEquals(Boolean.TRUE, JSONUtil.parse(" true "));
        assertEquals(Boolean.FALSE, JSONUtil.parse("false"));
        assertEquals(0L, JSONUtil.parse("0"));
        assertEquals(-12L, JSONUtil.parse("-12"));
        assertEquals(Long.MAX_VALUE, JSONUtil.parse("9223372036854775807"));
        assertEquals(9223372036854775808.0, JSONUtil.parse("9223372036854775808"));
        assertEquals(1.5, JSONUtil.parse("1.5"));
        assertEquals(-2e-3, JSONUtil.parse("-2E-3"));
        assertEquals(100.0, JSONUtil.parse("1e2"));
        assertEquals("a\"b\\c/\b\f\n\r\t\u00e9\ud83d\ude00", JSONUtil.parse(
                "\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00E9\\ud83d\\ude00\""));
        assertEquals("é 中", JSONUtil.parse("\"é 中\""));
    }

    @Test
    void containersKeepOrder() {
        Object v = JSONUtil.parse("{\"t\":\"pub\", \"id\":3,\"data\":{\"b\":[1,2,{}],\"a\":[]}}");
        assertTrue(v instanceof LinkedHashMap);
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(Arrays.asList("t", "id", "data"), List.copyOf(m.keySet()));
        Map<?, ?> data = (Map<?, ?>) m.get("data");
        assertEquals(Arrays.asList("b", "a"), List.copyOf(data.keySet()));
        assertEquals(Arrays.asList(1L, 2L, Map.of()), data.get("b"));
        assertEquals(List.of(), data.get("a"));
    }

    @Test
    void roundTripsWithObject2json() {
        String text = "{\"a\":[1,-2.5,\"x\\u2028y\",null,true,{\"b\":{}}],\"c\":\"\\\"\"}";
        assertEquals(text, JSONUtil.object2json(JSONUtil.parse(text)));
    }

    @Test
    void strict() {
        String[] bad = {"", " ", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "{a:1}", "01", "-", "1.", ".5", "1e",
            "+1", "NaN", "Infinity", "tru", "nul", "\"abc", "\"a\nb\"", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"",
            "[1 2]", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "1 2", "{} x", "/*c*/1", "[1]//", "{\"a\":1,\"a\":2}",
            "\u00a01"};
        for (String s : bad) {
            assertThrows(IllegalArgumentException.class, () -> JSONUtil.parse(s), s);
        }
        assertThrows(IllegalArgumentException.class, () -> JSONUtil.parse(null));
    }

    @Test
    void bounded() {
        String deep = "[".repeat(JSONUtil.MAX_DEPTH) + "]".repeat(JSONUtil.MAX_DEPTH);
        assertEquals(1, ((List<?>) JSONUtil.parse(deep)).size());
        String deeper = "[".repeat(JSONUtil.MAX_DEPTH + 1) + "]".repeat(JSONUtil.MAX_DEPTH + 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JSONUtil.parse(deeper));
        assertTrue(e.getMessage().contains("nesting"), e.getMessage());
        // a hostile depth stays a clean refusal, not a StackOverflowError
        assertThrows(IllegalArgumentException.class, () -> JSONUtil.parse("[".repeat(100000)));
        assertThrows(IllegalArgumentException.class, () -> JSONUtil.parse("\"" + "x".repeat(20) + "\"", 10));
        assertThrows(IllegalArgumentException.class,
                () -> JSONUtil.parse(" ".repeat(JSONUtil.MAX_PARSE_LENGTH) + "1"));
    }
}
