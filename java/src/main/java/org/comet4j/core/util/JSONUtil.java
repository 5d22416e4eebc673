package org.comet4j.core.util;

import java.lang.reflect.Array;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.comet4j.core.exception.CometException;

/**
 * Serializes Java objects to JSON text for the wire, and reads the client's
 * command frames back ({@link #parse}): the one serializer of comet4j (data given to sendTo/sendToAll, the handshake answer, ticket
 * claims).  Comet4J's names ({@link #object2json}, {@link #convertToJson})
 * with valid JSON:
 * <ul>
 * <li>null, String, Character (a one-character string), Boolean, Number
 *     (NaN and infinities become null);</li>
 * <li>Map (keys through String.valueOf, null keys skipped), Collection,
 *     arrays including primitive arrays, enums (their name);</li>
 * <li>Date: as Comet4J did, the quoted {@code Date.toString()} text, so
 *     pages written for Comet4J keep working;</li>
 * <li>other JDK types (java.time, UUID, URI, Path, ...): their quoted toString();</li>
 * <li>anything else: a bean, its public getters getX()/isX() (boolean)
 *     without arguments, in name order, getClass skipped.</li>
 * </ul>
 * A cycle (an object inside itself) or nesting deeper than {@value #MAX_DEPTH}
 * throws {@link CometException}.  Strings escape quote, backslash, every
 * control character and U+2028/U+2029, so the text is also safe in a script.
 */
public class JSONUtil {

    /** Deepest nesting of containers and beans accepted. */
    public static final int MAX_DEPTH = 64;

    private static final Map<Class<?>, List<Method>> GETTERS = new ConcurrentHashMap<>();

    /** Comet4J's class could be instantiated; every method is static. */
    public JSONUtil() {}

    /** Serializes obj to JSON text. */
    public static String object2json(Object obj) {
        StringBuilder sb = new StringBuilder();
        new Writer(sb).value(obj, 0);
        return sb.toString();
    }

    /**
     * Appends obj's JSON text (what {@link #object2json(Object)} returns)
     * to sb, for a caller that reuses one builder for many values.
     * @return sb
     */
    public static StringBuilder append(StringBuilder sb, Object obj) {
        new Writer(sb).value(obj, 0);
        return sb;
    }

    /**
     * A bean as a JSON object of its public getters (even a Map, List or
     * String: their getters), as Comet4J's bean2json; "{}" for null.
     */
    public static String bean2json(Object bean) {
        if (bean == null) {
            return "{}";
        }
        StringBuilder sb = new StringBuilder();
        Writer w = new Writer(sb);
        w.enter(bean);
        w.bean(bean, 0);
        return sb.toString();
    }

    /** A list as a JSON array; "[]" for null. */
    public static String list2json(List<?> list) {
        return list == null ? "[]" : object2json(list);
    }

    /** An array as a JSON array; "[]" for null. */
    public static String array2json(Object[] array) {
        return array == null ? "[]" : object2json(array);
    }

    /** A map as a JSON object (keys through String.valueOf); "{}" for null. */
    public static String map2json(Map<?, ?> map) {
        return map == null ? "{}" : object2json(map);
    }

    /** A set as a JSON array; "[]" for null. */
    public static String set2json(java.util.Set<?> set) {
        return set == null ? "[]" : object2json(set);
    }

    /**
     * s escaped for the inside of a JSON string, without the quotes
     * (Comet4J's string2json); "" for null.
     */
    public static String string2json(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder(s.length() + 2);
        quote(sb, s);
        return sb.substring(1, sb.length() - 1);
    }

    /** Comet4J's other name for {@link #object2json(Object)}. */
    public static String convertToJson(Object obj) {
        return object2json(obj);
    }

    /** Longest text {@link #parse(String)} accepts, in chars. */
    public static final int MAX_PARSE_LENGTH = 1 << 20;

    /**
     * Parses JSON text (RFC 8259, strictly: no comments, no trailing commas,
     * no single quotes, no leading zeros, no duplicate keys, nothing after the
     * value but white space) into plain Java values: {@code Map<String,
     * Object>} (a LinkedHashMap, in the text's order), {@code List<Object>},
     * String, Boolean, null, and numbers as Long when integral and in range,
     * else Double (an integer out of long's range becomes a Double too).
     * Nesting deeper than {@value #MAX_DEPTH} and text longer than
     * {@value #MAX_PARSE_LENGTH} chars are refused.
     * @throws IllegalArgumentException saying what is wrong and where
     */
    public static Object parse(String text) {
        return parse(text, MAX_PARSE_LENGTH);
    }

    /** {@link #parse(String)} with another length limit (chars). */
    public static Object parse(String text, int maxLength) {
        if (text == null) {
            throw new IllegalArgumentException("JSON: no text");
        }
        if (text.length() > maxLength) {
            throw new IllegalArgumentException("JSON: text longer than " + maxLength + " chars");
        }
        Reader r = new Reader(text);
        r.space();
        Object v = r.value(0);
        r.space();
        if (r.pos != text.length()) {
            throw r.error("unexpected text after the value");
        }
        return v;
    }

    /** The strict recursive-descent reader behind {@link #parse}. */
    private static final class Reader {
        private final String s;
        int pos;

        Reader(String s) {
            this.s = s;
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("JSON: " + what + " at offset " + pos);
        }

        void space() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        Object value(int depth) {
            if (pos >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{': return object(depth);
                case '[': return array(depth);
                case '"': return string();
                case 't': return literal("true", Boolean.TRUE);
                case 'f': return literal("false", Boolean.FALSE);
                case 'n': return literal("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("unexpected character '" + c + "'");
            }
        }

        private Object literal(String word, Object v) {
            if (!s.startsWith(word, pos)) {
                throw error("unexpected character '" + s.charAt(pos) + "'");
            }
            pos += word.length();
            return v;
        }

        private Map<String, Object> object(int depth) {
            if (depth >= MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            pos++; // {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            space();
            if (pos < s.length() && s.charAt(pos) == '}') {
                pos++;
                return m;
            }
            while (true) {
                space();
                if (pos >= s.length() || s.charAt(pos) != '"') {
                    throw error("expected a string key");
                }
                int at = pos;
                String k = string();
                space();
                expect(':');
                space();
                Object v = value(depth + 1);
                if (m.containsKey(k)) {
                    pos = at;
                    throw error("duplicate key \"" + k + "\"");
                }
                m.put(k, v);
                space();
                if (pos < s.length() && s.charAt(pos) == ',') {
                    pos++;
                    continue;
                }
                expect('}');
                return m;
            }
        }

        private List<Object> array(int depth) {
            if (depth >= MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            pos++; // [
            List<Object> l = new ArrayList<>();
            space();
            if (pos < s.length() && s.charAt(pos) == ']') {
                pos++;
                return l;
            }
            while (true) {
                space();
                l.add(value(depth + 1));
                space();
                if (pos < s.length() && s.charAt(pos) == ',') {
                    pos++;
                    continue;
                }
                expect(']');
                return l;
            }
        }

        private void expect(char c) {
            if (pos >= s.length()) {
                throw error("unexpected end, expected '" + c + "'");
            }
            if (s.charAt(pos) != c) {
                throw error("expected '" + c + "', found '" + s.charAt(pos) + "'");
            }
            pos++;
        }

        private String string() {
            pos++; // "
            StringBuilder sb = null;
            int start = pos;
            while (true) {
                if (pos >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(pos);
                if (c == '"') {
                    String out = sb == null ? s.substring(start, pos) : sb.append(s, start, pos).toString();
                    pos++;
                    return out;
                }
                if (c < 0x20) {
                    throw error("control character in a string");
                }
                if (c != '\\') {
                    pos++;
                    continue;
                }
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(s, start, pos);
                pos++;
                if (pos >= s.length()) {
                    throw error("unterminated string");
                }
                char e = s.charAt(pos++);
                switch (e) {
                    case '"': sb.append('"'); break;
                    case '\\': sb.append('\\'); break;
                    case '/': sb.append('/'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u': {
                        if (pos + 4 > s.length()) {
                            throw error("short \\u escape");
                        }
                        int v = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(s.charAt(pos + i), 16);
                            if (d < 0) {
                                throw error("bad \\u escape");
                            }
                            v = v * 16 + d;
                        }
                        pos += 4;
                        sb.append((char) v);
                        break;
                    }
                    default:
                        pos--;
                        throw error("bad escape '\\" + e + "'");
                }
                start = pos;
            }
        }

        private Number number() {
            int start = pos;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            if (pos >= s.length() || !digit(s.charAt(pos))) {
                throw error("bad number");
            }
            if (s.charAt(pos) == '0') {
                pos++;
                if (pos < s.length() && digit(s.charAt(pos))) {
                    throw error("leading zero in a number");
                }
            } else {
                digits();
            }
            boolean integral = true;
            if (pos < s.length() && s.charAt(pos) == '.') {
                integral = false;
                pos++;
                if (pos >= s.length() || !digit(s.charAt(pos))) {
                    throw error("bad fraction");
                }
                digits();
            }
            if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                integral = false;
                pos++;
                if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                    pos++;
                }
                if (pos >= s.length() || !digit(s.charAt(pos))) {
                    throw error("bad exponent");
                }
                digits();
            }
            String n = s.substring(start, pos);
            if (integral && n.length() <= 19) {
                try {
                    return Long.parseLong(n);
                } catch (NumberFormatException e) {
                    // out of long's range: a double below
                }
            }
            return Double.parseDouble(n);
        }

        private void digits() {
            while (pos < s.length() && digit(s.charAt(pos))) {
                pos++;
            }
        }

        private static boolean digit(char c) {
            return c >= '0' && c <= '9';
        }
    }

    /** Appends s as a JSON string (with quotes) to sb. */
    public static void quote(StringBuilder sb, String s) {
        sb.append('"');
        int n = s.length(), i = 0;
        while (i < n && plain(s.charAt(i))) {
            i++;
        }
        // The plain start in one copy (most strings are plain to the end).
        if (i == n) {
            sb.append(s);
        } else if (i > 0) {
            sb.append(s, 0, i);
        }
        for (; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                default:
                    if (c < 0x20 || c == '\u2028' || c == '\u2029' || c == 0x7f) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    /** A char that {@link #quote} copies as it is. */
    private static boolean plain(char c) {
        return c >= 0x20 && c != '"' && c != '\\' && c != 0x7f && c != '\u2028' && c != '\u2029';
    }

    private static final class Writer {
        private final StringBuilder sb;
        /** The containers and beans being written, outermost first (a cycle is one met again). */
        private Object[] path;
        private int onPath;

        Writer(StringBuilder sb) {
            this.sb = sb;
        }

        /** Puts o on the path; throws for a cycle, o already on it. */
        void enter(Object o) {
            if (path == null) {
                path = new Object[8];
            }
            for (int i = 0; i < onPath; i++) {
                if (path[i] == o) {
                    throw new CometException("JSONUtil: cycle: a " + o.getClass().getName()
                            + " contains itself");
                }
            }
            if (onPath == path.length) {
                path = java.util.Arrays.copyOf(path, onPath * 2);
            }
            path[onPath++] = o;
        }

        void value(Object o, int depth) {
            if (o == null) {
                sb.append("null");
            } else if (o instanceof String) {
                quote(sb, (String) o);
            } else if (o instanceof Character) {
                quote(sb, o.toString());
            } else if (o instanceof Boolean) {
                sb.append(o.toString());
            } else if (o instanceof Number) {
                number((Number) o);
            } else if (o instanceof Enum) {
                quote(sb, ((Enum<?>) o).name());
            } else if (o instanceof Date) {
                quote(sb, o.toString());
            } else if (o instanceof CharSequence) {
                quote(sb, o.toString());
            } else {
                container(o, depth);
            }
        }

        private void number(Number n) {
            if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte) {
                sb.append(n.longValue()); // the digits of toString(), without a String
                return;
            }
            if (n instanceof Double || n instanceof Float) {
                double d = n.doubleValue();
                if (Double.isNaN(d) || Double.isInfinite(d)) {
                    sb.append("null");
                    return;
                }
            }
            sb.append(n.toString());
        }

        private void container(Object o, int depth) {
            if (depth >= MAX_DEPTH) {
                throw new CometException("JSONUtil: nesting deeper than " + MAX_DEPTH
                        + " at " + o.getClass().getName());
            }
            enter(o);
            try {
                if (o instanceof Map) {
                    map((Map<?, ?>) o, depth);
                } else if (o instanceof Collection) {
                    sb.append('[');
                    boolean first = true;
                    for (Object e : (Collection<?>) o) {
                        if (!first) {
                            sb.append(',');
                        }
                        first = false;
                        value(e, depth + 1);
                    }
                    sb.append(']');
                } else if (o.getClass().isArray()) {
                    sb.append('[');
                    int n = Array.getLength(o);
                    for (int i = 0; i < n; i++) {
                        if (i > 0) {
                            sb.append(',');
                        }
                        value(Array.get(o, i), depth + 1);
                    }
                    sb.append(']');
                } else if (isJdkValue(o.getClass())) {
                    quote(sb, o.toString());
                } else {
                    bean(o, depth);
                }
            } finally {
                path[--onPath] = null;
            }
        }

        private void map(Map<?, ?> m, int depth) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (e.getKey() == null) {
                    continue;
                }
                if (!first) {
                    sb.append(',');
                }
                first = false;
                Object k = e.getKey();
                quote(sb, k instanceof Enum ? ((Enum<?>) k).name() : String.valueOf(k));
                sb.append(':');
                value(e.getValue(), depth + 1);
            }
            sb.append('}');
        }

        private void bean(Object o, int depth) {
            sb.append('{');
            boolean first = true;
            for (Method m : getters(o.getClass())) {
                Object v;
                try {
                    v = m.invoke(o);
                } catch (InvocationTargetException e) {
                    throw new CometException("JSONUtil: " + o.getClass().getName() + "." + m.getName()
                            + "() threw " + e.getCause(), e.getCause());
                } catch (IllegalAccessException e) {
                    continue;
                }
                if (!first) {
                    sb.append(',');
                }
                first = false;
                quote(sb, property(m.getName()));
                sb.append(':');
                value(v, depth + 1);
            }
            sb.append('}');
        }
    }

    /** JDK classes other than maps and collections (java.time, UUID, URI, Path...) are values. */
    private static boolean isJdkValue(Class<?> type) {
        String n = type.getName();
        return n.startsWith("java.") || n.startsWith("javax.") || n.startsWith("jdk.") || n.startsWith("sun.");
    }

    private static List<Method> getters(Class<?> type) {
        return GETTERS.computeIfAbsent(type, JSONUtil::findGetters);
    }

    private static List<Method> findGetters(Class<?> type) {
        List<Method> out = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Method m : type.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.isBridge() || m.getParameterCount() != 0
                    || m.getReturnType() == void.class || m.getDeclaringClass() == Object.class) {
                continue;
            }
            String n = m.getName();
            boolean get = n.startsWith("get") && n.length() > 3;
            boolean is = n.startsWith("is") && n.length() > 2
                    && (m.getReturnType() == boolean.class || m.getReturnType() == Boolean.class);
            if (!get && !is) {
                continue;
            }
            Method callable = accessible(m);
            if (callable != null && seen.add(property(n))) {
                out.add(callable);
            }
        }
        out.sort(Comparator.comparing(m -> property(m.getName())));
        return out;
    }

    /**
     * A public method of a non-public class (a private DTO, a lambda's
     * class) may not be callable through the class itself; find the same
     * method in a public superclass or interface, or make it accessible.
     */
    private static Method accessible(Method m) {
        if (Modifier.isPublic(m.getDeclaringClass().getModifiers())) {
            return m;
        }
        try {
            m.setAccessible(true);
            return m;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String property(String getter) {
        String p = getter.startsWith("is") ? getter.substring(2) : getter.substring(3);
        if (p.length() > 1 && Character.isUpperCase(p.charAt(0)) && Character.isUpperCase(p.charAt(1))) {
            return p; // getURL -> URL, as java.beans does
        }
        return Character.toLowerCase(p.charAt(0)) + p.substring(1);
    }
}
