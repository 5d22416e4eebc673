/*
 * JavaSend - the server side of bench/javasend.sh: the engine in a plain JVM
 * (CometContext, CometEngine, as BenchServer), N connections over N/2 users
 * (two pages a user), and SENDERS application threads calling sendTo and
 * sendToUser as fast as they can.  It sits in the package org.comet4j.core
 * (compiled apart from the jar, on the class path beside it) only to reach
 * the internals that its microbenchmarks time: Native (the bare JNI
 * crossing), EngineHandle (the guard every native call takes) and
 * SendBuffer (a send's JSON, encoded into the thread's own array).
 *
 *   java -cp <jar>:<servlet api>:bench/out org.comet4j.core.JavaSend
 *        PORT THREADS N SENDERS CALLS TICKETS
 *
 * First the microbenchmarks (one line each, "micro: ..."), with the engine
 * started and no connection: the JNI crossing alone, with the handle's
 * guard, the JSON encoding of the message, and the whole send to an id and
 * to a user nobody holds (the queueing into the core: framed, pushed into
 * the workers' inboxes, dropped there).  Then the N tickets are written
 * (ticket i: user "u" + i/2) and "ready port=P pid=PID" printed, and it
 * reads commands on stdin:
 *
 *   run to|user [last]  SENDERS threads make CALLS calls in all, sendTo to a
 *              random connection or sendToUser to a random user, of the
 *              message {"w":W,"n":SEQ,"pad":"x.."} (100 bytes of JSON: W
 *              the thread, SEQ its count); prints one "sent: ..." line (calls
 *              a second, the senders' CPU a call, the deliveries owed),
 *              then ends the phase: one marker to every connection,
 *              {"end":PHASE,"count":K} with K what it was sent ("last":1 on
 *              the last phase: the client exits after it)
 *   cpu        prints the process's CPU time since the last run began
 *   quit
 */
package org.comet4j.core;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.function.LongUnaryOperator;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.comet4j.core.util.JSONUtil;

public final class JavaSend {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final String CHANNEL = "bench";
    private static final String PAD = "x".repeat(71); /* the data is 100 bytes with a 7-digit SEQ */

    private static CometEngine engine;
    private static volatile long sink;

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String threads = args[1];
        int n = Integer.parseInt(args[2]);
        int senders = Integer.parseInt(args[3]);
        long calls = Long.parseLong(args[4]);
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
        cfg.put("Comet.MaxPendingPerAddress", "0");
        CometContext cc = CometContext.getInstance();
        cc.registChannel(CHANNEL);
        cc.init(CometConfig.parse(cfg));
        engine = cc.getEngine();

        micro(senders);

        String[] ids = new String[n];
        writeTickets(args[5], secret, ids);
        System.gc();
        System.out.println("ready port=" + cc.getPort() + " pid=" + ProcessHandle.current().pid());
        System.out.flush();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        CometConnection[] conns = null;
        String[] users = new String[n / 2];
        for (int u = 0; u < users.length; u++) {
            users[u] = "u" + u;
        }
        long cpuAt = OS.getProcessCpuTime();
        int phase = 0;
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.trim().split(" ");
            if (w[0].equals("run")) {
                if (conns == null) {
                    conns = connections(ids);
                }
                cpuAt = OS.getProcessCpuTime();
                run(++phase, w[1].equals("user"), conns, users, senders, calls,
                        w.length > 2 && w[2].equals("last"));
            } else if (w[0].equals("cpu")) {
                System.out.printf("cpu: %.0f ms of the process since the run began%n",
                        (OS.getProcessCpuTime() - cpuAt) / 1e6);
                System.out.flush();
            } else if (w[0].equals("quit")) {
                break;
            }
        }
        cc.destroy();
    }

    // ---- the run ----------------------------------------------------------------------

    /** The connections of the tickets, in the tickets' order, once all have attached. */
    private static CometConnection[] connections(String[] ids) throws InterruptedException {
        CometConnection[] c = new CometConnection[ids.length];
        long deadline = System.nanoTime() + 60_000_000_000L;
        for (int i = 0; i < ids.length; i++) {
            while ((c[i] = engine.getConnection(ids[i])) == null) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("connection " + i + " never attached");
                }
                Thread.sleep(10);
            }
        }
        return c;
    }

    private static void run(int phase, boolean toUser, CometConnection[] conns, String[] users,
                            int senders, long calls, boolean last) throws Exception {
        int n = conns.length;
        int[][] owed = new int[senders][n];
        long[] cpu = new long[senders];
        long[] ends = new long[senders];
        long each = calls / senders;
        CyclicBarrier start = new CyclicBarrier(senders + 1);
        Thread[] t = new Thread[senders];
        for (int s = 0; s < senders; s++) {
            final int me = s;
            t[s] = new Thread(() -> {
                Map<String, Object> data = new LinkedHashMap<>();
                data.put("w", me);
                data.put("n", 0L);
                data.put("pad", PAD);
                int[] mine = owed[me];
                long x = 0x9E3779B97F4A7C15L * (me + 1 + phase * 31L);
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                long c0 = THREADS.getCurrentThreadCpuTime();
                for (long k = 0; k < each; k++) {
                    x ^= x << 13;
                    x ^= x >>> 7;
                    x ^= x << 17;
                    data.put("n", 1_000_000L + k);
                    if (toUser) {
                        int u = (int) ((x >>> 1) % users.length);
                        engine.sendToUser(users[u], CHANNEL, data);
                        mine[2 * u]++;
                        mine[2 * u + 1]++;
                    } else {
                        int c = (int) ((x >>> 1) % n);
                        engine.sendTo(CHANNEL, conns[c], data);
                        mine[c]++;
                    }
                }
                cpu[me] = THREADS.getCurrentThreadCpuTime() - c0;
                ends[me] = System.nanoTime();
            }, "sender-" + s);
            t[s].start();
        }
        Instant startAt = Instant.now();
        long t0 = System.nanoTime();
        start.await();
        for (Thread th : t) {
            th.join();
        }
        long wall = 0, cpuSum = 0;
        for (int s = 0; s < senders; s++) {
            wall = Math.max(wall, ends[s] - t0);
            cpuSum += cpu[s];
        }
        long total = each * senders;
        long owedAll = 0;
        int[] sum = new int[n];
        for (int s = 0; s < senders; s++) {
            for (int i = 0; i < n; i++) {
                sum[i] += owed[s][i];
            }
        }
        for (int i = 0; i < n; i++) {
            owedAll += sum[i];
        }
        System.out.printf("sent: phase %d %s: %d calls from %d threads in %.3f s: %.0f calls/s;"
                        + " senders' CPU %.0f ns a call; %d deliveries owed; start_us %d%n",
                phase, toUser ? "sendToUser" : "sendTo", total, senders, wall / 1e9,
                total / (wall / 1e9), (double) cpuSum / total, owedAll,
                startAt.getEpochSecond() * 1_000_000L + startAt.getNano() / 1000);
        System.out.flush();
        for (int i = 0; i < n; i++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("end", phase);
            m.put("count", sum[i]);
            if (last) {
                m.put("last", 1);
            }
            engine.sendTo(CHANNEL, conns[i], m);
        }
    }

    // ---- the microbenchmarks -----------------------------------------------------------

    /** Runs op for about ms milliseconds on `threads` threads; ns of CPU an op and ops a second. */
    private static void time(String what, int threads, long ms, LongUnaryOperator op) throws Exception {
        long[] ops = new long[threads];
        long[] cpu = new long[threads];
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        Thread[] t = new Thread[threads];
        long stopAt = System.nanoTime() + ms * 1_000_000L + 100_000_000L;
        for (int s = 0; s < threads; s++) {
            final int me = s;
            t[s] = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                long c0 = THREADS.getCurrentThreadCpuTime(), k = 0, acc = 0;
                while (true) {
                    for (int i = 0; i < 1000; i++) {
                        acc += op.applyAsLong(k++);
                    }
                    if (System.nanoTime() > stopAt) {
                        break;
                    }
                }
                sink += acc;
                ops[me] = k;
                cpu[me] = THREADS.getCurrentThreadCpuTime() - c0;
            }, "micro-" + s);
            t[s].start();
        }
        start.await();
        long t0 = System.nanoTime();
        for (Thread th : t) {
            th.join();
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        long all = 0, cpuAll = 0;
        for (int s = 0; s < threads; s++) {
            all += ops[s];
            cpuAll += cpu[s];
        }
        System.out.printf("micro: %-44s %d thread%s: %8.1f ns of CPU an op, %10.0f ops/s%n",
                what, threads, threads == 1 ? " " : "s", (double) cpuAll / all, all / wall);
        System.out.flush();
    }

    private static void micro(int senders) throws Exception {
        EngineHandle h = engine.handle();
        Field f = EngineHandle.class.getDeclaredField("address");
        f.setAccessible(true);
        long address = f.getLong(h);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("w", 0);
        data.put("n", 1_000_000L);
        data.put("pad", PAD);
        String nobody = "AAAAAAAAAAAAAAAAAAAAAA"; // an id of 22 characters no page holds
        long ms = 1000;
        for (int round = 0; round < 2; round++) { // the first round warms the JIT up
            long d = round == 0 ? 300 : ms;
            if (round == 1) {
                System.out.println("micro: (each op's CPU, summed over the threads, over the ops)");
            }
            for (int th : new int[] {1, senders}) {
                if (round == 0 && th > 1) {
                    continue;
                }
                time("JNI crossing (Native.enginePort)", th, d, k -> Native.enginePort(address));
                time("JNI crossing and the handle's guard", th, d,
                        k -> h.call("port", Native::enginePort));
                time("JSON: JSONUtil.object2json + UTF-8 bytes", th, d, k -> {
                    data.put("n", 1_000_000L + (k & 0xffff));
                    return JSONUtil.object2json(data).getBytes(StandardCharsets.UTF_8).length;
                });
                time("JSON: a send's (SendBuffer, UTF-8 in place)", th, d, k -> {
                    data.put("n", 1_000_000L + (k & 0xffff));
                    SendBuffer b = SendBuffer.take();
                    b.data(data, false, CHANNEL);
                    b.release();
                    return b.dataLen;
                });
                time("queueing: sendToConnection to nobody", th, d, k -> {
                    engine.sendToConnection(nobody, CHANNEL, data);
                    return 0;
                });
                time("queueing: sendToUser to nobody", th, d, k -> {
                    engine.sendToUser("nobody", CHANNEL, data);
                    return 0;
                });
            }
        }
    }

    // ---- tickets ------------------------------------------------------------------------

    /** N tickets, ticket i for user "u" + i/2, into path; their ids into ids. */
    private static void writeTickets(String path, String secret, String[] ids) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String header = B64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        long exp = Instant.now().getEpochSecond() + 3600;
        SecureRandom rnd = new SecureRandom();
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(Paths.get(path)))) {
            for (int i = 0; i < ids.length; i++) {
                byte[] id = new byte[16];
                rnd.nextBytes(id);
                ids[i] = B64.encodeToString(id);
                String claims = "{\"cid\":\"" + ids[i] + "\",\"sub\":\"u" + (i / 2) + "\",\"exp\":" + exp
                        + ",\"ch\":[\"" + CHANNEL + "\"]}";
                String body = header + "." + B64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
                String sig = B64.encodeToString(mac.doFinal(body.getBytes(StandardCharsets.US_ASCII)));
                out.println(body + "." + sig);
            }
        }
    }
}
