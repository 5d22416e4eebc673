/*
 * HubPublisher - the publishing node of bench/hub-latency.sh when the
 * publisher is an application: the jar's engine in a plain JVM in HubServer
 * mode (Comet.Port=-1, no listener) on a Redis hub, broadcasting RATE
 * messages a second for SECONDS with CometEngine.sendToAll, each
 * {"seq":S,"ts":<µs since the epoch, taken just before the call>}.  Prints
 * "ready" once the engine runs, waits for a line on stdin, publishes, and
 * prints one "pub:" line.
 *
 *   java -cp <jar>:<servlet api>:bench/out HubPublisher REDIS_URL SECRET PUBLIC_URL RATE SECONDS
 */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import org.comet4j.core.CometConfig;
import org.comet4j.core.CometContext;
import org.comet4j.core.CometEngine;

public final class HubPublisher {
    public static void main(String[] args) throws Exception {
        String hub = args[0];
        int rate = Integer.parseInt(args[3]);
        int seconds = Integer.parseInt(args[4]);
        Map<String, String> cfg = new HashMap<>();
        cfg.put("Comet.Port", "-1");
        cfg.put("Comet.Hub", hub);
        cfg.put("Comet.Secret", args[1]);
        cfg.put("Comet.PublicUrl", args[2]);
        cfg.put("Comet.ListenActions", "false");
        cfg.put("Comet.Threads", "1");
        CometContext cc = CometContext.getInstance();
        cc.registChannel("bench");
        cc.init(CometConfig.parse(cfg));
        CometEngine engine = cc.getEngine();
        System.out.println("ready pid=" + ProcessHandle.current().pid());
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();

        long total = (long) rate * seconds;
        long start = System.nanoTime();
        for (long seq = 0; seq < total; seq++) {
            long due = start + seq * 1_000_000_000L / rate;   // paced, not bursts
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(Math.min(wait, 200_000));
            }
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("seq", seq);
            Instant now = Instant.now();
            data.put("ts", now.getEpochSecond() * 1_000_000L + now.getNano() / 1000);
            engine.sendToAll("bench", data);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.println(String.format("pub: %d sendToAll in %.2f s (%.0f a second, asked %d) from a JVM in HubServer mode",
                total, secs, total / secs, rate));
        System.out.flush();
        Thread.sleep(3000);   // the hub's outbox drains before the engine stops
        cc.destroy();
    }
}
