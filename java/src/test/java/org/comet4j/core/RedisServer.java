package org.comet4j.core;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

/**
 * A real redis-server (/usr/bin/redis-server, or $REDIS_SERVER) on a free
 * loopback port for the hub's tests: no persistence, its log in a temporary
 * file, stopped by {@link #close()} (or killed, {@link #kill()}, and started
 * again on its port).  {@link #command(String...)} sends one
 * command and returns its reply line (enough for PING, LLEN, DBSIZE).
 */
final class RedisServer implements AutoCloseable {

    static final String BINARY = System.getenv().getOrDefault("REDIS_SERVER", "/usr/bin/redis-server");

    final int port;
    final String url;
    private final Process process;
    private final File log;

    private RedisServer(int port, Process process, File log) {
        this.port = port;
        this.url = "redis://127.0.0.1:" + port + "/0";
        this.process = process;
        this.log = log;
    }

    /** Starts one and waits (up to 10 s) until it answers PING. */
    static RedisServer start() throws Exception {
        return start(freePort());
    }

    /** The same on a given port (a restart after {@link #kill()}): an empty Redis. */
    static RedisServer start(int port) throws Exception {
        if (!new File(BINARY).canExecute()) {
            throw new AssertionError("the hub's tests need a redis-server at " + BINARY
                    + " (apt-get install redis-server, or set REDIS_SERVER)");
        }
        File log = File.createTempFile("comet4j-redis-", ".log");
        Process p = new ProcessBuilder(BINARY, "--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no")
                .redirectErrorStream(true).redirectOutput(log).start();
        RedisServer r = new RedisServer(port, p, log);
        long end = System.currentTimeMillis() + 10000;
        while (true) {
            try {
                if ("+PONG".equals(r.command("PING"))) {
                    return r;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!p.isAlive() || System.currentTimeMillis() > end) {
                r.close();
                throw new AssertionError("redis-server did not start on " + port + ": "
                        + new String(Files.readAllBytes(log.toPath()), StandardCharsets.UTF_8));
            }
            Thread.sleep(20);
        }
    }

    /** A loopback port nothing listens on (a moment ago). */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Sends one command (RESP array of bulk strings) and returns the reply's first line. */
    String command(String... args) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            StringBuilder b = new StringBuilder("*" + args.length + "\r\n");
            for (String a : args) {
                b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
            }
            OutputStream out = s.getOutputStream();
            out.write(b.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\r') {
                line.append((char) c);
            }
            return line.toString();
        }
    }

    /** Kills it with SIGKILL, as a crash would (nothing written, connections cut). */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        log.delete();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        log.delete();
    }
}
