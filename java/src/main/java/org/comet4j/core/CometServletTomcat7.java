package org.comet4j.core;

/**
 * Comet4J's servlet for Tomcat 7 (it implemented
 * org.apache.catalina.comet.CometProcessor, Tomcat 7's Comet API, and
 * passed Comet.Timeout to {@code CometEvent.setTimeout}).  That API is gone
 * from Tomcat since 8; the name is kept so that a Comet4J web.xml naming
 * {@code <servlet-class>org.comet4j.core.CometServletTomcat7</servlet-class>}
 * (Comet4J's default, as in its talker demo) runs unchanged: it is
 * {@link CometServlet}, the handshake endpoint ({@code cmd=conn},
 * {@code cmd=drop}, and the transports when there is no Comet.Port), and
 * the native core holds the push requests, ending each after Comet.Timeout.
 * Comet4J's {@code event(CometEvent)} has no counterpart.
 */
public class CometServletTomcat7 extends CometServlet {

    private static final long serialVersionUID = 1L;

    public CometServletTomcat7() {
        super();
    }

    /** Nothing of its own to release (Comet4J's override). */
    @Override
    public void destroy() {
        super.destroy();
    }
}
