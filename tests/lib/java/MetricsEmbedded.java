import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.comet4j.core.CometAppListener;

/**
 * MetricsEmbedded METRICS - embedded Tomcat (Debian's libtomcat10-embed-java)
 * with comet4j registered in code (CometAppListener.register from a
 * ServletContainerInitializer, no web.xml) and Comet.Metrics=METRICS; GETs
 * /app/comet4j/metrics from 127.0.0.1 and prints "status S" and, on 200,
 * the text's lines; then stops.  For e2e/metrics.test.mjs.
 */
public final class MetricsEmbedded {
    public static void main(String[] args) throws Exception {
        Tomcat t = new Tomcat();
        t.setPort(0);
        t.setHostname("127.0.0.1");
        t.setBaseDir(System.getProperty("java.io.tmpdir"));
        t.getConnector();
        Context c = t.addContext("/app", null);
        c.addParameter("Comet.Port", "0");
        c.addParameter("Comet.Host", "127.0.0.1");
        c.addParameter("Comet.Secret", "0123456789abcdef-embedded-secret");
        c.addParameter("Comet.Metrics", args[0]);
        c.addServletContainerInitializer((classes, sc) -> CometAppListener.register(sc, "/conn"), null);
        t.start();
        try {
            int port = t.getConnector().getLocalPort();
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/app/comet4j/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            System.out.println("status " + r.statusCode());
            if (r.statusCode() == 200) {
                System.out.print(r.body());
            }
        } finally {
            t.stop();
            t.destroy();
        }
    }
}
