package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.comet4j.core.util.JSONUtil;
import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;

/**
 * Test helpers around a real engine: start one on a free loopback port from
 * a config map, do the servlet handshake without a container, attach
 * java.net.http WebSocket clients, mint tickets by hand.
 */
final class Harness {

    static final String SECRET = "0123456789abcdef-test-secret";
    static final HttpClient HTTP = HttpClient.newHttpClient();

    private Harness() {}

    /** Starts CometContext's engine on 127.0.0.1 and a free port, with extra settings. */
    static CometContext start(Map<String, String> extra, String... channels) {
        Map<String, String> cfg = new HashMap<>();
        cfg.put("Comet.Port", "0");
        cfg.put("Comet.Host", "127.0.0.1");
        cfg.put("Comet.Threads", "2");
        cfg.put("Comet.Secret", SECRET);
        cfg.putAll(extra);
        CometContext cc = CometContext.getInstance();
        for (String ch : channels) {
            cc.registChannel(ch);
        }
        cc.init(CometConfig.parse(cfg));
        return cc;
    }

    static void stop() {
        CometContext.getInstance().destroy();
    }

    static CometEngine engine() {
        return CometContext.getInstance().getEngine();
    }

    static String wsUrl(String ticket) {
        return "ws://127.0.0.1:" + engine().getPort() + "/ws" + (ticket == null ? "" : "?ticket=" + ticket);
    }

    /** http://127.0.0.1:port/path?ticket=T[&since=S], since a channel → [epoch, offset] map or null. */
    static String httpUrl(String path, String ticket, Map<String, List<Object>> since) {
        return "http://127.0.0.1:" + engine().getPort() + path + "?ticket=" + ticket + sinceParam(since);
    }

    /** "&since=<URL-encoded JSON>", or "" for null. */
    static String sinceParam(Map<String, List<Object>> since) {
        return since == null ? "" : "&since=" + URLEncoder.encode(JSONUtil.object2json(since), StandardCharsets.UTF_8);
    }

    /** Attaches a WebSocket client with a since parameter (resume). */
    static Client connect(String ticket, Map<String, List<Object>> since) throws Exception {
        Client c = new Client();
        c.ws = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create(wsUrl(ticket) + sinceParam(since)), c).get(10, TimeUnit.SECONDS);
        return c;
    }

    /** Runs CometServlet's handshake with a fake request. */
    static FakeHttp.Resp handshake(FakeHttp.Req req) throws IOException {
        FakeHttp.Resp resp = new FakeHttp.Resp();
        new CometServlet().handle(FakeHttp.request(req), FakeHttp.response(resp));
        return resp;
    }

    /** A successful handshake's answer. */
    static Map<String, Object> handshake() throws IOException {
        FakeHttp.Resp r = handshake(new FakeHttp.Req().param("cmd", "conn"));
        assertEquals(200, r.status, r.body.toString());
        return MiniJson.object(r.body.toString());
    }

    /** An HS256 JWT signed in Java, as "any backend that knows the secret" would. */
    static String jwt(String secret, Map<String, Object> claims) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String head = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String body = b64.encodeToString(JSONUtil.object2json(claims).getBytes(StandardCharsets.UTF_8));
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            byte[] sig = mac.doFinal((head + "." + body).getBytes(StandardCharsets.US_ASCII));
            return head + "." + body + "." + b64.encodeToString(sig);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Attaches a client; fails the test if the upgrade is refused. */
    static Client connect(String ticket) throws Exception {
        return connect(HTTP, ticket);
    }

    static Client connect(HttpClient http, String ticket) throws Exception {
        Client c = new Client();
        c.ws = connectAsync(http, ticket, c).get(10, TimeUnit.SECONDS);
        return c;
    }

    static CompletableFuture<WebSocket> connectAsync(HttpClient http, String ticket, Client c) {
        return http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create(wsUrl(ticket)), c);
    }

    /** The HTTP status of a refused upgrade. */
    static int refusedStatus(String ticket) throws Exception {
        try {
            WebSocket ws = connectAsync(HTTP, ticket, new Client()).get(10, TimeUnit.SECONDS);
            ws.abort();
            throw new AssertionError("the upgrade was accepted");
        } catch (ExecutionException e) {
            Throwable t = e.getCause();
            while (t instanceof CompletionException && t.getCause() != null) {
                t = t.getCause();
            }
            if (t instanceof WebSocketHandshakeException) {
                return ((WebSocketHandshakeException) t).getResponse().statusCode();
            }
            throw new AssertionError("expected WebSocketHandshakeException", t);
        }
    }

    /** GET url with a timeout: status, Content-Type and body. */
    static HttpResponse<String> get(String url, long ms) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMillis(ms)).GET().build();
        return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** POST body to url with a timeout. */
    static HttpResponse<String> post(String url, String body, long ms) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMillis(ms))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** A long poll: GET url, the body parsed as a JSON array of frames. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> poll(String url, long ms) throws Exception {
        HttpResponse<String> r = get(url, ms);
        if (r.statusCode() != 200) {
            throw new AssertionError("poll: " + r.statusCode() + " " + r.body());
        }
        String type = r.headers().firstValue("Content-Type").orElse("");
        if (!type.startsWith("application/json")) {
            throw new AssertionError("poll: Content-Type " + type);
        }
        return (List<Map<String, Object>>) MiniJson.parse(r.body());
    }

    /** An SSE client (java.net.http, BodyHandlers.ofLines()) that queues the frames of its data: lines. */
    static final class Sse {
        final HttpResponse<Stream<String>> response;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final Thread reader;

        Sse(String url) throws Exception {
            HttpRequest req = HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream")
                    .GET().build();
            response = HTTP.sendAsync(req, HttpResponse.BodyHandlers.ofLines()).get(10, TimeUnit.SECONDS);
            reader = new Thread(() -> {
                try {
                    response.body().forEach(lines::add);
                } catch (RuntimeException e) {
                    // closed
                }
            }, "test-sse-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** The next frame (a data: line as JSON), skipping comments and blank lines. */
        Map<String, Object> next(long ms) throws InterruptedException {
            long end = System.currentTimeMillis() + ms;
            while (true) {
                String l = lines.poll(Math.max(1, end - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
                if (l == null) {
                    throw new AssertionError("no SSE frame within " + ms + " ms");
                }
                if (l.startsWith("data:")) {
                    return MiniJson.object(l.substring(5).trim());
                }
            }
        }

        /** The next "msg" frame, skipping others. */
        Map<String, Object> nextMsg(long ms) throws InterruptedException {
            long end = System.currentTimeMillis() + ms;
            while (true) {
                Map<String, Object> m = next(Math.max(1, end - System.currentTimeMillis()));
                if ("msg".equals(m.get("t"))) {
                    return m;
                }
            }
        }

        void close() {
            response.body().close();
            reader.interrupt();
        }
    }

    /** A WebSocket client that queues the text messages it receives (and the binary ones apart). */
    static final class Client implements WebSocket.Listener {
        final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        final BlockingQueue<byte[]> binaries = new LinkedBlockingQueue<>();
        private final java.io.ByteArrayOutputStream binaryPart = new java.io.ByteArrayOutputStream();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        volatile String closeReason;
        volatile WebSocket ws;
        volatile String id;
        private final StringBuilder part = new StringBuilder();

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(Long.MAX_VALUE);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            synchronized (part) {
                part.append(data);
                if (last) {
                    messages.add(part.toString());
                    part.setLength(0);
                }
            }
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, java.nio.ByteBuffer data, boolean last) {
            synchronized (binaryPart) {
                byte[] b = new byte[data.remaining()];
                data.get(b);
                binaryPart.write(b, 0, b.length);
                if (last) {
                    binaries.add(binaryPart.toByteArray());
                    binaryPart.reset();
                }
            }
            return null;
        }

        /** The next binary message, whole, waiting up to ms. */
        byte[] nextBinary(long ms) throws InterruptedException {
            byte[] m = binaries.poll(ms, TimeUnit.MILLISECONDS);
            if (m == null) {
                throw new AssertionError("no binary message within " + ms + " ms");
            }
            return m;
        }

        /** Sends a binary message: u16 n, the head (JSON), the bytes (docs/protocol.md section 11). */
        void sendBinary(String head, byte[] bytes) {
            ws.sendBinary(java.nio.ByteBuffer.wrap(binaryMessage(head, bytes)), true).join();
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closeReason = reason;
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.completeExceptionally(error);
        }

        /** The next message as a JSON object, waiting up to ms. */
        Map<String, Object> next(long ms) throws InterruptedException {
            String m = messages.poll(ms, TimeUnit.MILLISECONDS);
            if (m == null) {
                throw new AssertionError("no message within " + ms + " ms");
            }
            return MiniJson.object(m);
        }

        /** The next message that matches, skipping others, waiting up to ms in all. */
        Map<String, Object> nextWhere(Predicate<Map<String, Object>> p, long ms) throws InterruptedException {
            long end = System.currentTimeMillis() + ms;
            while (true) {
                Map<String, Object> m = next(Math.max(1, end - System.currentTimeMillis()));
                if (p.test(m)) {
                    return m;
                }
            }
        }

        /** The next "msg" frame, skipping others (open, pong). */
        Map<String, Object> nextMsg(long ms) throws InterruptedException {
            return nextWhere(m -> "msg".equals(m.get("t")), ms);
        }

        /** The answer (ack, res or err) to command id, skipping other frames. */
        Map<String, Object> answer(long id, long ms) throws InterruptedException {
            return nextWhere(m -> {
                Object t = m.get("t");
                return ("ack".equals(t) || "res".equals(t) || "err".equals(t)) && Long.valueOf(id).equals(m.get("id"));
            }, ms);
        }

        int closeCode(long ms) throws Exception {
            try {
                return closed.get(ms, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("not closed within " + ms + " ms");
            }
        }

        void close() {
            WebSocket w = ws;
            if (w != null) {
                w.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
            }
        }

        void abort() {
            WebSocket w = ws;
            if (w != null) {
                w.abort();
            }
        }
    }

    /** A binary message of the protocol: u16 n (big-endian), n bytes of head (UTF-8), the bytes. */
    static byte[] binaryMessage(String head, byte[] bytes) {
        byte[] h = head.getBytes(StandardCharsets.UTF_8);
        byte[] m = new byte[2 + h.length + bytes.length];
        m[0] = (byte) (h.length >> 8);
        m[1] = (byte) h.length;
        System.arraycopy(h, 0, m, 2, h.length);
        System.arraycopy(bytes, 0, m, 2 + h.length, bytes.length);
        return m;
    }

    /** The head of a binary message, parsed. */
    static Map<String, Object> binaryHead(byte[] m) {
        int n = (m[0] & 0xff) << 8 | (m[1] & 0xff);
        return MiniJson.object(new String(m, 2, n, StandardCharsets.UTF_8));
    }

    /** The bytes of a binary message, after its head. */
    static byte[] binaryData(byte[] m) {
        int n = (m[0] & 0xff) << 8 | (m[1] & 0xff);
        return java.util.Arrays.copyOfRange(m, 2 + n, m.length);
    }

    static List<String> list(Object o) {
        List<String> out = new ArrayList<>();
        for (Object x : (List<?>) o) {
            out.add((String) x);
        }
        return out;
    }
}
