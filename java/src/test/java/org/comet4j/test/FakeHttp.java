package org.comet4j.test;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Proxy;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Just enough of HttpServletRequest/Response, as dynamic proxies, to drive
 * CometServlet's handshake logic without a container (unit level only; the
 * real Tomcat e2e lives in tests/).  Unknown methods return null/0/false.
 */
public final class FakeHttp {

    private FakeHttp() {}

    /** A request's inputs. */
    public static final class Req {
        public String method = "GET";
        public String serverName = "127.0.0.1";
        public String remoteAddr = "127.0.0.1";
        public int remotePort = 50000;
        public String user;
        public String sessionId;
        /** isSecure() (and the https scheme): a TLS connector, whose sockets stay the container's. */
        public boolean secure;
        public String protocol = "HTTP/1.1";
        /** getPathInfo (null: none), getContentType, and the body getInputStream reads. */
        public String pathInfo;
        public String contentType;
        public byte[] body = new byte[0];
        /** The classes upgrade() was called with (the instance made is returned). */
        public final List<Object> upgraded = new ArrayList<>();
        public final Map<String, String> params = new LinkedHashMap<>();
        public final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        public final Map<String, String> cookies = new LinkedHashMap<>();

        public Req param(String k, String v) {
            params.put(k, v);
            return this;
        }

        public Req header(String k, String v) {
            headers.put(k, v);
            return this;
        }

        public Req cookie(String k, String v) {
            cookies.put(k, v);
            return this;
        }

        public String query() {
            StringBuilder b = new StringBuilder();
            params.forEach((k, v) -> b.append(b.length() == 0 ? "" : "&").append(k).append('=').append(v));
            return b.toString();
        }
    }

    /** What the servlet wrote. */
    public static final class Resp {
        public int status = 200;
        public final Map<String, String> headers = new HashMap<>();
        public String contentType;
        public final StringWriter body = new StringWriter();
        /** What went through getOutputStream(). */
        public final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        public long contentLength = -1;
    }

    public static HttpServletRequest request(Req r) {
        Map<String, Object> attrs = new HashMap<>();
        return (HttpServletRequest) Proxy.newProxyInstance(FakeHttp.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, m, a) -> {
                    switch (m.getName()) {
                        case "getMethod": return r.method;
                        case "getParameter": return r.params.get((String) a[0]);
                        case "getParameterMap": {
                            Map<String, String[]> out = new LinkedHashMap<>();
                            r.params.forEach((k, v) -> out.put(k, new String[] {v}));
                            return out;
                        }
                        case "getHeader": return r.headers.get((String) a[0]);
                        case "getHeaderNames": return Collections.enumeration(r.headers.keySet());
                        case "getHeaders": {
                            String v = r.headers.get((String) a[0]);
                            return Collections.enumeration(v == null ? List.of() : List.of(v));
                        }
                        case "getCookies": {
                            if (r.cookies.isEmpty()) {
                                return null;
                            }
                            return r.cookies.entrySet().stream()
                                    .map(e -> new Cookie(e.getKey(), e.getValue())).toArray(Cookie[]::new);
                        }
                        case "getUserPrincipal": {
                            if (r.user == null) {
                                return null;
                            }
                            Principal p = () -> r.user;
                            return p;
                        }
                        case "getRemoteUser": return r.user;
                        case "getRequestedSessionId": return r.sessionId;
                        case "getRemoteAddr": case "getRemoteHost": return r.remoteAddr;
                        case "getRemotePort": return r.remotePort;
                        case "getServerName": return r.serverName;
                        case "getServerPort": return 8080;
                        case "getScheme": return r.secure ? "https" : "http";
                        case "isSecure": return r.secure;
                        case "getProtocol": return r.protocol;
                        case "upgrade": {
                            Object u = ((Class<?>) a[0]).getConstructor().newInstance();
                            r.upgraded.add(u);
                            return u;
                        }
                        case "getContextPath": return "/app";
                        case "getServletPath": return "/conn";
                        case "getRequestURI": return "/app/conn";
                        case "getRequestURL": return new StringBuffer("http://" + r.serverName + ":8080/app/conn");
                        case "getQueryString": return r.query();
                        case "getLocale": return Locale.US;
                        case "getLocales": return Collections.enumeration(List.of(Locale.US));
                        case "getContentLengthLong": return r.body.length == 0 ? -1L : (long) r.body.length;
                        case "getContentLength": return r.body.length == 0 ? -1 : r.body.length;
                        case "getPathInfo": return r.pathInfo;
                        case "getContentType": return r.contentType;
                        case "getInputStream": {
                            java.io.ByteArrayInputStream in = new java.io.ByteArrayInputStream(r.body);
                            return new jakarta.servlet.ServletInputStream() {
                                @Override
                                public int read() {
                                    return in.read();
                                }

                                @Override
                                public int read(byte[] b, int off, int len) {
                                    return in.read(b, off, len);
                                }

                                @Override
                                public boolean isFinished() {
                                    return in.available() == 0;
                                }

                                @Override
                                public boolean isReady() {
                                    return true;
                                }

                                @Override
                                public void setReadListener(jakarta.servlet.ReadListener l) {
                                    throw new UnsupportedOperationException("not async");
                                }
                            };
                        }
                        case "getAttribute": return attrs.get((String) a[0]);
                        case "setAttribute": attrs.put((String) a[0], a[1]); return null;
                        case "toString": return "FakeRequest";
                        case "hashCode": return System.identityHashCode(proxy);
                        case "equals": return proxy == a[0];
                        default: return zero(m.getReturnType());
                    }
                });
    }

    public static HttpServletResponse response(Resp r) {
        PrintWriter w = new PrintWriter(r.body);
        return (HttpServletResponse) Proxy.newProxyInstance(FakeHttp.class.getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (proxy, m, a) -> {
                    switch (m.getName()) {
                        case "setStatus": r.status = (Integer) a[0]; return null;
                        case "getStatus": return r.status;
                        case "setHeader": case "addHeader": r.headers.put((String) a[0], (String) a[1]); return null;
                        case "getHeader": return r.headers.get((String) a[0]);
                        case "setContentType": r.contentType = (String) a[0]; return null;
                        case "getContentType": return r.contentType;
                        case "getWriter": return w;
                        case "getOutputStream": return new ServletOutputStream() {
                            @Override
                            public void write(int b) {
                                r.bytes.write(b);
                            }

                            @Override
                            public boolean isReady() {
                                return true;
                            }

                            @Override
                            public void setWriteListener(WriteListener l) {
                                throw new UnsupportedOperationException("not async");
                            }
                        };
                        case "setContentLength": r.contentLength = (Integer) a[0]; return null;
                        case "setContentLengthLong": r.contentLength = (Long) a[0]; return null;
                        case "isCommitted": return false;
                        case "sendRedirect": r.status = 302; r.headers.put("Location", (String) a[0]); return null;
                        case "toString": return "FakeResponse";
                        case "hashCode": return System.identityHashCode(proxy);
                        case "equals": return proxy == a[0];
                        default: return zero(m.getReturnType());
                    }
                });
    }

    private static Object zero(Class<?> t) {
        if (t == boolean.class) {
            return false;
        }
        if (t == int.class) {
            return 0;
        }
        if (t == long.class) {
            return 0L;
        }
        return null;
    }
}
