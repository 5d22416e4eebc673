package org.comet4j.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.comet4j.core.exception.CometException;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.Test;

class JSONUtilTest {

    public enum Color { RED, GREEN }

    public static class Person {
        private final String name;
        private final int age;
        private final Person friend;

        public Person(String name, int age, Person friend) {
            this.name = name;
            this.age = age;
            this.friend = friend;
        }

        public String getName() { return name; }
        public int getAge() { return age; }
        public Person getFriend() { return friend; }
        public boolean isAdult() { return age >= 18; }
        public Color getColor() { return Color.GREEN; }
        public String getURL() { return "u"; }
        public String compute() { return "not a getter"; }
        public String getWith(int x) { return "not a getter"; }
        public static String getStatic() { return "not a property"; }
    }

    /** A non-public bean (a typical private DTO) still serializes. */
    private static class Hidden {
        public String getSecret() { return "s"; }
    }

    static class Node {
        final List<Object> children = new ArrayList<>();
        public List<Object> getChildren() { return children; }
    }

    @Test
    void scalars() {
        assertEquals("null", JSONUtil.object2json(null));
        assertEquals("\"a\"", JSONUtil.object2json("a"));
        assertEquals("\"c\"", JSONUtil.object2json('c'));
        assertEquals("true", JSONUtil.object2json(true));
        assertEquals("42", JSONUtil.object2json(42));
        assertEquals("-7", JSONUtil.object2json(-7L));
        assertEquals("1.5", JSONUtil.object2json(1.5));
        assertEquals("null", JSONUtil.object2json(Double.NaN));
        assertEquals("null", JSONUtil.object2json(Float.POSITIVE_INFINITY));
        assertEquals("\"RED\"", JSONUtil.object2json(Color.RED));
        Date d = new Date(0);
        assertEquals("\"" + d + "\"", JSONUtil.object2json(d), "Date as Comet4J: its toString text");
        assertEquals(JSONUtil.object2json("x"), JSONUtil.convertToJson("x"));
    }

    @Test
    void escaping() {
        String s = "q\" b\\ n\n r\r t\t nul\u0000 bell\u0007 esc\u001b del\u007f ls\u2028 ps\u2029 é 中 😀 </script>";
        String json = JSONUtil.object2json(s);
        for (char c : json.toCharArray()) {
            assertTrue(c >= 0x20 && c != 0x7f && c != '\u2028' && c != '\u2029', "raw char " + (int) c);
        }
        assertTrue(json.contains("\\u2028") && json.contains("\\u2029") && json.contains("\\u0000"));
        assertEquals(s, MiniJson.parse(json));
    }

    @Test
    void beans() {
        Person p = new Person("Ann", 30, new Person("Bob", 12, null));
        Map<String, Object> m = MiniJson.object(JSONUtil.object2json(p));
        assertEquals(Arrays.asList("URL", "adult", "age", "color", "friend", "name"), new ArrayList<>(m.keySet()));
        assertEquals("Ann", m.get("name"));
        assertEquals(30L, m.get("age"));
        assertEquals(true, m.get("adult"));
        assertEquals("GREEN", m.get("color"));
        @SuppressWarnings("unchecked")
        Map<String, Object> f = (Map<String, Object>) m.get("friend");
        assertEquals("Bob", f.get("name"));
        assertEquals(false, f.get("adult"));
        assertEquals(null, f.get("friend"));
        assertEquals("{\"secret\":\"s\"}", JSONUtil.object2json(new Hidden()));
    }

    @Test
    void nesting() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ints", new int[] {1, 2, 3});
        m.put("bytes", new byte[] {-1, 0});
        m.put("bools", new boolean[] {true});
        m.put("chars", new char[] {'x'});
        m.put("strings", new String[] {"a", null});
        m.put("list", Arrays.asList(1, "two", Arrays.asList(3.5, false)));
        Map<Object, Object> odd = new HashMap<>();
        odd.put(7, "seven");
        odd.put(null, "skipped");
        m.put("odd", odd);
        m.put("empty", new HashMap<>());
        m.put("none", new ArrayList<>());
        String json = JSONUtil.object2json(m);
        assertEquals("{\"ints\":[1,2,3],\"bytes\":[-1,0],\"bools\":[true],\"chars\":[\"x\"],"
                + "\"strings\":[\"a\",null],\"list\":[1,\"two\",[3.5,false]],\"odd\":{\"7\":\"seven\"},"
                + "\"empty\":{},\"none\":[]}", json);
        MiniJson.parse(json);
    }

    @Test
    void jdkValuesUseToString() {
        java.util.UUID u = java.util.UUID.randomUUID();
        assertEquals("\"" + u + "\"", JSONUtil.object2json(u));
        assertEquals("\"2024-01-02T03:04:05\"",
                JSONUtil.object2json(java.time.LocalDateTime.of(2024, 1, 2, 3, 4, 5)));
        assertEquals("\"/tmp/x\"", JSONUtil.object2json(java.nio.file.Path.of("/tmp/x")));
        assertEquals("\"PT1S\"", JSONUtil.object2json(java.time.Duration.ofSeconds(1)));
    }

    @Test
    void sharedButNotCyclicIsFine() {
        List<Object> shared = Arrays.asList(1, 2);
        assertEquals("[[1,2],[1,2]]", JSONUtil.object2json(Arrays.asList(shared, shared)));
    }

    @Test
    void cyclesThrow() {
        Map<String, Object> m = new HashMap<>();
        m.put("self", m);
        CometException e = assertThrows(CometException.class, () -> JSONUtil.object2json(m));
        assertTrue(e.getMessage().contains("cycle"), e.getMessage());
        Node n = new Node();
        n.children.add(n);
        assertThrows(CometException.class, () -> JSONUtil.object2json(n));
    }

    @Test
    void depthIsCapped() {
        List<Object> deep = new ArrayList<>();
        List<Object> cur = deep;
        for (int i = 0; i < JSONUtil.MAX_DEPTH + 5; i++) {
            List<Object> next = new ArrayList<>();
            cur.add(next);
            cur = next;
        }
        CometException e = assertThrows(CometException.class, () -> JSONUtil.object2json(deep));
        assertTrue(e.getMessage().contains("deeper"), e.getMessage());
    }
}
