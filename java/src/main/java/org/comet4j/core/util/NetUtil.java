package org.comet4j.core.util;

import jakarta.servlet.http.HttpServletRequest;

/** Comet4J's network helper. */
public class NetUtil {

    /**
     * The client's address as Comet4J took it: the first of the headers
     * X-Forwarded-For, Proxy-Client-IP, WL-Proxy-Client-IP that is set and
     * not "unknown", else the request's remote address.  The headers are
     * whatever the client (or a proxy) sent: trust them only behind a proxy
     * that sets them.  The core's own view of a connection's address is
     * CometConnection.getClientIp().
     */
    public static String getIpAddr(HttpServletRequest request) {
        String[] headers = {"x-forwarded-for", "Proxy-Client-IP", "WL-Proxy-Client-IP"};
        for (String h : headers) {
            String ip = request.getHeader(h);
            if (ip != null && !ip.isEmpty() && !"unknown".equalsIgnoreCase(ip)) {
                return ip;
            }
        }
        return request.getRemoteAddr();
    }
}
