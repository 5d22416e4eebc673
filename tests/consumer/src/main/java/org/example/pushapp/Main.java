package org.example.pushapp;

import java.io.File;
import java.net.URL;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.WebResourceRoot;
import org.apache.catalina.startup.Tomcat;
import org.comet4j.core.CometAppListener;
import org.comet4j.core.CometContext;
import org.comet4j.core.CometEngine;
import org.comet4j.core.event.ConnectEvent;
import org.comet4j.core.listener.ConnectListener;

/**
 * An application that starts Tomcat from its main, with no web.xml, as
 * Spring Boot does. It names no servlet API type, so the same source builds
 * against Tomcat 10.1 (jakarta, comet4j-native) and Tomcat 9 (javax,
 * comet4j-native-javax).
 *
 *   java -jar push-app.jar --mode code|param|none --http PORT --comet PORT --web DIR --base DIR
 *
 * code:  Tomcat.addContext and CometAppListener.register(sc, "/conn") from
 *        an initializer, the Spring Boot way; comet4j.js mounted from the
 *        jar's META-INF/resources, as Spring Boot does for every jar.
 * param: Tomcat.addWebapp over a folder without WEB-INF/web.xml and the
 *        context-param Comet.Mapping=/conn: the jar's own initializer
 *        registers comet4j.
 * none:  the same without Comet.Mapping: nothing of comet4j starts.
 *
 * Pages get "welcome <cId>" on channel hello when they connect and a count
 * on channel tick every 200 ms.
 */
public final class Main {

    private Main() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String mode = a.getOrDefault("mode", "code");
        String docBase = new File(a.getOrDefault("web", "web")).getAbsolutePath();

        // Channels and listeners before the engine starts: allowed in any order.
        CometContext cc = CometContext.getInstance();
        cc.registChannel("hello");
        cc.registChannel("tick");
        final CometEngine engine = cc.getEngine();
        engine.addConnectListener(new ConnectListener() {
            @Override
            public boolean handleEvent(ConnectEvent e) {
                engine.sendTo("hello", e.getConn(), "welcome " + e.getConn().getId());
                return true;
            }
        });

        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(a.getOrDefault("base", "tomcat-base"));
        tomcat.setPort(Integer.parseInt(a.getOrDefault("http", "8080")));
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        Context ctx;
        if (mode.equals("code")) {
            final Context c = tomcat.addContext("", docBase);
            staticFiles(c);
            URL jar = CometContext.class.getProtectionDomain().getCodeSource().getLocation();
            c.addLifecycleListener(e -> {
                if (Lifecycle.CONFIGURE_START_EVENT.equals(e.getType())) {
                    c.getResources().createWebResourceSet(WebResourceRoot.ResourceSetType.RESOURCE_JAR,
                            "/", jar, "/META-INF/resources");
                }
            });
            // The one line comet4j needs here (Spring Boot: a ServletContextInitializer bean).
            c.addServletContainerInitializer((classes, sc) -> CometAppListener.register(sc, "/conn"), null);
            ctx = c;
        } else {
            // Tomcat's default web.xml would add a JSP servlet, and there is no Jasper here.
            tomcat.setAddDefaultWebXmlToWebapp(false);
            ctx = tomcat.addWebapp("", docBase);
            staticFiles(ctx);
            if (mode.equals("param")) {
                ctx.addParameter("Comet.Mapping", "/conn");
            }
        }
        ctx.addParameter("Comet.Port", a.getOrDefault("comet", "4100"));
        ctx.addParameter("Comet.Host", "127.0.0.1");
        ctx.addParameter("Comet.Threads", "1");

        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ticker");
            t.setDaemon(true);
            return t;
        });
        AtomicLong n = new AtomicLong();
        ticker.scheduleAtFixedRate(() -> {
            CometEngine en = CometContext.getInstance().getEngine();
            if (en.isRunning()) {
                en.sendToAll("tick", n.incrementAndGet());
            }
        }, 200, 200, TimeUnit.MILLISECONDS);

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            ticker.shutdownNow();
            try {
                tomcat.stop(); // contextDestroyed: the engine stops, the native port closes
                tomcat.destroy();
            } catch (Exception e) {
                e.printStackTrace();
            }
            System.out.println("push-app: stopped");
        }));

        tomcat.start();
        System.out.println("push-app: mode " + mode + ", comet4j " + CometContext.getInstance().getVersion()
                + ", engine running: " + engine.isRunning()
                + (engine.isRunning() ? ", native port " + engine.getPort() : ""));
        System.out.println("push-app: ready on http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/");
        tomcat.getServer().await();
    }

    /** The files of docBase, as Tomcat's default servlet serves them. */
    private static void staticFiles(Context c) {
        Tomcat.addServlet(c, "default", "org.apache.catalina.servlets.DefaultServlet");
        c.addServletMappingDecoded("/", "default");
        Tomcat.addDefaultMimeTypeMappings(c);
        c.addWelcomeFile("index.html");
    }
}
