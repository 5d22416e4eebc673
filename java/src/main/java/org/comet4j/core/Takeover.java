package org.comet4j.core;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.http.HttpServletRequest;

import org.comet4j.core.exception.NativeException;

/**
 * One port (docs/protocol.md section 10): hands the socket of a request
 * that Tomcat accepted to the native core, which holds it from then on
 * exactly like a socket accepted on its own port.  Everything specific to
 * Tomcat lives here.
 *
 * <p>The socket is reached through Tomcat's request objects (all in the
 * unnamed module: reflection works without flags): {@code RequestFacade.request}
 * → {@code connector.Request.getCoyoteRequest()} → {@code coyote.Request.hook}
 * (the {@code Http11Processor}) → {@code AbstractProcessor.socketWrapper}
 * ({@code NioEndpoint$NioSocketWrapper}) → {@code getSocket()} ({@code NioChannel})
 * → {@code getIOChannel()} ({@code sun.nio.ch.SocketChannelImpl}), whose
 * {@code fdVal} the core reads from C; Tomcat's poller epoll is
 * {@code getPoller().getSelector()}'s {@code epfd}.  The decision is taken
 * before anything is swapped, and only when every check passes: the exact
 * class names above (so not {@code SecureNioChannel}: TLS; not HTTP/2's
 * {@code StreamProcessor}; not NIO2 or APR), a request that is not secure
 * and is HTTP/1.x, and a socket whose peer and local port are the
 * request's.  Then the core detaches it ({@code c4j_takeover_detach}: out
 * of Tomcat's epoll, a dummy under its number), the bytes Tomcat had read
 * past the request ({@code Http11InputBuffer.byteBuffer}) are taken, and
 * the core adopts the socket with the request rebuilt in front of them.
 * Tomcat then finishes the request on the dummy: the servlet sets
 * {@code Connection: close} and returns.
 */
final class Takeover {

    static final String PROCESSOR = "org.apache.coyote.http11.Http11Processor";
    static final String WRAPPER = "org.apache.tomcat.util.net.NioEndpoint$NioSocketWrapper";
    static final String CHANNEL = "org.apache.tomcat.util.net.NioChannel";
    static final String IO_CHANNEL = "sun.nio.ch.SocketChannelImpl";

    private Takeover() {}

    /** What a request's takeover needs once decided: the socket, Tomcat's epoll and input buffer. */
    static final class Plan {
        final int fd;
        final int epfd;
        private final Object inputBuffer;

        Plan(int fd, int epfd, Object inputBuffer) {
            this.fd = fd;
            this.epfd = epfd;
            this.inputBuffer = inputBuffer;
        }
    }

    /** Why a request cannot be taken over, or the plan. */
    static final class Decision {
        final Plan plan;
        final String refused;

        private Decision(Plan plan, String refused) {
            this.plan = plan;
            this.refused = refused;
        }

        static Decision refuse(String why) {
            return new Decision(null, why);
        }
    }

    /**
     * Decides, touching nothing: a plan when every check passes, else why not.
     * {@code pipelined} false: the request must have nothing after it in
     * Tomcat's buffer (SSE, long-poll: a second request there would never be
     * answered).
     */
    static Decision decide(HttpServletRequest request, boolean pipelinedOk) {
        if (request.isSecure()) {
            return Decision.refuse("a secure (TLS) connection: its TLS state is Tomcat's");
        }
        String protocol = request.getProtocol();
        if (!"HTTP/1.1".equals(protocol) && !"HTTP/1.0".equals(protocol)) {
            return Decision.refuse("protocol " + protocol + " (HTTP/2 multiplexes the connection)");
        }
        try {
            ServletRequest r = request;
            while (r instanceof ServletRequestWrapper) {
                r = ((ServletRequestWrapper) r).getRequest();
            }
            Object connectorRequest = get(r, "request");
            Object coyote = connectorRequest.getClass().getMethod("getCoyoteRequest").invoke(connectorRequest);
            Object processor = get(coyote, "hook");
            if (processor == null || !PROCESSOR.equals(processor.getClass().getName())) {
                return Decision.refuse("processor " + name(processor) + ", not " + PROCESSOR);
            }
            Object wrapper = get(processor, "socketWrapper");
            if (wrapper == null || !WRAPPER.equals(wrapper.getClass().getName())) {
                return Decision.refuse("socket wrapper " + name(wrapper) + ", not " + WRAPPER
                        + " (a connector other than Http11NioProtocol)");
            }
            Object channel = wrapper.getClass().getMethod("getSocket").invoke(wrapper);
            if (channel == null || !CHANNEL.equals(channel.getClass().getName())) {
                return Decision.refuse("channel " + name(channel) + ", not " + CHANNEL);
            }
            Object io = channel.getClass().getMethod("getIOChannel").invoke(channel);
            if (io == null || !IO_CHANNEL.equals(io.getClass().getName())) {
                return Decision.refuse("I/O channel " + name(io) + ", not " + IO_CHANNEL);
            }
            Object inputBuffer = coyote.getClass().getMethod("getInputBuffer").invoke(coyote);
            ByteBuffer bb = (ByteBuffer) get(inputBuffer, "byteBuffer");
            if (!pipelinedOk && bb.remaining() > 0) {
                return Decision.refuse("bytes pipelined after the request");
            }
            int fd = Native.socketFd(io);
            if (fd < 0) {
                return Decision.refuse("the socket's descriptor is not readable");
            }
            if (Native.takeoverPeerOk(fd, request.getRemoteAddr(), request.getRemotePort(),
                    request.getLocalPort()) != 1) {
                return Decision.refuse("the socket is not the request's (peer " + request.getRemoteAddr() + ":"
                        + request.getRemotePort() + ", local port " + request.getLocalPort() + ")");
            }
            Object poller = wrapper.getClass().getMethod("getPoller").invoke(wrapper);
            Object selector = poller.getClass().getMethod("getSelector").invoke(poller);
            return new Decision(new Plan(fd, Native.selectorFd(selector), inputBuffer), null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return Decision.refuse("Tomcat's request objects are not as expected: " + e);
        }
    }

    /**
     * Takes the socket from Tomcat and gives it to the core with head (the
     * request as its client sent it) in front of what Tomcat had read past
     * it.  Returns 0, or a negative code (then the socket is closed: Tomcat
     * holds only the dummy whatever happens).
     */
    static int handOver(EngineHandle h, Plan p, byte[] head) {
        long v = Native.takeoverDetach(p.fd, p.epfd);
        if (v < 0) {
            return (int) v; // nothing changed: Tomcat still holds the socket
        }
        int newFd = (int) (v >>> 32);
        int sink = (int) v;
        byte[] rest = new byte[0];
        try {
            ByteBuffer bb = (ByteBuffer) get(p.inputBuffer, "byteBuffer");
            ByteBuffer d = bb.duplicate();
            rest = new byte[d.remaining()];
            d.get(rest);
            bb.position(bb.limit()); // Tomcat must not parse them as a next request
        } catch (ReflectiveOperationException | RuntimeException e) {
            // decide() read the same field: not expected; the request alone then
        }
        byte[] bytes = new byte[head.length + rest.length];
        System.arraycopy(head, 0, bytes, 0, head.length);
        System.arraycopy(rest, 0, bytes, head.length, rest.length);
        try {
            return h.call("adopt", a -> Native.adopt(a, newFd, sink, bytes));
        } catch (IllegalStateException e) { // the engine closed meanwhile
            Native.adopt(0, newFd, sink, null); // closes both
            return NativeException.ESTOPPED;
        }
    }

    static final String NIO_PROTOCOL = "org.apache.coyote.http11.Http11NioProtocol";

    /**
     * One line per connector of the Tomcat that runs this application,
     * saying which way its pages' connections take and why (logged at
     * start); one line for another container.  Reached by reflection:
     * {@code ApplicationContextFacade.context} → {@code ApplicationContext.context}
     * (the StandardContext) → Host → Engine → {@code getService().findConnectors()}.
     */
    static List<String> connectors(ServletContext sc) {
        List<String> out = new ArrayList<>();
        Object[] connectors;
        try {
            Object app = get(sc, "context");
            Object std = get(app, "context");
            Object host = std.getClass().getMethod("getParent").invoke(std);
            Object engine = host.getClass().getMethod("getParent").invoke(host);
            Object service = engine.getClass().getMethod("getService").invoke(engine);
            connectors = (Object[]) service.getClass().getMethod("findConnectors").invoke(service);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            out.add("container " + sc.getServerInfo() + " (not a Tomcat whose connectors can be read): the"
                    + " container keeps the pages' sockets, bytes bridged to the core (the container way)");
            return out;
        }
        for (Object c : connectors) {
            out.add(connector(c));
        }
        if (out.isEmpty()) {
            out.add("no connector found: pages' sockets are handed to the core where Tomcat's"
                    + " Http11NioProtocol allows, else bridged");
        }
        return out;
    }

    /** The line of one Tomcat Connector. */
    private static String connector(Object c) {
        try {
            Object ph = c.getClass().getMethod("getProtocolHandler").invoke(c);
            String cls = ph.getClass().getName();
            String name = String.valueOf(ph.getClass().getMethod("getName").invoke(ph)).replace("\"", "");
            boolean secure = (Boolean) c.getClass().getMethod("getSecure").invoke(c);
            Object ssl = c.getClass().getMethod("getProperty", String.class).invoke(c, "SSLEnabled");
            boolean tls = Boolean.TRUE.equals(ssl) || "true".equals(String.valueOf(ssl));
            List<String> h2 = new ArrayList<>();
            for (Object u : (Object[]) c.getClass().getMethod("findUpgradeProtocols").invoke(c)) {
                String n = u.getClass().getName();
                h2.add(n.endsWith("Http2Protocol") ? (tls ? "h2" : "h2c") : n);
            }
            String what = "connector " + name + " (" + cls.substring(cls.lastIndexOf('.') + 1)
                    + (tls ? ", TLS" : "") + (secure && !tls ? ", secure=\"true\"" : "")
                    + (h2.isEmpty() ? "" : ", " + String.join(", ", h2)) + "): ";
            if (!cls.equals(NIO_PROTOCOL)) {
                String why = cls.contains("Nio2") ? "NIO2 sockets are not handed over: they would leave stale"
                        + " entries in the JDK's epoll" : cls.contains("Apr") ? "APR sockets are not Java's"
                        : cls.contains("Ajp") ? "AJP: the socket is the proxy's" : "not Http11NioProtocol";
                return what + "the container keeps the sockets (" + why + "), bytes bridged to the core";
            }
            if (tls || secure) {
                return what + "the container keeps the sockets (" + (tls ? "the TLS state is Tomcat's"
                        : "requests are secure") + "), bytes bridged to the core";
            }
            return what + "sockets handed to the core (takeover)" + (h2.isEmpty() ? ""
                    : "; HTTP/2 connections stay the container's, their streams bridged to the core");
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return "connector " + c + ": not as expected (" + e + "): each request decides, the container way"
                    + " when a socket cannot be handed over";
        }
    }

    private static String name(Object o) {
        return o == null ? "null" : o.getClass().getName();
    }

    private static Object get(Object o, String name) throws ReflectiveOperationException {
        for (Class<?> k = o.getClass(); k != null; k = k.getSuperclass()) {
            try {
                Field f = k.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(o);
            } catch (NoSuchFieldException e) {
                // a superclass has it
            }
        }
        throw new NoSuchFieldException(o.getClass().getName() + "." + name);
    }
}
