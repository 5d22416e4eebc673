package org.comet4j.example;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.comet4j.core.CometConnection;
import org.comet4j.core.CometContext;
import org.comet4j.core.CometEngine;

/**
 * POST /chat with text (and optionally name): every open page gets the line
 * on the "chat" channel. A text of several lines (a paste) is sent as one
 * chat line per non-empty line, in order.
 *
 * With to=&lt;connection id&gt; the lines go to that page alone
 * (sendTo, marked "private"), even while its connection is dying (the page
 * lost its network and has Comet.ConnExpires to come back): they are kept
 * and delivered when it does. 404 if the server no longer knows the id.
 */
public class ChatServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** Longer lines are cut: a chat line, not a document. */
    static final int MAX_TEXT = 500;
    static final int MAX_NAME = 40;
    /** Lines beyond this many in one post are ignored. */
    static final int MAX_LINES = 1000;

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String name = clip(req.getParameter("name"), MAX_NAME);
        String to = clip(req.getParameter("to"), 64);
        List<String> lines = lines(req.getParameter("text"));
        resp.setContentType("application/json;charset=UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        if (lines.isEmpty()) {
            resp.setStatus(HttpServletResponse.SC_BAD_REQUEST);
            resp.getWriter().write("{\"ok\":false,\"error\":\"text is empty\"}");
            return;
        }
        CometEngine engine = CometContext.getInstance().getEngine();
        CometConnection target = null;
        if (!to.isEmpty()) {
            target = engine.getConnection(to);
            if (target == null) {
                resp.setStatus(HttpServletResponse.SC_NOT_FOUND);
                resp.getWriter().write("{\"ok\":false,\"error\":\"no such connection\"}");
                return;
            }
        }
        for (String text : lines) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("name", name.isEmpty() ? "anonymous" : name);
            line.put("text", text);
            line.put("time", System.currentTimeMillis());
            if (target != null) {
                line.put("private", true);
                engine.sendTo(AppInit.CHAT, target, line);
            } else {
                engine.sendToAll(AppInit.CHAT, line);
            }
        }
        resp.getWriter().write("{\"ok\":true,\"lines\":" + lines.size() + "}");
    }

    /** The non-empty lines of text, trimmed and clipped, at most MAX_LINES. */
    static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        for (String l : text.split("\r\n|\r|\n")) {
            String s = clip(l, MAX_TEXT);
            if (!s.isEmpty()) {
                out.add(s);
                if (out.size() == MAX_LINES) {
                    break;
                }
            }
        }
        return out;
    }

    private static String clip(String s, int max) {
        if (s == null) {
            return "";
        }
        s = s.trim();
        return s.length() > max ? s.substring(0, max) : s;
    }
}
