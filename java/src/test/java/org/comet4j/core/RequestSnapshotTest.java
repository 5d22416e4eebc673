package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jakarta.servlet.ServletContext;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;

import org.junit.jupiter.api.Test;

/**
 * The compact snapshot (one byte array read again by each getter) gives
 * back every part of the handshake request as the request itself gave it:
 * each getter compared with a request of many headers (repeated, in mixed
 * case, non-ASCII), parameters with several values, cookies, locales,
 * addresses, ports and numbers past one byte.
 */
class RequestSnapshotTest {

    /** A request with every part RequestSnapshot copies; a Principal, a session "SESS-2" and a context. */
    private static HttpServletRequest request(Map<String, Object> v, ServletContext ctx) {
        HttpSession session = (HttpSession) Proxy.newProxyInstance(RequestSnapshotTest.class.getClassLoader(),
                new Class<?>[] {HttpSession.class}, (p, m, a) -> m.getName().equals("getId") ? "SESS-2" : null);
        return (HttpServletRequest) Proxy.newProxyInstance(RequestSnapshotTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, m, a) -> {
                    @SuppressWarnings("unchecked")
                    Map<String, List<String>> headers = (Map<String, List<String>>) v.get("headers");
                    switch (m.getName()) {
                        case "getHeaderNames": return Collections.enumeration(headers.keySet());
                        case "getHeaders": {
                            List<String> out = new ArrayList<>();
                            headers.forEach((k, vs) -> {
                                if (k.equalsIgnoreCase((String) a[0])) {
                                    out.addAll(vs);
                                }
                            });
                            return Collections.enumeration(out);
                        }
                        case "getSession": return session;
                        case "getServletContext": return ctx;
                        case "getRequestURL": return new StringBuffer((String) v.get("url"));
                        case "getLocales": {
                            @SuppressWarnings("unchecked")
                            List<Locale> l = (List<Locale>) v.get("locales");
                            return Collections.enumeration(l);
                        }
                        default:
                            if (v.containsKey(m.getName())) {
                                return v.get(m.getName());
                            }
                            Class<?> t = m.getReturnType();
                            if (t == boolean.class) {
                                return Boolean.FALSE;
                            }
                            if (t == int.class) {
                                return Integer.valueOf(0);
                            }
                            return t == long.class ? (Object) Long.valueOf(0) : null;
                    }
                });
    }

    private static Map<String, Object> rich() {
        Map<String, Object> v = new LinkedHashMap<>();
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("Host", List.of("example.org:8443"));
        headers.put("user-agent", List.of("Mozilla/5.0 (X11) Gecko/20100101 Firefox/120.0"));
        headers.put("X-Multi", List.of("one", "two", "one"));
        headers.put("Accept-Language", List.of("zh-CN,zh;q=0.9,en;q=0.5"));
        headers.put("X-Name", List.of("Zoë ✓ 中文"));
        headers.put("Cookie", List.of("userName=ann; theme=dark"));
        headers.put("X-Empty", List.of(""));
        headers.put("x-long", List.of("y".repeat(5000)));
        headers.put("If-Modified-Since", List.of("Sun, 06 Nov 1994 08:49:37 GMT"));
        headers.put("X-Count", List.of(" 42 "));
        v.put("headers", headers);
        Map<String, String[]> params = new LinkedHashMap<>();
        params.put("cmd", new String[] {"conn"});
        params.put("room", new String[] {"7", "8", "7"});
        params.put("name", new String[] {"Zoë"});
        params.put("empty", new String[] {""});
        params.put("none", new String[0]);
        v.put("getParameterMap", params);
        v.put("getCookies", new Cookie[] {new Cookie("userName", "ann"), new Cookie("theme", "dark")});
        v.put("locales", List.of(Locale.SIMPLIFIED_CHINESE, Locale.CHINESE, Locale.ENGLISH));
        v.put("getMethod", "GET");
        v.put("getRequestURI", "/app/conn");
        v.put("url", "https://example.org:8443/app/conn");
        v.put("getQueryString", "cmd=conn&room=7&room=8&room=7&name=Zo%C3%AB&empty=");
        v.put("getProtocol", "HTTP/1.1");
        v.put("getScheme", "https");
        v.put("getServerName", "example.org");
        v.put("getServerPort", 8443);
        v.put("getContextPath", "/app");
        v.put("getServletPath", "/conn");
        v.put("getPathInfo", "/extra");
        v.put("getRemoteAddr", "203.0.113.77");
        v.put("getRemoteHost", "203.0.113.77");
        v.put("getRemotePort", 61234);
        v.put("getLocalAddr", "192.0.2.1");
        v.put("getLocalName", "example.org");
        v.put("getLocalPort", 8443);
        v.put("isSecure", true);
        v.put("getAuthType", "BASIC");
        v.put("getRemoteUser", "ann");
        Principal ann = () -> "ann";
        v.put("getUserPrincipal", ann);
        v.put("getRequestedSessionId", "SESS-1");
        v.put("isRequestedSessionIdFromCookie", true);
        v.put("isRequestedSessionIdFromURL", false);
        v.put("getCharacterEncoding", "UTF-8");
        v.put("getContentType", "text/plain");
        v.put("getContentLengthLong", 1L << 40);
        return v;
    }

    @Test
    void everyPartComesBackAsTheRequestGaveIt() {
        ServletContext ctx = (ServletContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServletContext.class}, (p, m, a) -> null);
        HttpServletRequest r = request(rich(), ctx);
        RequestSnapshot s = RequestSnapshot.of(r);

        for (String g : List.of("getMethod", "getRequestURI", "getQueryString", "getProtocol", "getScheme",
                "getServerName", "getContextPath", "getServletPath", "getPathInfo", "getRemoteAddr",
                "getRemoteHost", "getLocalAddr", "getLocalName", "getAuthType", "getRemoteUser",
                "getRequestedSessionId", "getCharacterEncoding", "getContentType")) {
            try {
                Object want = HttpServletRequest.class.getMethod(g).invoke(r);
                assertEquals(want, HttpServletRequest.class.getMethod(g).invoke(s), g);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(g, e);
            }
        }
        assertEquals("https://example.org:8443/app/conn", s.getRequestURL().toString());
        assertEquals(8443, s.getServerPort());
        assertEquals(61234, s.getRemotePort());
        assertEquals(8443, s.getLocalPort());
        assertEquals(1L << 40, s.getContentLengthLong());
        assertEquals(-1, s.getContentLength());
        assertTrue(s.isSecure());
        assertTrue(s.isRequestedSessionIdFromCookie());
        assertFalse(s.isRequestedSessionIdFromURL());
        assertEquals("SESS-2", s.getSessionId(), "the live session's id wins over the requested one");
        assertSame(r.getUserPrincipal(), s.getUserPrincipal());
        assertSame(ctx, s.getServletContext());

        // Headers: case-insensitive, every value in order, names sorted case-insensitively.
        assertEquals("Mozilla/5.0 (X11) Gecko/20100101 Firefox/120.0", s.getHeader("User-Agent"));
        assertEquals(List.of("one", "two", "one"), Collections.list(s.getHeaders("x-multi")));
        assertEquals("Zoë ✓ 中文", s.getHeader("x-name"));
        assertEquals("", s.getHeader("X-Empty"));
        assertEquals("y".repeat(5000), s.getHeader("X-Long"));
        assertEquals(784111777000L, s.getDateHeader("if-modified-since"));
        assertEquals(42, s.getIntHeader("X-Count"));
        assertEquals(-1, s.getIntHeader("X-None"));
        assertNull(s.getHeader("X-None"));
        assertNull(s.getHeader(null));
        assertFalse(s.getHeaders("X-None").hasMoreElements());
        assertEquals(List.of("Accept-Language", "Cookie", "Host", "If-Modified-Since", "X-Count", "X-Empty",
                "x-long", "X-Multi", "X-Name", "user-agent").stream().sorted(String.CASE_INSENSITIVE_ORDER)
                .collect(java.util.stream.Collectors.toList()), Collections.list(s.getHeaderNames()));

        // Parameters: each with all its values, in their order.
        assertEquals("conn", s.getParameter("cmd"));
        assertArrayEquals(new String[] {"7", "8", "7"}, s.getParameterValues("room"));
        assertEquals("Zoë", s.getParameter("name"));
        assertEquals("", s.getParameter("empty"));
        assertNull(s.getParameter("none"));
        assertArrayEquals(new String[0], s.getParameterValues("none"));
        assertNull(s.getParameter("absent"));
        assertNull(s.getParameterValues("absent"));
        assertEquals(List.of("cmd", "room", "name", "empty", "none"), Collections.list(s.getParameterNames()));
        Map<String, String[]> pm = s.getParameterMap();
        assertEquals(List.of("cmd", "room", "name", "empty", "none"), new ArrayList<>(pm.keySet()));
        assertArrayEquals(new String[] {"7", "8", "7"}, pm.get("room"));
        assertThrows(UnsupportedOperationException.class, () -> pm.put("x", new String[0]));
        s.getParameterValues("room")[0] = "changed";
        assertEquals("7", s.getParameter("room"), "a caller's change of a returned array is its own");

        // Cookies: names and values, a fresh array each call.
        Cookie[] c = s.getCookies();
        assertEquals(2, c.length);
        assertEquals("userName", c[0].getName());
        assertEquals("ann", c[0].getValue());
        assertEquals("theme", c[1].getName());
        assertEquals("dark", c[1].getValue());
        c[0].setValue("bob");
        assertEquals("ann", s.getCookies()[0].getValue());

        // Locales, in the request's order.
        assertEquals(Locale.SIMPLIFIED_CHINESE, s.getLocale());
        assertEquals(List.of(Locale.SIMPLIFIED_CHINESE, Locale.CHINESE, Locale.ENGLISH), Collections.list(s.getLocales()));
        assertTrue(s.toString().contains("GET /app/conn?cmd=conn") && s.toString().contains("203.0.113.77:61234"),
                s.toString());
    }

    @Test
    void aBareRequestKeepsItsNullsAndDefaults() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("headers", new LinkedHashMap<String, List<String>>());
        v.put("locales", List.of());
        v.put("getLocale", Locale.GERMANY);
        v.put("getRequestURI", "/c");
        v.put("url", "http://h/c");
        v.put("getContentLengthLong", -1L);
        v.put("getRemotePort", 0);
        RequestSnapshot s = RequestSnapshot.of(request(v, null));
        assertNull(s.getMethod());
        assertNull(s.getQueryString());
        assertNull(s.getCookies(), "no cookies is null, as the request said");
        assertFalse(s.getHeaderNames().hasMoreElements());
        assertFalse(s.getParameterNames().hasMoreElements());
        assertTrue(s.getParameterMap().isEmpty());
        assertEquals(-1L, s.getContentLengthLong());
        assertEquals(-1, s.getContentLength());
        assertEquals(Locale.GERMANY, s.getLocale());
        assertEquals(List.of(Locale.GERMANY), Collections.list(s.getLocales()));
        assertFalse(s.isSecure());
        assertNull(s.getUserPrincipal());
        assertNull(s.getServletContext());
        assertEquals("SESS-2", s.getSessionId());
    }

    @Test
    void attributesAreTheSnapshotsOwn() {
        RequestSnapshot s = RequestSnapshot.of(request(rich(), null));
        assertNull(s.getAttribute("k"));
        assertFalse(s.getAttributeNames().hasMoreElements());
        s.removeAttribute("k");
        s.setAttribute("k", "v");
        s.setAttribute("n", 7);
        assertEquals("v", s.getAttribute("k"));
        assertEquals(7, s.getAttribute("n"));
        assertEquals(List.of("k", "n"), Collections.list(s.getAttributeNames()).stream().sorted().collect(java.util.stream.Collectors.toList()));
        s.setAttribute("k", null);
        assertNull(s.getAttribute("k"));
        s.removeAttribute("n");
        assertFalse(s.getAttributeNames().hasMoreElements());
    }

    @Test
    void theLocalNameOfAnAddressIsAskedOnce() {
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        Map<String, Object> v = rich();
        v.put("getLocalAddr", "198.51.100.9");
        HttpServletRequest r = request(v, null);
        HttpServletRequest counting = (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (p, m, a) -> {
                    if (m.getName().equals("getLocalName")) {
                        asked.incrementAndGet();
                        return "name-of-198.example";
                    }
                    return m.invoke(r, a);
                });
        assertEquals("name-of-198.example", RequestSnapshot.of(counting).getLocalName());
        assertEquals("name-of-198.example", RequestSnapshot.of(counting).getLocalName());
        assertEquals(1, asked.get(), "the container's reverse lookup, once for the address");
        v.put("getLocalAddr", "198.51.100.10");
        v.put("getLocalName", "another.example");
        assertEquals("another.example", RequestSnapshot.of(request(v, null)).getLocalName());
    }

    @Test
    void equalStringsAreKeptOnce() {
        Map<String, Object> v = rich();
        RequestSnapshot same = RequestSnapshot.of(request(v, null));
        v.put("getRemoteHost", "host-of-another-name.example");
        RequestSnapshot other = RequestSnapshot.of(request(v, null));
        assertEquals("203.0.113.77", same.getRemoteHost());
        assertEquals("host-of-another-name.example", other.getRemoteHost());
        assertTrue(same.blockSize() + 20 < other.blockSize(),
                same.blockSize() + " vs " + other.blockSize());
    }
}
