package org.comet4j.example;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.comet4j.core.CometContext;

/**
 * POST /chat with text (and optionally name): every open page gets the line
 * on the "chat" channel.
 */
public class ChatServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** Longer lines are cut: a chat line, not a document. */
    static final int MAX_TEXT = 500;
    static final int MAX_NAME = 40;

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String text = clip(req.getParameter("text"), MAX_TEXT);
        String name = clip(req.getParameter("name"), MAX_NAME);
        resp.setContentType("application/json;charset=UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        if (text.isEmpty()) {
            resp.setStatus(HttpServletResponse.SC_BAD_REQUEST);
            resp.getWriter().write("{\"ok\":false,\"error\":\"text is empty\"}");
            return;
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("name", name.isEmpty() ? "anonymous" : name);
        line.put("text", text);
        line.put("time", System.currentTimeMillis());
        CometContext.getInstance().getEngine().sendToAll(AppInit.CHAT, line);
        resp.getWriter().write("{\"ok\":true}");
    }

    private static String clip(String s, int max) {
        if (s == null) {
            return "";
        }
        s = s.trim();
        return s.length() > max ? s.substring(0, max) : s;
    }
}
