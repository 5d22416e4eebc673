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
import java.util.TreeMap;
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
 */
public final class RequestSnapshot implements HttpServletRequest {

    private static final String GONE = "CometConnection.getRequest() is a snapshot of the handshake"
            + " request, which has ended; ";

    private final String method;
    private final String requestUri;
    private final String requestUrl;
    private final String queryString;
    private final String protocol;
    private final String scheme;
    private final String serverName;
    private final int serverPort;
    private final String contextPath;
    private final String servletPath;
    private final String pathInfo;
    private final String remoteAddr;
    private final String remoteHost;
    private final int remotePort;
    private final String localAddr;
    private final String localName;
    private final int localPort;
    private final boolean secure;
    private final String authType;
    private final String remoteUser;
    private final Principal principal;
    private final String requestedSessionId;
    private final String sessionId;
    private final boolean sessionIdFromCookie;
    private final boolean sessionIdFromUrl;
    private final String characterEncoding;
    private final String contentType;
    private final long contentLength;
    private final Map<String, List<String>> headers;
    private final Map<String, String[]> parameters;
    private final Cookie[] cookies;
    private final List<Locale> locales;
    private final ServletContext servletContext;
    private final Map<String, Object> attributes = new ConcurrentHashMap<>();

    private RequestSnapshot(HttpServletRequest r) {
        method = r.getMethod();
        requestUri = r.getRequestURI();
        StringBuffer url = r.getRequestURL();
        requestUrl = url == null ? null : url.toString();
        queryString = r.getQueryString();
        protocol = r.getProtocol();
        scheme = r.getScheme();
        serverName = r.getServerName();
        serverPort = r.getServerPort();
        contextPath = r.getContextPath();
        servletPath = r.getServletPath();
        pathInfo = r.getPathInfo();
        remoteAddr = r.getRemoteAddr();
        remoteHost = r.getRemoteHost();
        remotePort = r.getRemotePort();
        localAddr = r.getLocalAddr();
        localName = r.getLocalName();
        localPort = r.getLocalPort();
        secure = r.isSecure();
        authType = r.getAuthType();
        remoteUser = r.getRemoteUser();
        principal = r.getUserPrincipal();
        requestedSessionId = r.getRequestedSessionId();
        HttpSession s = r.getSession(false);
        sessionId = s != null ? s.getId() : requestedSessionId;
        sessionIdFromCookie = r.isRequestedSessionIdFromCookie();
        sessionIdFromUrl = r.isRequestedSessionIdFromURL();
        characterEncoding = r.getCharacterEncoding();
        contentType = r.getContentType();
        contentLength = r.getContentLengthLong();
        Map<String, List<String>> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        Enumeration<String> names = r.getHeaderNames();
        while (names != null && names.hasMoreElements()) {
            String n = names.nextElement();
            List<String> values = new ArrayList<>();
            Enumeration<String> vs = r.getHeaders(n);
            while (vs != null && vs.hasMoreElements()) {
                values.add(vs.nextElement());
            }
            h.put(n, Collections.unmodifiableList(values));
        }
        headers = Collections.unmodifiableMap(h);
        Map<String, String[]> p = new LinkedHashMap<>();
        Map<String, String[]> live = r.getParameterMap();
        if (live != null) {
            for (Map.Entry<String, String[]> e : live.entrySet()) {
                p.put(e.getKey(), e.getValue() == null ? new String[0] : e.getValue().clone());
            }
        }
        parameters = Collections.unmodifiableMap(p);
        Cookie[] c = r.getCookies();
        if (c == null) {
            cookies = null;
        } else {
            cookies = new Cookie[c.length];
            for (int i = 0; i < c.length; i++) {
                cookies[i] = (Cookie) c[i].clone();
            }
        }
        List<Locale> l = new ArrayList<>();
        Enumeration<Locale> ls = r.getLocales();
        while (ls != null && ls.hasMoreElements()) {
            l.add(ls.nextElement());
        }
        if (l.isEmpty()) {
            l.add(r.getLocale() != null ? r.getLocale() : Locale.getDefault());
        }
        locales = Collections.unmodifiableList(l);
        ServletContext sc;
        try {
            sc = r.getServletContext();
        } catch (RuntimeException e) {
            sc = null;
        }
        servletContext = sc;
    }

    /** Copies what stays meaningful after the request ends. */
    public static RequestSnapshot of(HttpServletRequest request) {
        return new RequestSnapshot(request);
    }

    /** The id of the handshake's session (existing or requested), or null. */
    public String getSessionId() {
        return sessionId;
    }

    // ---- headers, cookies, parameters ------------------------------------

    @Override public Cookie[] getCookies() {
        if (cookies == null) {
            return null;
        }
        Cookie[] out = new Cookie[cookies.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (Cookie) cookies[i].clone();
        }
        return out;
    }

    @Override public String getHeader(String name) {
        List<String> v = headers.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    @Override public Enumeration<String> getHeaders(String name) {
        List<String> v = headers.get(name);
        return Collections.enumeration(v == null ? Collections.emptyList() : v);
    }

    @Override public Enumeration<String> getHeaderNames() {
        return Collections.enumeration(headers.keySet());
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
        String[] v = parameters.get(name);
        return v == null || v.length == 0 ? null : v[0];
    }

    @Override public Enumeration<String> getParameterNames() {
        return Collections.enumeration(parameters.keySet());
    }

    @Override public String[] getParameterValues(String name) {
        String[] v = parameters.get(name);
        return v == null ? null : v.clone();
    }

    @Override public Map<String, String[]> getParameterMap() {
        return parameters;
    }

    // ---- request line and addresses ----------------------------------------

    @Override public String getMethod() { return method; }
    @Override public String getRequestURI() { return requestUri; }
    @Override public StringBuffer getRequestURL() { return requestUrl == null ? null : new StringBuffer(requestUrl); }
    @Override public String getQueryString() { return queryString; }
    @Override public String getProtocol() { return protocol; }
    @Override public String getScheme() { return scheme; }
    @Override public String getServerName() { return serverName; }
    @Override public int getServerPort() { return serverPort; }
    @Override public String getContextPath() { return contextPath; }
    @Override public String getServletPath() { return servletPath; }
    @Override public String getPathInfo() { return pathInfo; }
    @Override public String getPathTranslated() { return null; }
    @Override public String getRemoteAddr() { return remoteAddr; }
    @Override public String getRemoteHost() { return remoteHost; }
    @Override public int getRemotePort() { return remotePort; }
    @Override public String getLocalAddr() { return localAddr; }
    @Override public String getLocalName() { return localName; }
    @Override public int getLocalPort() { return localPort; }
    @Override public boolean isSecure() { return secure; }
    @Override public Locale getLocale() { return locales.get(0); }
    @Override public Enumeration<Locale> getLocales() { return Collections.enumeration(locales); }
    @Override public String getCharacterEncoding() { return characterEncoding; }
    @Override public String getContentType() { return contentType; }
    @Override public int getContentLength() { return contentLength > Integer.MAX_VALUE ? -1 : (int) contentLength; }
    @Override public long getContentLengthLong() { return contentLength; }
    @Override public DispatcherType getDispatcherType() { return DispatcherType.REQUEST; }
    @Override public ServletContext getServletContext() { return servletContext; }

    /** Servlet 6.0 (Tomcat 10.1) asks for these; a snapshot has no request id. */
    public String getRequestId() { return ""; }
    public String getProtocolRequestId() { return ""; }

    // ---- security and session ----------------------------------------------

    @Override public String getAuthType() { return authType; }
    @Override public String getRemoteUser() { return remoteUser; }
    @Override public Principal getUserPrincipal() { return principal; }
    @Override public String getRequestedSessionId() { return requestedSessionId; }
    @Override public boolean isRequestedSessionIdFromCookie() { return sessionIdFromCookie; }
    @Override public boolean isRequestedSessionIdFromURL() { return sessionIdFromUrl; }
    @Override @Deprecated public boolean isRequestedSessionIdFromUrl() { return sessionIdFromUrl; }

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

    @Override public Object getAttribute(String name) { return attributes.get(name); }
    @Override public Enumeration<String> getAttributeNames() { return Collections.enumeration(attributes.keySet()); }

    @Override public void setAttribute(String name, Object value) {
        if (value == null) {
            attributes.remove(name);
        } else {
            attributes.put(name, value);
        }
    }

    @Override public void removeAttribute(String name) { attributes.remove(name); }

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
        return "RequestSnapshot[" + method + " " + requestUri + (queryString == null ? "" : "?" + queryString)
                + " from " + remoteAddr + ":" + remotePort + "]";
    }
}
