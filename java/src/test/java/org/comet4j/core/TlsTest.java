package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

import org.comet4j.core.exception.ConfigException;
import org.comet4j.test.FakeHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Comet.TlsCert and Comet.TlsKey: the native port over TLS (a certificate
 * made here with the JDK's keytool, written as PEM), a java.net.http
 * WebSocket that trusts any certificate attaching over wss:// and getting a
 * broadcast, the handshake's endpoints wss:// and https://, and the
 * settings' errors naming them.
 */
class TlsTest {

    @TempDir
    static Path dir;
    static Path cert;
    static Path key;

    /** A self-signed P-256 certificate for 127.0.0.1 and its key, as PEM files NAME.crt and NAME.key. */
    static Path[] makeCert(String name) throws Exception {
        Path ks = dir.resolve(name + ".p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "t", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=" + name, "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2",
                "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "keytool: " + out);
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(ks)) {
            store.load(in, "changeit".toCharArray());
        }
        Base64.Encoder b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        Path crt = dir.resolve(name + ".crt");
        Path k = dir.resolve(name + ".key");
        Files.writeString(crt, "-----BEGIN CERTIFICATE-----\n"
                + b64.encodeToString(store.getCertificate("t").getEncoded()) + "\n-----END CERTIFICATE-----\n");
        Files.writeString(k, "-----BEGIN PRIVATE KEY-----\n"
                + b64.encodeToString(store.getKey("t", "changeit".toCharArray()).getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        return new Path[] {crt, k};
    }

    /** A client context that trusts any certificate (the test's is self-signed). */
    static SSLContext trustAll() throws Exception {
        TrustManager any = new X509ExtendedTrustManager() {
            @Override public void checkClientTrusted(X509Certificate[] c, String a) {}
            @Override public void checkServerTrusted(X509Certificate[] c, String a) {}
            @Override public void checkClientTrusted(X509Certificate[] c, String a, Socket s) {}
            @Override public void checkServerTrusted(X509Certificate[] c, String a, Socket s) {}
            @Override public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) {}
            @Override public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {}
            @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
        };
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {any}, new SecureRandom());
        return ctx;
    }

    @BeforeAll
    static void start() throws Exception {
        Path[] one = makeCert("one");
        cert = one[0];
        key = one[1];
        Harness.start(Map.of("Comet.TlsCert", cert.toString(), "Comet.TlsKey", key.toString()), "news");
    }

    @AfterAll
    static void stop() {
        Harness.stop();
    }

    @Test
    void theHandshakesEndpointsAreWssAndHttps() throws Exception {
        String base = "127.0.0.1:" + Harness.engine().getPort();
        assertTrue(Harness.engine().getConfig().isTls());
        Map<String, Object> a = Harness.handshake();
        assertEquals(List.of("wss://" + base + "/ws"), a.get("endpoints"));
        assertEquals(List.of("https://" + base + "/sse"), a.get("stream"));
        assertEquals(List.of("https://" + base + "/poll"), a.get("lpool"));
        assertEquals(List.of("https://" + base + "/cmd"), a.get("cmd"));
        // An https page gets them too, where a plain native port is refused.
        FakeHttp.Req req = new FakeHttp.Req().param("cmd", "conn");
        req.secure = true;
        FakeHttp.Resp r = Harness.handshake(req);
        assertEquals(200, r.status, r.body.toString());
        assertTrue(r.body.toString().contains("wss://" + base + "/ws"), r.body.toString());
    }

    @Test
    void aWebSocketOverWssGetsABroadcast() throws Exception {
        Map<String, Object> a = Harness.handshake();
        String url = Harness.list(a.get("endpoints")).get(0) + "?ticket=" + a.get("ticket");
        HttpClient https = HttpClient.newBuilder().sslContext(trustAll()).build();
        Harness.Client c = new Harness.Client();
        c.ws = https.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create(url), c).get(10, TimeUnit.SECONDS);
        try {
            assertEquals("open", c.next(5000).get("t"));
            String cid = (String) a.get("cId");
            long end = System.currentTimeMillis() + 5000;
            while (Harness.engine().getConnection(cid) == null) {
                assertTrue(System.currentTimeMillis() < end, "no connection " + cid);
                Thread.sleep(10);
            }
            Harness.engine().sendToAll("news", Map.of("text", "over wss"));
            Map<String, Object> m = c.nextMsg(5000);
            assertEquals("news", m.get("ch"));
            assertEquals(Map.of("text", "over wss"), m.get("data"));
            // And a long poll over https, with the same client.
            Map<String, Object> b = Harness.handshake();
            String poll = Harness.list(b.get("lpool")).get(0) + "?ticket=" + b.get("ticket");
            HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create(poll))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("\"t\":\"open\""), r.body());
        } finally {
            c.close();
        }
    }

    private static Map<String, String> tlsSettings(String certPath, String keyPath) {
        Map<String, String> m = new HashMap<>();
        m.put("Comet.Port", "0");
        m.put("Comet.Host", "127.0.0.1");
        m.put("Comet.Secret", Harness.SECRET);
        if (certPath != null) {
            m.put("Comet.TlsCert", certPath);
        }
        if (keyPath != null) {
            m.put("Comet.TlsKey", keyPath);
        }
        return m;
    }

    private static ConfigException refused(Map<String, String> settings) {
        return assertThrows(ConfigException.class, () -> {
            try (EngineHandle h = EngineHandle.open(CometConfig.parse(settings), List.of())) {
                h.stop();
            }
        });
    }

    @Test
    void badSettingsStopStartUpNamingTheParameter() throws Exception {
        ConfigException e = refused(tlsSettings(cert.toString(), null));
        assertEquals("Comet.TlsKey", e.getParameter());
        assertTrue(e.getMessage().startsWith("Comet.TlsKey: required with Comet.TlsCert"), e.getMessage());
        e = refused(tlsSettings(cert.toString(), dir.resolve("none.key").toString()));
        assertEquals("Comet.TlsKey: cannot read " + dir.resolve("none.key") + ": no such file", e.getMessage());
        Map<String, String> onePort = tlsSettings(cert.toString(), key.toString());
        onePort.remove("Comet.Port");
        e = refused(onePort);
        assertEquals("Comet.TlsCert", e.getParameter());
        assertTrue(e.getMessage().contains("TLS is for the native port"), e.getMessage());
        // What the core reads in the files.
        Path notPem = dir.resolve("not.pem");
        Files.writeString(notPem, "hello\n");
        e = refused(tlsSettings(notPem.toString(), key.toString()));
        assertEquals("Comet.TlsCert: not a PEM certificate: " + notPem, e.getMessage());
        Path[] two = makeCert("two");
        e = refused(tlsSettings(cert.toString(), two[1].toString()));
        assertEquals("Comet.TlsKey: does not match the certificate in Comet.TlsCert: " + two[1], e.getMessage());
    }
}
