package org.comet4j.core.event;

import jakarta.servlet.ServletContext;

import org.comet4j.core.CometContext;
import org.comet4j.event.Event;
import org.comet4j.event.SubEventType;

/**
 * The CometContext was initialized ({@link #INITIALIZED}: the engine runs,
 * fired at the end of {@code CometContext.init}) or destroyed
 * ({@link #DESTROYED}: the engine stopped, fired by
 * {@code CometContext.destroy}), on the thread that did it.  Add listeners
 * with {@code CometContext.getInstance().addListener(CometContextEvent.class,
 * listener)}.  Returning false stops nothing (as in Comet4J).
 */
public class CometContextEvent extends Event<CometContext> {

    public static final SubEventType INITIALIZED = new SubEventType("INITIALIZED");
    public static final SubEventType DESTROYED = new SubEventType("DESTROYED");

    private volatile SubEventType subType;
    private volatile ServletContext servletContext;
    private volatile CometContext cometContext;

    public CometContextEvent(CometContext target, SubEventType anSubType) {
        super(target);
        this.subType = anSubType;
        this.cometContext = target;
    }

    public SubEventType getSubType() {
        return subType;
    }

    public void setSubType(SubEventType subType) {
        this.subType = subType;
    }

    /** The web application's context (null when the engine was started without one, e.g. in a test). */
    public ServletContext getServletContext() {
        return servletContext;
    }

    public void setServletContext(ServletContext servletContext) {
        this.servletContext = servletContext;
    }

    public CometContext getCometContext() {
        return cometContext;
    }

    public void setCometContext(CometContext cometContext) {
        this.cometContext = cometContext;
    }

    @Override
    public void destroy() {
        super.destroy();
        subType = null;
        servletContext = null;
        cometContext = null;
    }
}
