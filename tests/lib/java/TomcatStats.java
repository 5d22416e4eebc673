import java.util.Set;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import com.sun.tools.attach.VirtualMachine;

/**
 * TomcatStats PID - prints, one per line, "NAME connectionCount" for every
 * connector thread pool of the Tomcat JVM PID (Tomcat's own count of the
 * sockets it holds), read through the JVM's attach API and its local JMX
 * agent: no flag on the Tomcat side.  For tests (one port: the sockets
 * handed to the core are not Tomcat's any more).
 *
 * TomcatStats PID bridge - prints "pipes N", "opened N" and "buffered N"
 * of comet4j's bridge (the container way: org.comet4j:type=Bridge,*) and,
 * after a full GC, "heap N" (bytes of Java heap in use).
 */
public final class TomcatStats {
    public static void main(String[] args) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(args[0]);
        String address;
        try {
            address = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        try (JMXConnector c = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection s = c.getMBeanServerConnection();
            if (args.length > 1 && args[1].equals("bridge")) {
                for (ObjectName n : s.queryNames(new ObjectName("org.comet4j:type=Bridge,*"), null)) {
                    for (String a : new String[] {"Pipes", "Opened", "Buffered"}) {
                        System.out.println(a.toLowerCase() + " " + s.getAttribute(n, a));
                    }
                }
                ObjectName mem = new ObjectName("java.lang:type=Memory");
                s.invoke(mem, "gc", null, null);
                javax.management.openmbean.CompositeData heap =
                        (javax.management.openmbean.CompositeData) s.getAttribute(mem, "HeapMemoryUsage");
                System.out.println("heap " + heap.get("used"));
                return;
            }
            Set<ObjectName> pools = s.queryNames(new ObjectName("Catalina:type=ThreadPool,name=*"), null);
            for (ObjectName n : pools) {
                System.out.println(n.getKeyProperty("name") + " " + s.getAttribute(n, "connectionCount"));
            }
        }
    }
}
