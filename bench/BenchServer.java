/*
 * BenchServer - the server side of bench/fanout.sh: starts the engine through
 * the public Java API (CometContext, CometEngine) in a plain JVM, writes N
 * handshake tickets to a file (minted here with javax.crypto, as any backend
 * holding Comet.Secret could), then broadcasts one 100-byte message per
 * "send SEQ" line read from stdin: {"seq":SEQ,"ts":<µs since epoch>,"pad":..}.
 *
 *   java -cp <jar>:<servlet api>:bench/out BenchServer PORT THREADS N TICKETS [CERT KEY]
 *
 * With CERT and KEY (PEM files) the native port speaks TLS (Comet.TlsCert,
 * Comet.TlsKey).
 */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.comet4j.core.CometConfig;
import org.comet4j.core.CometContext;
import org.comet4j.core.CometEngine;

public final class BenchServer {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String threads = args[1];
        int n = Integer.parseInt(args[2]);
        byte[] secretBytes = new byte[32];
        new SecureRandom().nextBytes(secretBytes);
        String secret = B64.encodeToString(secretBytes);

        Map<String, String> cfg = new HashMap<>();
        cfg.put("Comet.Port", Integer.toString(port));
        cfg.put("Comet.Host", "127.0.0.1");
        cfg.put("Comet.Threads", threads);
        cfg.put("Comet.Secret", secret);
        cfg.put("Comet.IdleTimeout", "600000");
        cfg.put("Comet.Heartbeat", "300000");
        // The load clients open thousands of sockets per source address at
        // once: the admission's per-address cap on unfinished requests (429
        // once the engine is half full) is a defence, not what is measured.
        cfg.put("Comet.MaxPendingPerAddress", "0");
        if (args.length >= 6) {
            cfg.put("Comet.TlsCert", args[4]);
            cfg.put("Comet.TlsKey", args[5]);
        }
        CometContext cc = CometContext.getInstance();
        cc.registChannel("bench");
        cc.init(CometConfig.parse(cfg));
        CometEngine engine = cc.getEngine();

        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String header = B64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        long exp = Instant.now().getEpochSecond() + 3600;
        SecureRandom rnd = new SecureRandom();
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(Paths.get(args[3])))) {
            for (int i = 0; i < n; i++) {
                byte[] id = new byte[16];
                rnd.nextBytes(id);
                String claims = "{\"cid\":\"" + B64.encodeToString(id) + "\",\"exp\":" + exp
                        + ",\"ch\":[\"bench\"]}";
                String body = header + "." + B64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
                String sig = B64.encodeToString(mac.doFinal(body.getBytes(StandardCharsets.US_ASCII)));
                out.println(body + "." + sig);
            }
        }
        System.gc();
        System.out.println("ready port=" + cc.getPort() + " pid=" + ProcessHandle.current().pid());
        System.out.flush();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (!line.startsWith("send ")) {
                continue;
            }
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("seq", Integer.parseInt(line.substring(5).trim()));
            Instant now = Instant.now();
            data.put("ts", now.getEpochSecond() * 1_000_000L + now.getNano() / 1000);
            data.put("pad", "x".repeat(60)); /* the data is 100 bytes as JSON */
            engine.sendToAll("bench", data);
        }
        cc.destroy();
    }
}
