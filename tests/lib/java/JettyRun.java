import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.webapp.WebAppContext;

/**
 * JettyRun PORT CONTEXT WAR - runs Jetty 9.4 embedded (Debian's
 * libjetty9-java, no service) on 127.0.0.1:PORT with the web application
 * WAR at CONTEXT, until the process is stopped (SIGTERM: Jetty's shutdown
 * hook stops the application, which stops comet4j).  For tests.
 */
public final class JettyRun {
    public static void main(String[] args) throws Exception {
        Server server = new Server();
        ServerConnector http = new ServerConnector(server);
        http.setHost("127.0.0.1");
        http.setPort(Integer.parseInt(args[0]));
        server.addConnector(http);
        WebAppContext app = new WebAppContext();
        app.setContextPath(args[1]);
        app.setWar(args[2]);
        app.setThrowUnavailableOnStartupException(true);
        // Jetty looks into WEB-INF/lib for META-INF/resources (comet4j.js) and fragments.
        app.setAttribute("org.eclipse.jetty.server.webapp.WebInfIncludeJarPattern", ".*\\.jar$");
        server.setHandler(app);
        server.setStopAtShutdown(true);
        server.start();
        System.out.println("JettyRun: " + org.eclipse.jetty.util.Jetty.VERSION + " on " + args[0] + args[1]);
        server.join();
    }
}
