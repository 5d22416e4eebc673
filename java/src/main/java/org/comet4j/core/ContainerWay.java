package org.comet4j.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The container way's servlet side (docs/protocol.md section 10): the
 * container keeps the page's socket and this joins its streams to a
 * {@link BridgePipe}.  A WebSocket: the request goes to the core first and
 * the servlet waits (on its own thread, a few milliseconds: the core
 * answers at once) for the core's answer head; a 101 is answered with the
 * core's Sec-WebSocket-Accept (and its Sec-WebSocket-Extensions: the core
 * negotiates permessage-deflate, then compresses and inflates the frames
 * that pass through the pipe) and {@code request.upgrade(BridgeUpgrade)},
 * any other status (401 ticket, 403 origin, 503 full...) with the core's
 * status, type and body, and no upgrade.  SSE and long-poll: {@code
 * startAsync()} without a container timeout (the core has its own), the
 * core's head onto the response, its body streamed with a non-blocking
 * WriteListener, the core's end completing it.  Commands: the body read
 * without blocking (up to Comet.MaxMessage), sent with its length, the
 * core's JSON answer passed back.
 */
final class ContainerWay {

    /** How long a WebSocket's servlet thread waits for the core's answer head. */
    static final long ANSWER_MS = 10000;

    /** Tomcat's request attribute behind isAsyncSupported(). */
    static final String TOMCAT_ASYNC = "org.apache.catalina.ASYNC_SUPPORTED";

    private static final Logger LOG = Logger.getLogger("org.comet4j");
    private static final AtomicBoolean FORCED = new AtomicBoolean();
    private static final AtomicBoolean NO_UPGRADE = new AtomicBoolean();

    private ContainerWay() {}

    /**
     * Starts async on a request whose chain may hold a filter that did not
     * declare async-supported (CometAppListener marked comet4j's own): on
     * Tomcat the request is marked, logged once; elsewhere null, and the
     * page gets 503 naming the fix.
     */
    private static AsyncContext startAsync(HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        if (!request.isAsyncSupported()) {
            request.setAttribute(TOMCAT_ASYNC, Boolean.TRUE);
            if (!request.isAsyncSupported()) {
                CometServlet.error(response, 503, CometProtocol.ERR_BUSY, "the servlet or a filter on its path"
                        + " is not async-supported: declare <async-supported>true</async-supported>");
                return null;
            }
            if (FORCED.compareAndSet(false, true)) {
                LOG.warning("comet4j: a filter on " + request.getServletPath() + " does not declare"
                        + " <async-supported>true</async-supported>; comet4j marks its SSE and long-poll"
                        + " requests async-supported anyway (the container way streams them asynchronously)");
            }
        }
        return request.startAsync();
    }

    /** Serves a transport request whose core path is path, through bridge. */
    static void serve(Bridge bridge, CometConfig cfg, HttpServletRequest request, HttpServletResponse response,
            String path) throws IOException {
        if (CometServlet.PATH_WS.equals(path)) {
            websocket(bridge, request, response, path);
        } else if (CometServlet.PATH_CMD.equals(path)) {
            command(bridge, cfg, request, response, path);
        } else {
            byte[] head = SamePort.rebuild(request, path, "GET", request.getRemoteAddr(), -1);
            AsyncContext ac = startAsync(request, response);
            if (ac == null) {
                return;
            }
            ac.setTimeout(0); // the core times the stream or the poll out
            HttpPage page = new HttpPage(ac, response);
            page.start(bridge, head);
        }
    }

    private static void websocket(Bridge bridge, HttpServletRequest request, HttpServletResponse response,
            String path) throws IOException {
        byte[] head = SamePort.rebuild(request, path, "GET", request.getRemoteAddr(), -1);
        BridgePipe p = bridge.open(head, null, true);
        if (p == null) {
            CometServlet.error(response, 503, CometProtocol.ERR_BUSY, "comet engine not running");
            return;
        }
        BridgePipe.Answer a;
        try {
            a = p.answer.get(ANSWER_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            p.signal(BridgePipe.EV_CLOSE);
            CometServlet.error(response, 503, CometProtocol.ERR_BUSY, "the core did not answer");
            return;
        } catch (ExecutionException e) {
            CometServlet.error(response, 503, CometProtocol.ERR_BUSY, "cannot reach the core: "
                    + e.getCause().getMessage());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.signal(BridgePipe.EV_CLOSE);
            CometServlet.error(response, 503, CometProtocol.ERR_BUSY, "interrupted");
            return;
        }
        if (a.status != 101) {
            // The core refused (its pipe is closed): its status, type and reason.
            response.setStatus(a.status);
            copyHeaders(a, response);
            response.setContentLength(a.body.length);
            response.getOutputStream().write(a.body);
            return;
        }
        String accept = a.header("Sec-WebSocket-Accept");
        // permessage-deflate as the core negotiated it (it compresses and inflates the frames).
        String extensions = a.header("Sec-WebSocket-Extensions");
        response.setHeader("Upgrade", "websocket");
        response.setHeader("Connection", "Upgrade");
        if (accept != null) {
            response.setHeader("Sec-WebSocket-Accept", accept);
        }
        if (extensions != null) {
            response.setHeader("Sec-WebSocket-Extensions", extensions);
        }
        BridgeUpgrade u;
        try {
            u = request.upgrade(BridgeUpgrade.class);
        } catch (ServletException | IOException | RuntimeException e) {
            p.signal(BridgePipe.EV_CLOSE);
            if (NO_UPGRADE.compareAndSet(false, true)) {
                LOG.warning("comet4j: the container cannot upgrade a request (" + e + "): its pages' WebSockets"
                        + " get 503 and fall back to streaming or long-polling");
            }
            response.setHeader("Upgrade", null);
            response.setHeader("Connection", null);
            response.setHeader("Sec-WebSocket-Accept", null);
            response.setHeader("Sec-WebSocket-Extensions", null);
            CometServlet.error(response, 503, CometProtocol.ERR_BUSY, "the container cannot upgrade: " + e);
            return;
        }
        u.pipe = p; // init() (after this returns) attaches the connection's streams
    }

    private static void command(Bridge bridge, CometConfig cfg, HttpServletRequest request,
            HttpServletResponse response, String path) throws IOException {
        AsyncContext ac = startAsync(request, response);
        if (ac == null) {
            return;
        }
        // A body that never comes ends with the idle timeout; the core answers at once.
        ac.setTimeout(cfg.getTimeout());
        HttpPage page = new HttpPage(ac, response);
        int cap = cfg.getMaxMessage();
        long declared = request.getContentLengthLong();
        if (declared > cap) {
            // The core answers 413 on the head alone.
            page.start(bridge, SamePort.rebuild(request, path, "POST", request.getRemoteAddr(), declared));
            return;
        }
        ServletInputStream in = request.getInputStream();
        in.setReadListener(new ReadListener() {
            private final ByteArrayOutputStream body = new ByteArrayOutputStream();
            private final byte[] buf = new byte[4096];
            private boolean started;

            @Override
            public void onDataAvailable() throws IOException {
                while (!started && in.isReady()) {
                    int n = in.read(buf);
                    if (n < 0) {
                        return; // onAllDataRead follows
                    }
                    body.write(buf, 0, n);
                    if (body.size() > cap) {
                        started = true; // too large: the core's 413 on the head alone
                        page.start(bridge, SamePort.rebuild(request, path, "POST", request.getRemoteAddr(),
                                body.size()));
                        return;
                    }
                }
            }

            @Override
            public void onAllDataRead() throws IOException {
                if (started) {
                    return;
                }
                started = true;
                byte[] b = body.toByteArray();
                byte[] h = SamePort.rebuild(request, path, "POST", request.getRemoteAddr(), b.length);
                byte[] all = new byte[h.length + b.length];
                System.arraycopy(h, 0, all, 0, h.length);
                System.arraycopy(b, 0, all, h.length, b.length);
                page.start(bridge, all);
            }

            @Override
            public void onError(Throwable t) {
                started = true;
                page.gone = true;
                page.signal(BridgePipe.EV_CLOSE);
                ac.complete();
            }
        });
    }

    /** Copies the core's headers that describe its answer (not the connection's). */
    static void copyHeaders(BridgePipe.Answer a, HttpServletResponse response) {
        for (String[] h : a.headers) {
            String n = BridgePipe.lower(h[0]);
            if (n.equals("content-type")) {
                response.setContentType(h[1]);
            } else if (n.equals("cache-control") || n.equals("vary") || n.equals("upgrade")
                    || n.startsWith("access-control-")) {
                response.setHeader(h[0], h[1]);
            }
            // Content-Length: set by the caller; Connection, Transfer-Encoding: the container's.
        }
    }

    /** An SSE stream, a long poll or a command's answer, on an async response. */
    static final class HttpPage extends BridgePipe.Page implements WriteListener, AsyncListener {
        private final AsyncContext ac;
        private final HttpServletResponse response;

        HttpPage(AsyncContext ac, HttpServletResponse response) {
            this.ac = ac;
            this.response = response;
            ac.addListener(this);
        }

        /** Sets the write listener and opens the pipe with bytes (container thread). */
        void start(Bridge bridge, byte[] bytes) throws IOException {
            out = response.getOutputStream();
            out.setWriteListener(this);
            if (bridge.open(bytes, this, false) == null) {
                fail(503, "comet engine not running");
            }
        }

        @Override
        void head(BridgePipe.Answer a) {
            if (gone) {
                return;
            }
            response.setStatus(a.status);
            copyHeaders(a, response);
            if (a.contentLength >= 0) {
                response.setContentLengthLong(a.contentLength);
            }
        }

        @Override
        void end() {
            if (!gone) {
                gone = true;
                try {
                    ac.complete();
                } catch (IllegalStateException e) {
                    // completed by the container meanwhile
                }
            }
        }

        @Override
        void fail(int status, String why) {
            if (gone) {
                return;
            }
            try {
                if (!response.isCommitted()) {
                    response.setStatus(status);
                    response.setContentType("application/json;charset=UTF-8");
                    byte[] b = ("{\"error\":{\"code\":" + CometProtocol.ERR_BUSY + ",\"message\":\""
                            + why.replace("\\", "\\\\").replace("\"", "'") + "\"}}").getBytes(StandardCharsets.UTF_8);
                    response.setContentLength(b.length);
                    if (out.isReady()) {
                        out.write(b);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the page is gone: complete anyway
            }
            end();
        }

        @Override
        public void onWritePossible() {
            signal(BridgePipe.EV_WRITABLE);
        }

        @Override
        public void onError(Throwable t) {
            gone = true;
            signal(BridgePipe.EV_CLOSE);
        }

        @Override
        public void onComplete(AsyncEvent event) {
            gone = true;
            signal(BridgePipe.EV_CLOSE);
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            gone = true;
            signal(BridgePipe.EV_CLOSE);
            try {
                event.getAsyncContext().complete();
            } catch (IllegalStateException e) {
                // completed meanwhile
            }
        }

        @Override
        public void onError(AsyncEvent event) {
            gone = true;
            signal(BridgePipe.EV_CLOSE);
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // not restarted
        }
    }
}
