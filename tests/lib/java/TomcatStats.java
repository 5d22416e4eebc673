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
            Set<ObjectName> pools = s.queryNames(new ObjectName("Catalina:type=ThreadPool,name=*"), null);
            for (ObjectName n : pools) {
                System.out.println(n.getKeyProperty("name") + " " + s.getAttribute(n, "connectionCount"));
            }
        }
    }
}
