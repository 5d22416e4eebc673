package org.comet4j.core;

import java.io.BufferedReader;
import java.security.Principal;
import java.text.ParseException;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.Part;

/**
 * A copy of the handshake request, taken by CometServlet, that stays valid
 * for the life of the connection: what {@link CometConnection#getRequest()}
 * returns.  It holds the method, URI, query string, parameters, headers,
 * cookies, locales, remote and local addresses, scheme, server name and
 * port, context and servlet path, principal, remote user and session id.
 * Attributes start empty and are this object's own (a place for
 * per-connection data).  What needs the live request (body, session object,
 * dispatching, async, roles) throws UnsupportedOperationException saying so.
 *
 * <p>Compact: every connection keeps one, so all the strings and numbers
 * live in one byte array ({@link Block}), read again by each getter; a
 * string equal to one before it (the remote host and address, say) is
 * kept once.  Only the principal, the servlet context, the locales (shared
 * Locale objects) and the attributes, made by the first setAttribute, are
 * objects of their own.
 */
public final class RequestSnapshot implements HttpServletRequest {

    private static final String GONE = "CometConnection.getRequest() is a snapshot of the handshake"
            + " request, which has ended; ";

    // The block's fixed strings, in this order, then its numbers, the
    // headers, the parameters and the cookies (Block).
    private static final int METHOD = 0, REQUEST_URI = 1, REQUEST_URL = 2, QUERY = 3, PROTOCOL = 4,
            SCHEME = 5, SERVER_NAME = 6, CONTEXT_PATH = 7, SERVLET_PATH = 8, PATH_INFO = 9,
            REMOTE_ADDR = 10, REMOTE_HOST = 11, LOCAL_ADDR = 12, LOCAL_NAME = 13, AUTH_TYPE = 14,
            REMOTE_USER = 15, REQUESTED_SESSION_ID = 16, SESSION_ID = 17, CHARACTER_ENCODING = 18,
            CONTENT_TYPE = 19, STRINGS = 20;
    private static final int SERVER_PORT = 0, REMOTE_PORT = 1, LOCAL_PORT = 2, CONTENT_LENGTH = 3, NUMBERS = 4;

    private static final byte SECURE = 1, SID_FROM_COOKIE = 2, SID_FROM_URL = 4, HAS_COOKIES = 8;

    private final byte[] block;
    private final byte flags;
    private final Principal principal;
    private final ServletContext servletContext;
    /** A Locale, or a Locale[] of more than one. */
    private final Object locales;
    private volatile Map<String, Object> attributes;

    private RequestSnapshot(HttpServletRequest r) {
        Block.Writer w = new Block.Writer();
        w.string(r.getMethod());
        w.string(r.getRequestURI());
        StringBuffer url = r.getRequestURL();
        w.string(url == null ? null : url.toString());
        w.string(r.getQueryString());
        w.string(r.getProtocol());
        w.string(r.getScheme());
        w.string(r.getServerName());
        w.string(r.getContextPath());
        w.string(r.getServletPath());
        w.string(r.getPathInfo());
        w.string(r.getRemoteAddr());
        w.string(r.getRemoteHost());
        String localAddr = r.getLocalAddr();
        w.string(localAddr);
        w.string(localName(r, localAddr));
        w.string(r.getAuthType());
        w.string(r.getRemoteUser());
        String requested = r.getRequestedSessionId();
        w.string(requested);
        HttpSession s = r.getSession(false);
        w.string(s != null ? s.getId() : requested);
        w.string(r.getCharacterEncoding());
        w.string(r.getContentType());
        w.number(r.getServerPort());
        w.number(r.getRemotePort());
        w.number(r.getLocalPort());
        w.number(r.getContentLengthLong());
        // Headers by name, case-insensitively sorted and merged (as a
        // case-insensitive TreeMap keeps them: the first spelling wins).
        List<String> names = new ArrayList<>();
        Enumeration<String> ns = r.getHeaderNames();
        while (ns != null && ns.hasMoreElements()) {
            names.add(ns.nextElement());
        }
        names.sort(String.CASE_INSENSITIVE_ORDER);
        List<String> merged = new ArrayList<>(names.size());
        for (String n : names) {
            if (merged.isEmpty() || !merged.get(merged.size() - 1).equalsIgnoreCase(n)) {
                merged.add(n);
            }
        }
        w.count(merged.size());
        List<String> values = new ArrayList<>();
        for (String n : merged) {
            values.clear();
            for (String other : names) {
                if (other.equalsIgnoreCase(n)) {
                    Enumeration<String> vs = r.getHeaders(other);
                    while (vs != null && vs.hasMoreElements()) {
                        values.add(vs.nextElement());
                    }
                }
            }
            w.string(n);
            w.count(values.size());
            for (String v : values) {
                w.string(v);
            }
        }
        Map<String, String[]> params = r.getParameterMap();
        w.count(params == null ? 0 : params.size());
        if (params != null) {
            for (Map.Entry<String, String[]> e : params.entrySet()) {
                String[] vs = e.getValue() == null ? new String[0] : e.getValue();
                w.string(e.getKey());
                w.count(vs.length);
                for (String v : vs) {
                    w.string(v);
                }
            }
        }
        Cookie[] c = r.getCookies();
        w.count(c == null ? 0 : c.length);
        if (c != null) {
            for (Cookie k : c) {
                w.string(k.getName());
                w.string(k.getValue());
            }
        }
        block = w.toBytes();
        flags = (byte) ((r.isSecure() ? SECURE : 0) | (r.isRequestedSessionIdFromCookie() ? SID_FROM_COOKIE : 0)
                | (r.isRequestedSessionIdFromURL() ? SID_FROM_URL : 0) | (c != null ? HAS_COOKIES : 0));
        principal = r.getUserPrincipal();
        List<Locale> l = new ArrayList<>();
        Enumeration<Locale> ls = r.getLocales();
        while (ls != null && ls.hasMoreElements()) {
            l.add(ls.nextElement());
        }
        if (l.isEmpty()) {
            l.add(r.getLocale() != null ? r.getLocale() : Locale.getDefault());
        }
        locales = l.size() == 1 ? l.get(0) : l.toArray(new Locale[0]);
        ServletContext sc;
        try {
            sc = r.getServletContext();
        } catch (RuntimeException e) {
            sc = null;
        }
        servletContext = sc;
    }

    /**
     * The local names the container gave for each local address (Tomcat's
     * getLocalName is a reverse lookup of the socket's address, made again
     * for every new connection: tens of microseconds a handshake), kept a
     * minute; a server has one or a few local addresses.
     */
    private static final Map<String, Object[]> LOCAL_NAMES = new ConcurrentHashMap<>();
    private static final long LOCAL_NAME_MS = 60_000;

    private static String localName(HttpServletRequest r, String localAddr) {
        if (localAddr == null) {
            return r.getLocalName();
        }
        long now = System.currentTimeMillis();
        Object[] known = LOCAL_NAMES.get(localAddr);
        if (known != null && (long) known[1] > now) {
            return (String) known[0];
        }
        String name = r.getLocalName();
        if (LOCAL_NAMES.size() < 64 || known != null) {
            LOCAL_NAMES.put(localAddr, new Object[] {name, now + LOCAL_NAME_MS});
        }
        return name;
    }

    /** Copies what stays meaningful after the request ends. */
    public static RequestSnapshot of(HttpServletRequest request) {
        return new RequestSnapshot(request);
    }

    /** The bytes this snapshot keeps of the request (the block), for the benchmarks and tests. */
    int blockSize() {
        return block.length;
    }

    private String string(int index) {
        Block.Reader r = new Block.Reader(block);
        r.skipStrings(index);
        return r.string();
    }

    private long number(int index) {
        Block.Reader r = new Block.Reader(block);
        r.skipStrings(STRINGS);
        for (int i = 0; i < index; i++) {
            r.number();
        }
        return r.number();
    }

    /** A reader at the headers' count. */
    private Block.Reader headers() {
        Block.Reader r = new Block.Reader(block);
        r.skipStrings(STRINGS);
        for (int i = 0; i < NUMBERS; i++) {
            r.number();
        }
        return r;
    }

    /** A reader past the headers, at the parameters' count. */
    private Block.Reader parameters() {
        Block.Reader r = headers();
        for (int n = r.count(); n > 0; n--) {
            r.skipStrings(1);
            r.skipStrings(r.count());
        }
        return r;
    }

    /** The values of the header name (case-insensitive), or null. */
    private List<String> headerValues(String name) {
        if (name == null) {
            return null;
        }
        Block.Reader r = headers();
        for (int n = r.count(); n > 0; n--) {
            boolean match = name.equalsIgnoreCase(r.string());
            int k = r.count();
            if (!match) {
                r.skipStrings(k);
                continue;
            }
            List<String> out = new ArrayList<>(k);
            for (int i = 0; i < k; i++) {
                out.add(r.string());
            }
            return out;
        }
        return null;
    }

    /** The parameters, in their order, each with all its values. */
    private Map<String, String[]> parameterMap() {
        Block.Reader r = parameters();
        int n = r.count();
        Map<String, String[]> out = new LinkedHashMap<>(n * 2);
        for (; n > 0; n--) {
            String name = r.string();
            String[] vs = new String[r.count()];
            for (int i = 0; i < vs.length; i++) {
                vs[i] = r.string();
            }
            out.put(name, vs);
        }
        return out;
    }

    /**
     * One byte array of strings, numbers and counts, written once and read
     * from its start by each getter.  A string is a tag (unsigned varint):
     * 0 null, 1 followed by the offset of an equal string before it, else
     * its UTF-8 length + 2 followed by its bytes.  A number is a zigzag
     * varint, a count an unsigned one.
     */
    static final class Block {

        private Block() {}

        static final class Writer {
            private byte[] out = new byte[256];
            private int len;
            private Map<String, Integer> seen;

            void string(String s) {
                int at = len;
                if (s == null) {
                    varint(0);
                    return;
                }
                if (seen == null) {
                    seen = new java.util.HashMap<>();
                }
                Integer before = s.length() > 2 ? seen.putIfAbsent(s, at) : null;
                if (before != null) {
                    varint(1);
                    varint(before);
                    return;
                }
                byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                varint(b.length + 2L);
                room(b.length);
                System.arraycopy(b, 0, out, len, b.length);
                len += b.length;
            }

            void number(long v) {
                varint((v << 1) ^ (v >> 63));
            }

            void count(int n) {
                varint(n);
            }

            private void varint(long v) {
                room(10);
                while ((v & ~0x7FL) != 0) {
                    out[len++] = (byte) ((v & 0x7F) | 0x80);
                    v >>>= 7;
                }
                out[len++] = (byte) v;
            }

            private void room(int n) {
                if (len + n > out.length) {
                    out = java.util.Arrays.copyOf(out, Math.max(out.length * 2, len + n));
                }
            }

            byte[] toBytes() {
                return java.util.Arrays.copyOf(out, len);
            }
        }

        static final class Reader {
            private final byte[] b;
            private int pos;

            Reader(byte[] b) {
                this.b = b;
            }

            private long varint() {
                long v = 0;
                for (int shift = 0;; shift += 7) {
                    byte x = b[pos++];
                    v |= (long) (x & 0x7F) << shift;
                    if (x >= 0) {
                        return v;
                    }
                }
            }

            String string() {
                long tag = varint();
                if (tag == 0) {
                    return null;
                }
                if (tag == 1) {
                    Reader again = new Reader(b);
                    again.pos = (int) varint();
                    return again.string();
                }
                int n = (int) (tag - 2);
                String s = new String(b, pos, n, java.nio.charset.StandardCharsets.UTF_8);
                pos += n;
                return s;
            }

            /** Passes n strings (the fixed ones from the start, or a header's values). */
            void skipStrings(int n) {
                for (int i = 0; i < n; i++) {
                    long tag = varint();
                    if (tag == 1) {
                        varint();
                    } else if (tag > 1) {
                        pos += (int) (tag - 2);
                    }
                }
            }

            long number() {
                long v = varint();
                return (v >>> 1) ^ -(v & 1);
            }

            int count() {
                return (int) varint();
            }
        }
    }

    /** The id of the handshake's session (existing or requested), or null. */
    public String getSessionId() {
        return string(SESSION_ID);
    }

    // ---- headers, cookies, parameters ------------------------------------

    @Override public Cookie[] getCookies() {
        if ((flags & HAS_COOKIES) == 0) {
            return null;
        }
        Block.Reader r = parameters();
        for (int n = r.count(); n > 0; n--) {
            r.skipStrings(1);
            r.skipStrings(r.count());
        }
        int n = r.count();
        List<Cookie> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String name = r.string();
            String value = r.string();
            try {
                out.add(new Cookie(name, value));
            } catch (IllegalArgumentException e) {
                // A name this servlet API refuses (the container took it): left out.
            }
        }
        return out.toArray(new Cookie[0]);
    }

    @Override public String getHeader(String name) {
        List<String> v = headerValues(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    @Override public Enumeration<String> getHeaders(String name) {
        List<String> v = headerValues(name);
        return Collections.enumeration(v == null ? Collections.emptyList() : v);
    }

    @Override public Enumeration<String> getHeaderNames() {
        Block.Reader r = headers();
        int n = r.count();
        List<String> names = new ArrayList<>(n);
        for (; n > 0; n--) {
            names.add(r.string());
            r.skipStrings(r.count());
        }
        return Collections.enumeration(names);
    }

    @Override public long getDateHeader(String name) {
        String v = getHeader(name);
        if (v == null) {
            return -1;
        }
        SimpleDateFormat f = new SimpleDateFormat("EEE, dd MMM yyyy HH:mm:ss zzz", Locale.US);
        f.setTimeZone(TimeZone.getTimeZone("GMT"));
        try {
            return f.parse(v).getTime();
        } catch (ParseException e) {
            throw new IllegalArgumentException("header " + name + " is not a date: " + v);
        }
    }

    @Override public int getIntHeader(String name) {
        String v = getHeader(name);
        return v == null ? -1 : Integer.parseInt(v.trim());
    }

    @Override public String getParameter(String name) {
        String[] v = getParameterValues(name);
        return v == null || v.length == 0 ? null : v[0];
    }

    @Override public Enumeration<String> getParameterNames() {
        return Collections.enumeration(parameterMap().keySet());
    }

    @Override public String[] getParameterValues(String name) {
        if (name == null) {
            return null;
        }
        Block.Reader r = parameters();
        for (int n = r.count(); n > 0; n--) {
            boolean match = name.equals(r.string());
            int k = r.count();
            if (!match) {
                r.skipStrings(k);
                continue;
            }
            String[] out = new String[k];
            for (int i = 0; i < k; i++) {
                out[i] = r.string();
            }
            return out;
        }
        return null;
    }

    /** The parameters, each with all its values: unmodifiable, read from the snapshot on each call. */
    @Override public Map<String, String[]> getParameterMap() {
        return Collections.unmodifiableMap(parameterMap());
    }

    // ---- request line and addresses ----------------------------------------

    @Override public String getMethod() { return string(METHOD); }
    @Override public String getRequestURI() { return string(REQUEST_URI); }

    @Override public StringBuffer getRequestURL() {
        String url = string(REQUEST_URL);
        return url == null ? null : new StringBuffer(url);
    }

    @Override public String getQueryString() { return string(QUERY); }
    @Override public String getProtocol() { return string(PROTOCOL); }
    @Override public String getScheme() { return string(SCHEME); }
    @Override public String getServerName() { return string(SERVER_NAME); }
    @Override public int getServerPort() { return (int) number(SERVER_PORT); }
    @Override public String getContextPath() { return string(CONTEXT_PATH); }
    @Override public String getServletPath() { return string(SERVLET_PATH); }
    @Override public String getPathInfo() { return string(PATH_INFO); }
    @Override public String getPathTranslated() { return null; }
    @Override public String getRemoteAddr() { return string(REMOTE_ADDR); }
    @Override public String getRemoteHost() { return string(REMOTE_HOST); }
    @Override public int getRemotePort() { return (int) number(REMOTE_PORT); }
    @Override public String getLocalAddr() { return string(LOCAL_ADDR); }
    @Override public String getLocalName() { return string(LOCAL_NAME); }
    @Override public int getLocalPort() { return (int) number(LOCAL_PORT); }
    @Override public boolean isSecure() { return (flags & SECURE) != 0; }

    @Override public Locale getLocale() {
        return locales instanceof Locale ? (Locale) locales : ((Locale[]) locales)[0];
    }

    @Override public Enumeration<Locale> getLocales() {
        return Collections.enumeration(locales instanceof Locale ? Collections.singletonList((Locale) locales)
                : java.util.Arrays.asList((Locale[]) locales));
    }

    @Override public String getCharacterEncoding() { return string(CHARACTER_ENCODING); }
    @Override public String getContentType() { return string(CONTENT_TYPE); }

    @Override public int getContentLength() {
        long n = getContentLengthLong();
        return n > Integer.MAX_VALUE ? -1 : (int) n;
    }

    @Override public long getContentLengthLong() { return number(CONTENT_LENGTH); }
    @Override public DispatcherType getDispatcherType() { return DispatcherType.REQUEST; }
    @Override public ServletContext getServletContext() { return servletContext; }

    /** Servlet 6.0 (Tomcat 10.1) asks for these; a snapshot has no request id. */
    public String getRequestId() { return ""; }
    public String getProtocolRequestId() { return ""; }

    // ---- security and session ----------------------------------------------

    @Override public String getAuthType() { return string(AUTH_TYPE); }
    @Override public String getRemoteUser() { return string(REMOTE_USER); }
    @Override public Principal getUserPrincipal() { return principal; }
    @Override public String getRequestedSessionId() { return string(REQUESTED_SESSION_ID); }
    @Override public boolean isRequestedSessionIdFromCookie() { return (flags & SID_FROM_COOKIE) != 0; }
    @Override public boolean isRequestedSessionIdFromURL() { return (flags & SID_FROM_URL) != 0; }
    @Override @Deprecated public boolean isRequestedSessionIdFromUrl() { return isRequestedSessionIdFromURL(); }

    @Override public boolean isRequestedSessionIdValid() {
        throw gone("session validity is not known; use getSessionId()");
    }

    @Override public boolean isUserInRole(String role) {
        throw gone("roles are not known; check them in a BeforeConnectListener");
    }

    /** Null for getSession(false): the snapshot holds no session object. */
    @Override public HttpSession getSession(boolean create) {
        if (!create) {
            return null;
        }
        throw gone("the session object is not available; use getSessionId(), or read the session"
                + " in a BeforeConnectListener");
    }

    @Override public HttpSession getSession() {
        return getSession(true);
    }

    @Override public String changeSessionId() {
        throw gone("the session cannot be changed");
    }

    @Override public boolean authenticate(HttpServletResponse response) {
        throw gone("authenticate() needs the live request");
    }

    @Override public void login(String username, String password) {
        throw gone("login() needs the live request");
    }

    @Override public void logout() {
        throw gone("logout() needs the live request");
    }

    // ---- attributes (this snapshot's own) ------------------------------------

    @Override public Object getAttribute(String name) {
        Map<String, Object> a = attributes;
        return a == null ? null : a.get(name);
    }

    @Override public Enumeration<String> getAttributeNames() {
        Map<String, Object> a = attributes;
        return Collections.enumeration(a == null ? Collections.emptySet() : a.keySet());
    }

    @Override public void setAttribute(String name, Object value) {
        if (value == null) {
            removeAttribute(name);
            return;
        }
        Map<String, Object> a = attributes;
        if (a == null) {
            synchronized (this) {
                a = attributes;
                if (a == null) {
                    attributes = a = new ConcurrentHashMap<>();
                }
            }
        }
        a.put(name, value);
    }

    @Override public void removeAttribute(String name) {
        Map<String, Object> a = attributes;
        if (a != null) {
            a.remove(name);
        }
    }

    // ---- what needs the live request -------------------------------------------

    @Override public void setCharacterEncoding(String env) {
        throw gone("the body was already read");
    }

    @Override public ServletInputStream getInputStream() {
        throw gone("the body is not available");
    }

    @Override public BufferedReader getReader() {
        throw gone("the body is not available");
    }

    @Override public Collection<Part> getParts() {
        throw gone("the body is not available");
    }

    @Override public Part getPart(String name) {
        throw gone("the body is not available");
    }

    @Override public <T extends HttpUpgradeHandler> T upgrade(Class<T> handlerClass) {
        throw gone("it cannot be upgraded");
    }

    @Override public RequestDispatcher getRequestDispatcher(String path) {
        throw gone("it cannot be dispatched");
    }

    @Override @Deprecated public String getRealPath(String path) {
        return servletContext == null ? null : servletContext.getRealPath(path);
    }

    @Override public AsyncContext startAsync() {
        throw new IllegalStateException(GONE + "async is not supported");
    }

    @Override public AsyncContext startAsync(ServletRequest request, ServletResponse response) {
        throw new IllegalStateException(GONE + "async is not supported");
    }

    @Override public boolean isAsyncStarted() { return false; }
    @Override public boolean isAsyncSupported() { return false; }

    @Override public AsyncContext getAsyncContext() {
        throw new IllegalStateException(GONE + "async was not started");
    }

    private static UnsupportedOperationException gone(String what) {
        return new UnsupportedOperationException(GONE + what);
    }

    @Override public String toString() {
        String q = getQueryString();
        return "RequestSnapshot[" + getMethod() + " " + getRequestURI() + (q == null ? "" : "?" + q)
                + " from " + getRemoteAddr() + ":" + getRemotePort() + "]";
    }
}
