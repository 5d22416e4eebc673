// Runs Tomcat 10.1 from a private CATALINA_BASE with webapp-example, for
// tests: free ports, logs under the base, stopped (process group) in an
// after hook or, failing that, when node exits.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
// C4J_WAR: another build of the example (e.g. a preview copy of the tree).
export const WAR = process.env.C4J_WAR || path.join(ROOT, 'webapp-example/target/webapp-example.war');
export const CONTEXT = '/webapp-example';
const CATALINA_HOME = process.env.CATALINA_HOME || '/usr/share/tomcat10';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A port free on 127.0.0.1 right now (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves true if something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** The status of GET url, or 0 if nothing answered. */
export async function status(url) {
  try {
    const res = await fetch(url, { redirect: 'manual' });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Polls cond() every 200 ms until it is true; throws after ms. */
export async function waitFor(what, cond, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

// Every Tomcat still running when node exits is killed, so a crashed test
// run leaves no JVM behind.
const running = new Set();
process.on('exit', () => {
  for (const pid of running) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

/**
 * Watches a server started with spawn(..., {detached: true}) (its own
 * process group) whose output goes to log, and waits until url answers
 * 200. Returns { logTail(n), stop() }: stop sends SIGTERM to the group
 * (Tomcat's shutdown hook undeploys, which stops the native engine),
 * SIGKILL after 15 s, then removes dir (unless C4J_KEEP_BASE is set). If
 * the server exits or never answers, it is stopped and the error carries
 * the log's tail (and what more(), if given, returns).
 */
export async function supervise(child, { name, log, dir, url, ms = 60000, more, ready }) {
  running.add(child.pid);
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, sig) => {
    exited = { code, sig };
    running.delete(child.pid);
    resolve();
  }));
  const s = {
    logTail(n = 60) {
      try {
        return fs.readFileSync(log, 'utf8').split('\n').slice(-n).join('\n');
      } catch {
        return '';
      }
    },
    async stop() {
      if (!exited) {
        try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
        let timer;
        const late = new Promise((r) => { timer = setTimeout(() => r(true), 15000); });
        const killed = await Promise.race([exit.then(() => false), late]);
        clearTimeout(timer); // a pending timer would keep node (and node --test) waiting
        if (killed) {
          try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
          await exit;
        }
      }
      if (!process.env.C4J_KEEP_BASE) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(ready ? `${name} to be ready` : `${url} to answer 200`, async () => {
      if (exited) throw new Error(`${name} exited (${JSON.stringify(exited)})`);
      return ready ? ready() : (await status(url)) === 200;
    }, ms);
  } catch (e) {
    const tail = s.logTail();
    const extra = more ? more() : '';
    await s.stop();
    throw new Error(`${e.message}\n--- ${name} console ---\n${tail}${extra}`);
  }
  return s;
}

/**
 * Creates a base (tests/lib/catalina-base.sh), starts catalina.sh run in its
 * own process group and waits until the example answers 200. params:
 * context parameters that override web.xml ({'Comet.HistorySize': 20});
 * cometPort: Comet.Port (default a free port; -1 for no listener);
 * context: the WAR's context path (default /webapp-example).
 * wrap: a command that runs catalina.sh (e.g. ['unshare', '-m', 'sh', '-c',
 * 'mount ...; exec "$0" "$@"']); env: more environment (CATALINA_OPTS);
 * ready(t): resolves true once started (default: the example answers 200),
 * for a start that is meant to fail.
 * h2c: the HTTP connector also speaks h2c. https: a second connector, TLS
 * (JSSE) with a self-signed certificate made here with keytool (true, or
 * { h2: true } for h2 over ALPN too). nio2: a third connector, plain HTTP on
 * Http11Nio2Protocol.
 * Returns { base, httpPort, cometPort, url, log, logTail(), undeploy(),
 * deploy(), stop() }, with https also httpsPort and httpsUrl, with nio2
 * nio2Port and nio2Url.
 */
export async function startTomcat({ war = WAR, params = {}, cometPort: fixedCometPort, wrap = [], env = {},
  ready, h2c = false, https = false, nio2 = false, context = CONTEXT } = {}) {
  if (!fs.existsSync(war)) {
    throw new Error(`${war} is missing: run 'mvn -q install -DskipTests' in ${ROOT}`);
  }
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-tomcat-'));
  const httpPort = await freePort();
  // cometPort -1: no native listener (HubServer mode, docs/protocol.md 9).
  let cometPort = fixedCometPort ?? await freePort();
  while (cometPort === httpPort) cometPort = await freePort();
  const runEnv = { ...env }; // env, and the connectors' settings for catalina-base.sh
  let httpsPort = null;
  if (h2c) runEnv.C4J_H2C = '1';
  if (https) {
    httpsPort = await freePort();
    while (httpsPort === httpPort || httpsPort === cometPort) httpsPort = await freePort();
    // Outside the base (catalina-base.sh wants it empty), removed with it below.
    const keystore = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-tls-')), 'tls.p12');
    execFileSync('keytool', ['-genkeypair', '-alias', 'c4j', '-keyalg', 'RSA', '-keysize', '2048',
      '-validity', '30', '-dname', 'CN=localhost', '-ext', 'SAN=dns:localhost,ip:127.0.0.1',
      '-storetype', 'PKCS12', '-keystore', keystore, '-storepass', 'changeit', '-keypass', 'changeit'],
    { stdio: 'ignore' });
    runEnv.C4J_HTTPS_PORT = String(httpsPort);
    runEnv.C4J_KEYSTORE = keystore;
    if (https.h2) runEnv.C4J_HTTPS_H2 = '1';
    process.on('exit', () => fs.rmSync(path.dirname(keystore), { recursive: true, force: true }));
  }
  let nio2Port = null;
  if (nio2) {
    nio2Port = await freePort();
    while ([httpPort, cometPort, httpsPort].includes(nio2Port)) nio2Port = await freePort();
    runEnv.C4J_NIO2_PORT = String(nio2Port);
  }
  execFileSync(path.join(here, 'catalina-base.sh'),
    [base, String(httpPort), String(cometPort), war,
      ...Object.entries(params).map(([k, v]) => `${k}=${v}`)], { stdio: 'inherit', env: { ...process.env, ...runEnv } });

  const log = path.join(base, 'logs', 'console.log');
  const out = fs.openSync(log, 'a');
  const catalina = [path.join(CATALINA_HOME, 'bin/catalina.sh'), 'run'];
  const [file, ...args] = [...wrap, ...catalina];
  const child = spawn(file, args, {
    env: { ...process.env, CATALINA_HOME, CATALINA_BASE: base, CATALINA_PID: '', ...runEnv },
    stdio: ['ignore', out, out],
    detached: true, // its own process group: one kill reaches java too
  });
  fs.closeSync(out);

  const url = `http://127.0.0.1:${httpPort}${context}/`;
  const server = await supervise(child, {
    name: 'catalina.sh', log, dir: base, url,
    more: () => `\n--- localhost log ---\n${localhostLog(base)}`,
    ready: ready && (() => ready({ base, log, url })),
  });
  const t = {
    base, httpPort, cometPort, url, log,
    httpsPort, httpsUrl: httpsPort ? `https://127.0.0.1:${httpsPort}${context}/` : null,
    nio2Port, nio2Url: nio2Port ? `http://127.0.0.1:${nio2Port}${context}/` : null,
    logTail: server.logTail,
    stop: server.stop,
    /** Removes the WAR; resolves once the context and the native port (if any) are gone. */
    async undeploy() {
      fs.rmSync(path.join(base, 'webapps', 'webapp-example.war'));
      await waitFor('the context to go', async () => (await status(url)) === 404);
      if (typeof cometPort === 'number' && cometPort > 0) { // not one port ('none') nor -1
        await waitFor(`native port ${cometPort} to close`, async () => !(await portOpen(cometPort)));
      }
    },
    /** Copies the WAR back; resolves once the example answers again. */
    async deploy() {
      fs.copyFileSync(war, path.join(base, 'webapps', 'webapp-example.war'));
      await waitFor('the context to answer', async () => (await status(url)) === 200, 60000);
    },
  };
  return t;
}

/**
 * Wraps a test so that a failure carries the end of Tomcat's logs (the base
 * is deleted afterwards); cleanup, if given, runs after the test either way.
 * tomcatOf returns the running Tomcat (it is started in a before hook).
 */
export function logOnFailure(tomcatOf, fn, cleanup) {
  return async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const tomcat = tomcatOf();
      if (tomcat) {
        e.message += `\n--- tomcat console ---\n${tomcat.logTail(40)}` +
          `\n--- localhost log ---\n${localhostLog(tomcat.base, 40)}`;
      }
      throw e;
    } finally {
      if (cleanup) await cleanup();
    }
  };
}

/** The localhost.*.log of a base: where a failing listener's stack lands. */
export function localhostLog(base, n = 80) {
  try {
    const dir = path.join(base, 'logs');
    const f = fs.readdirSync(dir).filter((x) => x.startsWith('localhost.')).sort().pop();
    return f ? fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(-n).join('\n') : '';
  } catch {
    return '';
  }
}
