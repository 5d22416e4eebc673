package org.comet4j.core;

/**
 * Comet4J's servlet for Servlet 3 containers (it held each streaming or
 * long-poll request with startAsync and {@code AsyncContext.setTimeout(Comet.Timeout)}).
 * The name is kept so that a web.xml naming
 * {@code <servlet-class>org.comet4j.core.CometServlet3</servlet-class>} runs
 * unchanged: it is {@link CometServlet}, the handshake endpoint, and the
 * native core holds the push requests, ending each after Comet.Timeout.
 * Comet4J's class also carried {@code @WebServlet("/comet")}, which mapped
 * it in every application that had the jar; this one is mapped only where
 * web.xml (or the application) maps it.
 */
public class CometServlet3 extends CometServlet {

    private static final long serialVersionUID = 1L;

    public CometServlet3() {
        super();
    }

    /** Nothing of its own to release (Comet4J's override). */
    @Override
    public void destroy() {
        super.destroy();
    }
}
