/*
 * JsrEndpoint - Tomcat's own WebSocket (JSR-356), for scale beside the
 * core: /jsr sends {"t":"open"} when a session opens (what bench/wsbench
 * waits for), and broadcast() sends one text to every open session with
 * the asynchronous remote, as an application that fans out without a
 * thread per page would.  The API allows one message in flight a session,
 * so each session queues what comes while one is being written and sends
 * it from the completion handler.
 */
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.websocket.OnClose;
import jakarta.websocket.OnError;
import jakarta.websocket.OnOpen;
import jakarta.websocket.SendHandler;
import jakarta.websocket.SendResult;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;

@ServerEndpoint("/jsr")
public class JsrEndpoint {
    private static final Map<String, Peer> PEERS = new ConcurrentHashMap<>();

    /** One session's sends, one at a time. */
    private static final class Peer implements SendHandler {
        private final Session session;
        private final ArrayDeque<String> queue = new ArrayDeque<>();
        private boolean busy;

        Peer(Session session) {
            this.session = session;
        }

        synchronized void send(String text) {
            if (busy) {
                queue.add(text);
                return;
            }
            busy = true;
            session.getAsyncRemote().sendText(text, this);
        }

        @Override
        public synchronized void onResult(SendResult result) {
            String next = result.isOK() ? queue.poll() : null;
            if (next == null) {
                busy = false;
                queue.clear();
                return;
            }
            session.getAsyncRemote().sendText(next, this);
        }
    }

    @OnOpen
    public void open(Session s) {
        Peer p = new Peer(s);
        PEERS.put(s.getId(), p);
        p.send("{\"t\":\"open\"}");
    }

    @OnClose
    public void close(Session s) {
        PEERS.remove(s.getId());
    }

    @OnError
    public void error(Session s, Throwable t) {
        PEERS.remove(s.getId());
    }

    /** Sends text to every open session; returns how many it went to. */
    static int broadcast(String text) {
        int n = 0;
        for (Peer p : PEERS.values()) {
            try {
                p.send(text);
                n++;
            } catch (RuntimeException e) { // a session closing meanwhile
                PEERS.remove(p.session.getId());
            }
        }
        return n;
    }
}
