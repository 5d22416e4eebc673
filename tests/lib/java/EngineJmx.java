import java.util.Arrays;

import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * EngineJmx PORT COMMAND [ARGS...] - comet4j's engine MBeans of a JVM
 * started with -Dcom.sun.management.jmxremote.port=PORT, read through the
 * RMI connector as jconsole reads them (no comet4j class on this side).
 *
 *   names                      every org.comet4j:type=Engine,* name, one a line
 *   attrs NAME                 "attribute value" for each of its attributes
 *   invoke NAME OP [STRING...] calls OP with string parameters, prints its result
 */
public final class EngineJmx {
    public static void main(String[] args) throws Exception {
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + args[0] + "/jmxrmi");
        try (JMXConnector c = JMXConnectorFactory.connect(url)) {
            MBeanServerConnection s = c.getMBeanServerConnection();
            switch (args[1]) {
                case "names":
                    for (ObjectName n : s.queryNames(new ObjectName("org.comet4j:type=Engine,*"), null)) {
                        System.out.println(n);
                    }
                    break;
                case "attrs": {
                    ObjectName n = new ObjectName(args[2]);
                    for (MBeanAttributeInfo a : s.getMBeanInfo(n).getAttributes()) {
                        Object v = s.getAttribute(n, a.getName());
                        if (v instanceof javax.management.openmbean.TabularData) {
                            StringBuilder b = new StringBuilder();
                            for (Object row : ((javax.management.openmbean.TabularData) v).values()) {
                                javax.management.openmbean.CompositeData d = (javax.management.openmbean.CompositeData) row;
                                b.append(b.length() == 0 ? "" : ",").append(d.get("channel")).append('=')
                                        .append(d.get("subscribers"));
                            }
                            v = b;
                        }
                        System.out.println(a.getName() + " " + v);
                    }
                    break;
                }
                case "invoke": {
                    String[] p = Arrays.copyOfRange(args, 4, args.length);
                    String[] sig = new String[p.length];
                    Arrays.fill(sig, String.class.getName());
                    System.out.println(s.invoke(new ObjectName(args[2]), args[3], p, sig));
                    break;
                }
                default:
                    throw new IllegalArgumentException("unknown command " + args[1]);
            }
        }
    }
}
