package org.comet4j.core.util;

import java.util.Locale;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Comet4J's browser sniffing by User-Agent.  comet4j.js picks its transport
 * by trying (WebSocket, then streaming, then long-polling), so nothing here
 * uses this; it answers as Comet4J meant it to (a missing User-Agent is no
 * browser: false).
 */
public class ExplorerUtil {

    private static boolean has(HttpServletRequest request, String what) {
        String ua = request.getHeader("User-Agent");
        return ua != null && ua.toLowerCase(Locale.ROOT).contains(what);
    }

    public static Boolean isIE(HttpServletRequest request) {
        return has(request, "msie") || has(request, "trident/");
    }

    public static Boolean isFirefox(HttpServletRequest request) {
        return has(request, "firefox");
    }

    public static Boolean isOpera(HttpServletRequest request) {
        return has(request, "opera") || has(request, "opr/");
    }

    public static Boolean isChrome(HttpServletRequest request) {
        return has(request, "chrome");
    }

    public static Boolean isAir(HttpServletRequest request) {
        return has(request, "adobeair");
    }

    /** Safari, not Chrome (whose User-Agent names Safari too). */
    public static Boolean isSafari(HttpServletRequest request) {
        return has(request, "safari") && !isChrome(request);
    }

    /** Whether Comet4J would have streamed to this browser (Safari, AIR, Chrome, Firefox). */
    public static Boolean canStreamingXHR(HttpServletRequest request) {
        return isSafari(request) || isAir(request) || isChrome(request) || isFirefox(request);
    }
}
