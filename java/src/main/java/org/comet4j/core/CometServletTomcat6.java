package org.comet4j.core;

/**
 * Comet4J's servlet for Tomcat 6 (it implemented org.apache.catalina.CometProcessor,
 * Tomcat 6's Comet API, and held each streaming or long-poll request for
 * Comet.Timeout ms).  That API is gone from Tomcat since 8; the name is kept
 * so that a Comet4J web.xml naming
 * {@code <servlet-class>org.comet4j.core.CometServletTomcat6</servlet-class>}
 * runs unchanged: it is {@link CometServlet}, the handshake endpoint
 * ({@code cmd=conn}, {@code cmd=drop}, and the transports when there is no
 * Comet.Port), and the native core holds the push requests, ending each
 * after Comet.Timeout.  Comet4J's {@code event(CometEvent)} has no
 * counterpart.
 */
public class CometServletTomcat6 extends CometServlet {

    private static final long serialVersionUID = 1L;

    public CometServletTomcat6() {
        super();
    }

    /** Nothing of its own to release (Comet4J's override). */
    @Override
    public void destroy() {
        super.destroy();
    }
}
