// A real redis-server (Debian's /usr/bin/redis-server) on a free loopback
// port, for tests of the Redis hub (docs/protocol.md section 9): no
// persistence, its own process group, stopped and restarted on the same
// port, and a tiny RESP client (no npm package, no redis-cli needed).
//
//   const redis = await startRedis();
//   redis.url                                 // redis://127.0.0.1:PORT/0
//   await redis.command(['LLEN', 'c4j:actions'])
//   await redis.stop(); await redis.restart(); // same port, empty again
//   await redis.kill();                       // SIGKILL, as when Redis dies
//   await redis.close();                      // in after()
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './tomcat.mjs';

const REDIS_SERVER = process.env.REDIS_SERVER || '/usr/bin/redis-server';

/** Encodes one command as a RESP array of bulk strings. */
function encode(args) {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) {
    const b = Buffer.from(String(a));
    parts.push(`$${b.length}\r\n`, b, '\r\n');
  }
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
}

/**
 * Parses one RESP value at buf[i]: [value, next index], or null if buf
 * holds only part of it. Errors come back as Error objects (not thrown),
 * bulk strings as strings (UTF-8), nil as null.
 */
function parse(buf, i = 0) {
  if (i >= buf.length) return null;
  const eol = buf.indexOf('\r\n', i);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[i]);
  const line = buf.toString('utf8', i + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': return [line, next];
    case '-': return [new Error(line), next];
    case ':': return [Number(line), next];
    case '$': {
      const n = Number(line);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return null;
      return [buf.toString('utf8', next, next + n), next + n + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const out = [];
      let j = next;
      for (let k = 0; k < n; k++) {
        const r = parse(buf, j);
        if (!r) return null;
        out.push(r[0]);
        j = r[1];
      }
      return [out, j];
    }
    default: throw new Error(`RESP: unexpected type byte ${JSON.stringify(type)}`);
  }
}

/**
 * Sends one command to 127.0.0.1:port on a fresh connection and resolves
 * with the reply; rejects on a connection error, an error reply, or after
 * ms without a whole reply.
 */
export function redisCommand(port, args, ms = 3000) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`redis ${args[0]}: no reply within ${ms} ms`)); }, ms);
    const done = (err, v) => { clearTimeout(timer); s.destroy(); if (err) reject(err); else resolve(v); };
    s.on('connect', () => s.write(encode(args)));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let r;
      try { r = parse(buf); } catch (e) { done(e); return; }
      if (!r) return;
      if (r[0] instanceof Error) done(new Error(`redis ${args.join(' ')}: ${r[0].message}`));
      else done(null, r[0]);
    });
    s.on('error', (e) => done(e));
    s.on('close', () => done(new Error(`redis ${args[0]}: connection closed`)));
  });
}

// Every redis-server still running when node exits is killed.
const running = new Set();
process.on('exit', () => {
  for (const pid of running) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

/**
 * Starts redis-server on a free port (or `port`) and waits until it
 * answers PING. Returns { port, url, log, pid, command(args), kill(sig),
 * stop(), restart(), close(), logTail() }. stop() ends the process (SIGTERM, then
 * SIGKILL) and resolves once the port is closed; restart() starts it again
 * on the same port (empty: nothing is saved); close() stops it and removes
 * its directory.
 */
export async function startRedis({ port } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-redis-'));
  const log = path.join(dir, 'redis.log');
  const r = {
    port: port || await freePort(),
    log,
    dir,
    child: null,
    get url() { return `redis://127.0.0.1:${this.port}/0`; },
    get pid() { return this.child?.pid; },
    command(args, ms) { return redisCommand(r.port, args, ms); },
    logTail(n = 30) {
      try { return fs.readFileSync(log, 'utf8').split('\n').slice(-n).join('\n'); } catch { return ''; }
    },
    async restart() {
      if (r.child) throw new Error('redis-server is already running');
      const out = fs.openSync(log, 'a');
      const child = spawn(REDIS_SERVER, ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1',
        '--port', String(r.port), '--dir', dir, '--protected-mode', 'no', '--daemonize', 'no'],
      { stdio: ['ignore', out, out], detached: true });
      fs.closeSync(out);
      r.child = child;
      running.add(child.pid);
      child.exited = new Promise((resolve) => child.on('exit', (code, sig) => {
        running.delete(child.pid);
        child.exitStatus = { code, sig };
        resolve();
      }));
      const end = Date.now() + 10000;
      for (;;) {
        if (child.exitStatus) {
          r.child = null;
          throw new Error(`redis-server exited ${JSON.stringify(child.exitStatus)}\n${r.logTail()}`);
        }
        try {
          if (await redisCommand(r.port, ['PING'], 1000) === 'PONG') return r;
        } catch { /* not yet */ }
        if (Date.now() > end) {
          await r.stop();
          throw new Error(`redis-server on ${r.port} did not answer PING within 10 s\n${r.logTail()}`);
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    /** Kills the process with sig (SIGKILL: Redis dies) and resolves once it is gone. */
    async kill(sig = 'SIGKILL') {
      const child = r.child;
      if (!child) return;
      try { process.kill(-child.pid, sig); } catch { /* gone */ }
      await child.exited;
      r.child = null;
    },
    async stop() {
      const child = r.child;
      if (!child) return;
      if (!child.exitStatus) {
        try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
        let timer;
        const late = new Promise((res) => { timer = setTimeout(() => res(true), 5000); });
        const killed = await Promise.race([child.exited.then(() => false), late]);
        clearTimeout(timer);
        if (killed) {
          try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
          await child.exited;
        }
      }
      r.child = null;
    },
    async close() {
      await r.stop();
      if (!process.env.C4J_KEEP_BASE) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await r.restart();
  return r;
}
