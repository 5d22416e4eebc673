// The metrics (docs/metrics.md) with the real parts: a real Prometheus
// (Debian's prometheus, on a free port, its own config and data folder,
// a 1 s scrape interval) scrapes a real Tomcat's <context>/comet4j/metrics
// and a real comet4j-node's /metrics, both with the API key as a bearer;
// the test drives known traffic (N pages on each, M broadcasts on each, K
// handshakes or attaches refused for their Origin, K by BeforeConnect) and reads the series
// back through Prometheus's HTTP API (/api/v1/query).  And the servlet's
// protection: absent (404) without Comet.Metrics, 401 without the key or
// with a wrong one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startTomcat, freePort, waitFor, logOnFailure, CONTEXT, ROOT } from '../lib/tomcat.mjs';
import { startNode } from '../lib/node.mjs';
import { CometClient, handshake, publishLines } from '../lib/comet-client.mjs';

const SECRET = 'e2e-metrics-secret-0123456789abcdef';
const KEY = 'e2e-metrics-key-0123456789abcdefXYZ';
const GOOD = 'http://good.example';
const N = 6;  // pages on each server
const M = 5;  // broadcasts on each server
const K = 3;  // refused origins on each server

let tomcat;
let node;
let prom;
let promDir;
let promLog;
let promUrl;
const clients = [];

const PROMETHEUS = process.env.C4J_PROMETHEUS || '/usr/bin/prometheus';

/** Starts Prometheus on a free port with scrape jobs tomcat and node. */
async function startPrometheus() {
  promDir = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-prom-'));
  const port = await freePort();
  const config = `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: tomcat
    metrics_path: ${CONTEXT}/comet4j/metrics
    authorization:
      credentials: ${KEY}
    static_configs:
      - targets: ['127.0.0.1:${tomcat.httpPort}']
  - job_name: node
    metrics_path: /metrics
    authorization:
      credentials: ${KEY}
    static_configs:
      - targets: ['127.0.0.1:${node.port}']
`;
  fs.writeFileSync(path.join(promDir, 'prometheus.yml'), config);
  promLog = path.join(promDir, 'prometheus.log');
  const out = fs.openSync(promLog, 'a');
  prom = spawn(PROMETHEUS, [`--config.file=${path.join(promDir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
  { stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  promUrl = `http://127.0.0.1:${port}`;
  await waitFor('Prometheus to be ready', async () => {
    try { return (await fetch(promUrl + '/-/ready')).status === 200; } catch { return false; }
  });
}

/** The value of an instant query that must return one series, or null when none yet. */
async function query(q) {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = await res.json();
  assert.equal(body.status, 'success', JSON.stringify(body));
  const r = body.data.result;
  if (r.length === 0) return null;
  assert.equal(r.length, 1, `${q}: one series, got ${JSON.stringify(r)}`);
  return Number(r[0].value[1]);
}

/** Waits until Prometheus's latest sample of q is want; fails saying what it last was. */
async function expectSeries(q, want, ms = 20000) {
  let last;
  try {
    await waitFor(`${q} == ${want}`, async () => (last = await query(q)) === want, ms);
  } catch (e) {
    e.message += ` (last: ${last})`;
    throw e;
  }
}

/** Waits until Prometheus's latest sample of q is at least min. */
async function expectAtLeast(q, min, ms = 20000) {
  let last;
  try {
    await waitFor(`${q} >= ${min}`, async () => (last = await query(q)) !== null && last >= min, ms);
  } catch (e) {
    e.message += ` (last: ${last})`;
    throw e;
  }
}

/** GET url with an optional bearer: { status, text }. */
async function get(url, bearer) {
  const res = await fetch(url, bearer ? { headers: { Authorization: `Bearer ${bearer}` } } : {});
  return { status: res.status, text: await res.text() };
}

/** The value of series line (name{labels}) in a metrics text, or NaN. */
function valueIn(text, line) {
  const m = text.split('\n').find((l) => l.startsWith(line + ' '));
  return m ? Number(m.slice(line.length + 1)) : NaN;
}

before(async () => {
  [tomcat, node] = await Promise.all([
    startTomcat({ params: { 'Comet.Secret': SECRET, 'Comet.ApiKey': KEY, 'Comet.Metrics': 'true',
      'Comet.AllowedOrigins': GOOD } }),
    startNode({ secret: SECRET, apiKey: KEY, flags: { metrics: 'true', 'allowed-origins': GOOD } }),
  ]);
  await startPrometheus();
});

after(async () => {
  for (const c of clients) c.stop();
  if (prom) {
    try { process.kill(-prom.pid, 'SIGTERM'); } catch { /* gone */ }
    await new Promise((r) => { if (prom.exitCode !== null) r(); else prom.once('exit', r); });
  }
  if (promDir) fs.rmSync(promDir, { recursive: true, force: true });
  await node?.stop();
  await tomcat?.stop();
});

const withLogs = (fn) => logOnFailure(() => tomcat, async (t) => {
  try {
    await fn(t);
  } catch (e) {
    e.message += `\n--- comet4j-node ---\n${node?.logTail(20)}\n--- prometheus ---\n` +
      (promLog ? fs.readFileSync(promLog, 'utf8').split('\n').slice(-15).join('\n') : '');
    throw e;
  }
});

test('the servlet refuses a missing or wrong key (401) and serves the key', withLogs(async () => {
  const url = `http://127.0.0.1:${tomcat.httpPort}${CONTEXT}/comet4j/metrics`;
  assert.equal((await get(url)).status, 401);
  assert.equal((await get(url, 'wrong-key-0123456789abcdef')).status, 401);
  const ok = await get(url, KEY);
  assert.equal(ok.status, 200);
  assert.match(ok.text, /^# TYPE comet4j_broadcast_fanout_seconds histogram$/m);
  assert.match(ok.text, /^# TYPE comet4j_tickets_issued_total counter$/m);
  assert.match(ok.text, /^# TYPE comet4j_action_handler_seconds histogram$/m);
  // Every name appears in one HELP and one TYPE line (Prometheus refuses repeats).
  const types = ok.text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
  assert.equal(new Set(types).size, types.length, 'a TYPE line repeated');
  assert.equal((await get(`${node.base}/metrics`)).status, 401);
}));

test('Prometheus reads back the traffic driven on Tomcat and on comet4j-node', withLogs(async () => {
  await expectSeries('up{job="tomcat"}', 1);
  await expectSeries('up{job="node"}', 1);
  const tomcatUrl = `http://127.0.0.1:${tomcat.httpPort}${CONTEXT}/comet4j/metrics`;
  const before = {
    tomcat: await get(tomcatUrl, KEY),
    node: await get(`${node.base}/metrics`, KEY),
  };
  const base = (job, line) => valueIn(before[job].text, line);

  // N pages on each: Tomcat's own port, and the node (tickets from Tomcat's
  // handshake: the same secret).
  for (let i = 0; i < N; i++) {
    for (const b of [null, node.base]) {
      const c = new CometClient(tomcat.url + 'conn', { workStyle: 'websocket', base: b });
      clients.push(c);
      await c.start();
    }
  }
  // M broadcasts on each; and on Tomcat M lines to one page (sendTo).
  await publishLines(tomcat.url, Array.from({ length: M }, (_, i) => `metrics ${i}`));
  await publishLines(tomcat.url, Array.from({ length: M }, (_, i) => `private ${i}`), { to: clients[0].cId });
  for (let i = 0; i < M; i++) await node.publish('chat', { name: 'metrics', text: `node ${i}` });
  // K refused origins on each: Tomcat's handshake, the node's attach.
  for (let i = 0; i < K; i++) {
    const res = await fetch(tomcat.url + 'conn?cmd=conn', { headers: { Origin: 'http://evil.example' } });
    await res.text();
    assert.equal(res.status, 403);
    const hs = await handshake(tomcat.url + 'conn');
    const status = await new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${node.port}/ws?ticket=${encodeURIComponent(hs.ticket)}`,
        { headers: { Origin: 'http://evil.example' } });
      ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); ws.terminate(); });
      ws.on('open', () => { resolve(101); ws.close(); });
      ws.on('error', () => resolve(0));
    });
    assert.equal(status, 403);
    // And one the application's BeforeConnectListener refuses (webapp-example: refuse=1).
    const refused = await fetch(tomcat.url + 'conn?cmd=conn&refuse=1');
    await refused.text();
    assert.equal(refused.status, 403);
  }

  await expectSeries('sum(comet4j_connections{job="node"})', N);
  await expectSeries('comet4j_connections{job="node",transport="ws"}', N);
  await expectSeries('comet4j_connections{job="tomcat",transport="ws"}',
    base('tomcat', 'comet4j_connections{transport="ws"}') + N);
  await expectSeries('comet4j_identities{job="node",state="attached"}', N);
  // webapp-example broadcasts a clock every second and a count on each
  // connect: its broadcasts are at least M more; its sends to one page are
  // exactly the N welcomes (one per ConnectEvent) and the M private lines.
  await expectAtLeast('comet4j_sends_total{job="tomcat",to="all"}',
    base('tomcat', 'comet4j_sends_total{to="all"}') + M);
  await expectAtLeast('comet4j_broadcast_fanout_seconds_count{job="tomcat"}',
    base('tomcat', 'comet4j_broadcast_fanout_seconds_count') + M);
  await expectSeries('comet4j_sends_total{job="tomcat",to="connection"}',
    base('tomcat', 'comet4j_sends_total{to="connection"}') + N + M);
  await expectSeries('comet4j_sends_total{job="node",to="all"}', M);
  await expectSeries('comet4j_broadcast_fanout_seconds_count{job="node"}', M);
  await expectSeries('comet4j_broadcast_fanout_seconds_bucket{job="node",le="+Inf"}', M);
  await expectSeries('comet4j_http_refused_total{job="node",status="403"}', K);
  await expectSeries('comet4j_handshakes_refused_total{job="tomcat",reason="origin"}',
    base('tomcat', 'comet4j_handshakes_refused_total{reason="origin"}') + K);
  await expectSeries('comet4j_handshakes_refused_total{job="tomcat",reason="before_connect"}',
    base('tomcat', 'comet4j_handshakes_refused_total{reason="before_connect"}') + K);
  // Tickets: N pages on each and K for the node's refused attaches, all from Tomcat.
  await expectSeries('comet4j_tickets_issued_total{job="tomcat"}',
    base('tomcat', 'comet4j_tickets_issued_total') + 2 * N + K);
  await expectSeries('comet4j_tickets_attached_total{job="tomcat"}',
    base('tomcat', 'comet4j_tickets_attached_total') + N);
  // Every page got every broadcast of its server: frames out at least that.
  const out = await query('comet4j_messages_out_total{job="node"}');
  assert.ok(out >= N * M, `node messages out ${out} >= ${N * M}`);
}));

test('without Comet.Metrics the servlet is absent (404)', withLogs(async () => {
  const plain = await startTomcat();
  try {
    const url = `http://127.0.0.1:${plain.httpPort}${CONTEXT}/comet4j/metrics`;
    assert.equal((await get(url)).status, 404);
    assert.equal((await get(url, KEY)).status, 404);
  } finally {
    await plain.stop();
  }
}));

test('registered in code (embedded Tomcat, no web.xml): a listed address reads, another gets 403', async () => {
  const lib = '/usr/share/java';
  const jar = fs.readdirSync(path.join(ROOT, 'java/target'))
    .filter((f) => /^comet4j-native-[^-]+(-SNAPSHOT)?\.jar$/.test(f)).map((f) => path.join(ROOT, 'java/target', f))[0];
  assert.ok(jar, 'the jar: run mvn install');
  const cp = [jar, ...['tomcat10-embed-core', 'tomcat10-embed-websocket', 'tomcat10-annotations-api',
    'jakarta-servlet-api'].map((n) => path.join(lib, `${n}.jar`))].join(':');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-embedded-'));
  try {
    execFileSync('javac', ['-nowarn', '-cp', cp, '-d', dir, path.join(ROOT, 'tests/lib/java/MetricsEmbedded.java')]);
    const run = (metrics) => execFileSync('java', [`-Djava.io.tmpdir=${dir}`, '-cp', `${dir}:${cp}`,
      'MetricsEmbedded', metrics], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60000 });
    const listed = run('127.0.0.1');
    assert.match(listed, /^status 200$/m);
    assert.match(listed, /^comet4j_tickets_issued_total 0$/m);
    assert.match(run('10.9.9.9'), /^status 403$/m);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
