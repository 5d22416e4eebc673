package org.comet4j.core;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanException;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.management.ReflectionException;
import javax.management.openmbean.CompositeDataSupport;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.OpenDataException;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;
import javax.management.openmbean.TabularDataSupport;
import javax.management.openmbean.TabularType;

/**
 * The engine as a JMX MBean, {@code org.comet4j:type=Engine,context=<path>}
 * (the ROOT context "/"; "none" without a servlet context), in the
 * platform MBean server beside Tomcat's own: registered when the engine
 * starts, unregistered when it stops, so that a redeploy leaves none
 * behind.  Its attributes are every figure of {@link CometEngine#getStats()}
 * under the same name (read each time, so a figure the core adds appears
 * without a change here), and Running, Port, ConnectionCount (this node's
 * connections), OnlineCount (users) and Channels (each registered channel
 * with its subscriber count).  Its operations: drop(id), sendToAll,
 * sendToConnection, sendToUser (the data a string, as the page gets it)
 * and getMemberCount(channel).  Only open types, so that jconsole or any
 * JMX client reads it without comet4j's classes.
 */
final class EngineMBean implements DynamicMBean {

    private static final Logger LOG = Logger.getLogger(Logs.JMX);

    private static final String[] FIXED = {"Running", "Port", "ConnectionCount", "OnlineCount", "Channels"};

    private static final CompositeType CHANNEL_ROW;
    private static final TabularType CHANNELS;

    static {
        try {
            CHANNEL_ROW = new CompositeType("Channel", "a registered channel and its subscribers",
                    new String[] {"channel", "subscribers"}, new String[] {"the channel", "connections subscribed"},
                    new OpenType<?>[] {SimpleType.STRING, SimpleType.INTEGER});
            CHANNELS = new TabularType("Channels", "the registered channels and their subscribers", CHANNEL_ROW,
                    new String[] {"channel"});
        } catch (OpenDataException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final CometEngine engine;
    private final Supplier<List<String>> channels;
    private final ObjectName name;

    private EngineMBean(CometEngine engine, Supplier<List<String>> channels, ObjectName name) {
        this.engine = engine;
        this.channels = channels;
        this.name = name;
    }

    /**
     * The MBean's name for a servlet context path: "" (ROOT) is "/", null
     * (no servlet context) "none"; quoted when the path holds a character
     * that ObjectName reserves.
     */
    static ObjectName nameOf(String contextPath) {
        String v = contextPath == null ? "none" : contextPath.isEmpty() ? "/" : contextPath;
        if (v.matches(".*[,=:\"*?\\\\\\n].*")) {
            v = ObjectName.quote(v);
        }
        try {
            return new ObjectName("org.comet4j:type=Engine,context=" + v);
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException("comet4j: no MBean name for context " + contextPath, e);
        }
    }

    /**
     * Registers the MBean of a running engine in the platform MBean
     * server; null, with a warning, when that fails (another engine under
     * the same name, a security manager): the engine runs on without it.
     */
    static EngineMBean register(CometEngine engine, Supplier<List<String>> channels, String contextPath) {
        try {
            EngineMBean m = new EngineMBean(engine, channels, nameOf(contextPath));
            ManagementFactory.getPlatformMBeanServer().registerMBean(m, m.name);
            return m;
        } catch (JMException | RuntimeException e) {
            LOG.log(Level.WARNING, "comet4j: the engine's MBean is not registered: " + e, e);
            return null;
        }
    }

    /** Unregisters it (nothing if it is gone already). */
    void unregister() {
        MBeanServer s = ManagementFactory.getPlatformMBeanServer();
        try {
            s.unregisterMBean(name);
        } catch (InstanceNotFoundException e) {
            // gone already
        } catch (JMException | RuntimeException e) {
            LOG.log(Level.WARNING, "comet4j: the engine's MBean " + name + " cannot be unregistered: " + e, e);
        }
    }

    ObjectName name() {
        return name;
    }

    // ---- attributes ------------------------------------------------------------

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException, MBeanException {
        try {
            switch (attribute) {
                case "Running": return engine.isRunning();
                case "Port": return engine.getPort();
                case "ConnectionCount": return engine.getConnections().size();
                case "OnlineCount": return engine.getOnlineCount();
                case "Channels": return channelTable();
                default: break;
            }
            Object v = stats().get(attribute);
            if (v == null) {
                throw new AttributeNotFoundException("comet4j: no attribute " + attribute);
            }
            return open(v);
        } catch (RuntimeException e) {
            throw new MBeanException(new Exception(e.toString()), "comet4j: " + attribute + ": " + e.getMessage());
        }
    }

    @Override
    public AttributeList getAttributes(String[] attributes) {
        AttributeList out = new AttributeList();
        Map<String, ?> s = stats();
        for (String a : attributes) {
            try {
                Object v = s.get(a);
                out.add(new Attribute(a, v != null ? open(v) : getAttribute(a)));
            } catch (JMException e) {
                // left out, as the interface asks
            }
        }
        return out;
    }

    @Override
    public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
        throw new AttributeNotFoundException("comet4j: the engine's attributes are read-only");
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList();
    }

    /** A figure as a client without comet4j's classes reads it: a number as it is, anything else its text. */
    private static Object open(Object v) {
        return v instanceof Long || v instanceof Integer || v instanceof Double || v instanceof Boolean
                ? v : String.valueOf(v);
    }

    /** getStats() (whatever its figures' types), or nothing once the engine stopped. */
    private Map<String, ?> stats() {
        try {
            return engine.getStats();
        } catch (IllegalStateException e) {
            return Map.of();
        }
    }

    private TabularDataSupport channelTable() {
        TabularDataSupport t = new TabularDataSupport(CHANNELS);
        for (String ch : channels.get()) {
            try {
                t.put(new CompositeDataSupport(CHANNEL_ROW, new String[] {"channel", "subscribers"},
                        new Object[] {ch, engine.getMemberCount(ch)}));
            } catch (OpenDataException e) {
                throw new IllegalStateException(e);
            }
        }
        return t;
    }

    // ---- operations ---------------------------------------------------------------

    @Override
    public Object invoke(String op, Object[] params, String[] signature) throws MBeanException, ReflectionException {
        Object[] p = params == null ? new Object[0] : params;
        try {
            switch (op + "/" + p.length) {
                case "drop/1": {
                    String id = (String) p[0];
                    boolean here = id != null && engine.getConnection(id) != null;
                    engine.dropConnection(id, CometProtocol.CLOSE_DROPPED, "dropped by an operator (JMX)");
                    return here;
                }
                case "sendToAll/2":
                    engine.sendToAll((String) p[0], (String) p[1]);
                    return null;
                case "sendToConnection/3":
                    engine.sendToConnection((String) p[0], (String) p[1], (String) p[2]);
                    return null;
                case "sendToUser/3":
                    engine.sendToUser((String) p[0], (String) p[1], (String) p[2]);
                    return null;
                case "getMemberCount/1":
                    return engine.getMemberCount((String) p[0]);
                default:
                    throw new ReflectionException(new NoSuchMethodException(op),
                            "comet4j: no operation " + op + " with " + p.length + " parameters");
            }
        } catch (RuntimeException e) {
            // A plain exception: a remote client has no comet4j classes.
            throw new MBeanException(new Exception(e.getMessage()), "comet4j: " + op + ": " + e.getMessage());
        }
    }

    // ---- description ----------------------------------------------------------------

    @Override
    public MBeanInfo getMBeanInfo() {
        List<MBeanAttributeInfo> attrs = new ArrayList<>();
        attrs.add(attr("Running", "boolean", "the engine runs"));
        attrs.add(attr("Port", "int", "the native port, -1 with none (one port)"));
        attrs.add(attr("ConnectionCount", "int", "this node's connections, alive and dying"));
        attrs.add(attr("OnlineCount", "int", "distinct users online (with a Redis hub: in the cluster)"));
        attrs.add(new MBeanAttributeInfo("Channels", javax.management.openmbean.TabularData.class.getName(),
                "the registered channels and their subscriber counts", true, false, false));
        for (Map.Entry<String, ?> e : stats().entrySet()) {
            if (!List.of(FIXED).contains(e.getKey())) {
                attrs.add(attr(e.getKey(), open(e.getValue()).getClass().getName(), "getStats(): " + e.getKey()));
            }
        }
        MBeanOperationInfo[] ops = {
            op("drop", "closes a connection by its id (4003); true if this node held it", "boolean",
                    param("id", "the connection id")),
            op("sendToAll", "sends data (a string) on channel to every subscriber", "void",
                    param("channel", "the channel"), param("data", "the message's data, a string")),
            op("sendToConnection", "sends data (a string) on channel to one connection, wherever it is", "void",
                    param("id", "the connection id"), param("channel", "the channel"),
                    param("data", "the message's data, a string")),
            op("sendToUser", "sends data (a string) on channel to every connection of a user", "void",
                    param("user", "the user id"), param("channel", "the channel"),
                    param("data", "the message's data, a string")),
            op("getMemberCount", "connections subscribed to a channel", "int", param("channel", "the channel")),
        };
        return new MBeanInfo(EngineMBean.class.getName(), "comet4j's push engine (getStats() and operations)",
                attrs.toArray(new MBeanAttributeInfo[0]), null, ops, null);
    }

    private static MBeanAttributeInfo attr(String name, String type, String description) {
        return new MBeanAttributeInfo(name, type, description, true, false, type.equals("boolean"));
    }

    private static MBeanParameterInfo param(String name, String description) {
        return new MBeanParameterInfo(name, String.class.getName(), description);
    }

    private static MBeanOperationInfo op(String name, String description, String type, MBeanParameterInfo... p) {
        return new MBeanOperationInfo(name, description, p, type,
                type.equals("void") ? MBeanOperationInfo.ACTION : name.startsWith("get") ? MBeanOperationInfo.INFO
                        : MBeanOperationInfo.ACTION_INFO);
    }
}
