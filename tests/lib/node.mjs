// Runs native/build/comet4j-node (the C core without a JVM) for tests: a
// free port (or the one given, to restart a node where it was), its own
// process group, stderr in a log file, stopped in an after hook or, failing
// that, when node exits.
//
//   const a = await startNode({ secret, apiKey, hub: redis.url });
//   a.base                      // http://127.0.0.1:PORT (ws: a.base + '/ws')
//   await a.publish('chat', {n: 1})   // POST /api/publish (needs apiKey)
//   a.kill('SIGKILL'); await a.stop();
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, portOpen, waitFor } from './tomcat.mjs';

export const NODE_BIN = process.env.C4J_NODE || path.join(ROOT, 'native/build/comet4j-node');

const running = new Set();
process.on('exit', () => {
  for (const pid of running) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

/**
 * Starts comet4j-node with --host 127.0.0.1 --port PORT --secret SECRET
 * [--api-key KEY] [--hub HUB] and every other {flag: value} of `flags`
 * (without the leading dashes: {'history-size': 50}), and waits until the
 * port accepts. Returns { port, base, pid, log, logTail(), alive(),
 * exitStatus(), publish(ch, data), api(method, name, body), kill(sig),
 * stop() }.
 */
export async function startNode({ secret, apiKey, hub, port, flags = {}, name = 'comet4j-node' } = {}) {
  if (!fs.existsSync(NODE_BIN)) {
    throw new Error(`${NODE_BIN} is missing: run 'mvn -q install -DskipTests' (or make -C native node) in ${ROOT}`);
  }
  port = port || await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-node-'));
  const log = path.join(dir, 'node.log');
  const args = ['--host', '127.0.0.1', '--port', String(port), '--secret', secret];
  if (apiKey) args.push('--api-key', apiKey);
  if (hub) args.push('--hub', hub);
  for (const [k, v] of Object.entries(flags)) args.push(`--${k}`, String(v));
  const out = fs.openSync(log, 'a');
  const child = spawn(NODE_BIN, args, { stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  running.add(child.pid);
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, sig) => {
    exited = { code, sig };
    running.delete(child.pid);
    resolve();
  }));
  const n = {
    name,
    port,
    base: `http://127.0.0.1:${port}`,
    pid: child.pid,
    log,
    logTail(k = 40) {
      try { return fs.readFileSync(log, 'utf8').split('\n').slice(-k).join('\n'); } catch { return ''; }
    },
    alive() { return !exited; },
    exitStatus() { return exited; },
    /** Sends sig to the process (SIGKILL: a node that dies). */
    kill(sig = 'SIGTERM') {
      try { process.kill(-child.pid, sig); } catch { /* gone */ }
      return exit;
    },
    /** SIGTERM (SIGKILL after 10 s), then removes the log directory. */
    async stop() {
      if (!exited) {
        try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
        let timer;
        const late = new Promise((r) => { timer = setTimeout(() => r(true), 10000); });
        const killed = await Promise.race([exit.then(() => false), late]);
        clearTimeout(timer);
        if (killed) {
          try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
          await exit;
        }
      }
      if (!process.env.C4J_KEEP_BASE) fs.rmSync(dir, { recursive: true, force: true });
    },
    /** An HTTP API call with the key: { status, body } (body parsed if JSON). */
    async api(method, apiName, body) {
      const res = await fetch(`${n.base}/api/${apiName}`, {
        method,
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed = text;
      try { parsed = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, body: parsed };
    },
    /** POST /api/publish; throws unless 200. */
    async publish(channel, data) {
      const r = await n.api('POST', 'publish', { channel, data });
      if (r.status !== 200) throw new Error(`${name} /api/publish: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
  };
  try {
    await waitFor(`${name} to accept on ${port}`, async () => {
      if (exited) throw new Error(`${name} exited (${JSON.stringify(exited)})`);
      return portOpen(port);
    }, 15000);
  } catch (e) {
    const tail = n.logTail();
    await n.stop();
    throw new Error(`${e.message}\n--- ${name} log ---\n${tail}`);
  }
  return n;
}
