// Stress: Redis killed and restarted under publishing (docs/protocol.md
// section 9, "Redis faults").  Two real comet4j-node processes on one real
// redis-server, clients of every transport on both; backends publish
// through both nodes' /api/publish the whole time, each stream in order
// (the next publish once the last was answered).  redis-server gets
// SIGKILL, stays down, and is started again (empty) on its port while the
// publishing goes on.  Node A keeps a small outbox (--hub-outbox-records),
// so that it must refuse (the outage lasts until it has); node B has the
// default settings.  Invariant: every
// publish is answered 200 or 503 (503
// with a reason, counted in hubRefused); no refused one reaches a page;
// on every page every accepted broadcast arrives exactly once and in its
// stream's order, or the page is told recovered:false (with `lost`: at
// least as many as it misses); no page is cut; both nodes' open files end
// where they started.
// Copies a page had already (the same message id, given again from the
// ring after the outage) are dropped as comet4j.js drops them, and
// counted in the figures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode } from '../lib/node.mjs';
import { startRedis } from '../lib/redis.mjs';
import { scale, SECRET, API_KEY, nodeClient, footprint, sleep, until, publish } from './lib.mjs';

const RATE_A = scale(500, 150); // broadcasts a second through node A
const RATE_B = scale(100, 30); // and through node B
const BEFORE = scale(5000, 1500); // ms of publishing before the kill
const OUTAGE = scale(10000, 2500); // ms Redis stays down
const AFTER = scale(5000, 2000); // ms of publishing after the restart
const STREAMS_A = scale(8, 3); // concurrent publishers on A, each in order
// Records node A keeps while Redis is down: far less than the outage
// brings even on a loaded machine (the outage lasts until A refused).
const OUTBOX_A = scale(2000, 60);

const T0 = Date.now();
let redis;
let a;
let b;
const baseline = {};
let streams = [];

const stats = async (node) => (await node.api('GET', 'stats')).body;

before(async () => {
  redis = await startRedis();
  // Comet.Timeout stays 60 s: an SSE stream this test reads is not ended.
  const flags = { threads: 2, heartbeat: 2000, 'idle-timeout': 15000,
    'conn-expires': 30000, 'hub-prefix': `o${process.pid}` };
  a = await startNode({ secret: SECRET, apiKey: API_KEY, hub: redis.url, name: 'node A',
    flags: { ...flags, 'hub-outbox-records': OUTBOX_A } });
  b = await startNode({ secret: SECRET, apiKey: API_KEY, hub: redis.url, name: 'node B', flags });
  for (const n of [a, b]) {
    const w = nodeClient(n, ['outage']);
    await w.start();
    w.stop();
  }
  await sleep(300);
  baseline.a = footprint(a.pid);
  baseline.b = footprint(b.pid);
});
after(async () => {
  await Promise.all(streams.map((st) => st.stop())); // a failed test's too
  await a?.stop();
  await b?.stop();
  await redis?.close();
});

/**
 * One backend's stream: publishes {s, n} with n = 1, 2, ... through node
 * at rate a second until stop(); answers[n] = the status of publish n.
 */
function stream(node, s, rate) {
  const answers = [];
  const at = []; // ms since T0 when publish n was answered
  const odd = [];
  let running = true;
  const done = (async () => {
    const start = Date.now();
    for (let n = 1; running; n++) {
      try {
        const r = await publish(node, 'outage', { s, n });
        answers[n] = r.status;
        at[n] = Date.now() - T0;
        if (r.status === 503 && !/outbox/i.test(r.body)) odd.push(`503 without a reason: ${r.body}`);
        if (r.status !== 200 && r.status !== 503) odd.push(`${r.status} ${r.body}`);
      } catch (e) {
        answers[n] = 0;
        odd.push(`${e.message} (${e.cause?.code || e.cause?.message})`);
      }
      const due = start + (n * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
    }
  })();
  return { s, node, answers, at, odd, stop: () => { running = false; return done; } };
}

test('Redis SIGKILLed and restarted under publishing: every accepted broadcast once and in order on every page, or the page told', async () => {
  const styles = ['websocket', 'stream', 'lpool'];
  // One process here reads every page: at full size 60 pages of 500/s is
  // what it reads without falling behind (a page cut as slow, 4001, is a
  // problem below).
  const n = scale(60, 30);
  const clients = Array.from({ length: n }, (_, i) =>
    nodeClient(i % 2 ? b : a, ['outage'], { index: i, workStyle: styles[i % styles.length], heartbeat: 3000 }));
  // Each page's messages, checked as they come (a full run brings millions:
  // only the numbers are kept): per stream the numbers in arrival order,
  // which must rise; anything else is a problem.
  const problems = [];
  let framesSeen = 0;
  for (const c of clients) {
    c.got = {};
    c.on('frame', (f) => {
      framesSeen++;
      c.frames.length = 0;
      if (f.t !== 'msg' || f.ch !== 'outage') return;
      const seq = (c.got[f.data.s] ||= []);
      if (seq.length > 0 && f.data.n <= seq[seq.length - 1]) {
        problems.push(`${c.cId} (${c.workStyle}): ${f.data.s}/${f.data.n} after ${seq[seq.length - 1]} ` +
          `(twice or out of order): ${JSON.stringify(f)}`);
        return;
      }
      seq.push(f.data.n);
    });
  }
  for (let i = 0; i < n; i += 300) await Promise.all(clients.slice(i, i + 300).map((c) => c.start()));

  streams = [
    ...Array.from({ length: STREAMS_A }, (_, k) => stream(a, `a${k}`, RATE_A / STREAMS_A)),
    stream(b, 'b0', RATE_B),
  ];
  const count = (node, code) => streams.filter((st) => st.node === node)
    .reduce((k, st) => k + st.answers.filter((x) => x === code).length, 0);
  await sleep(BEFORE);
  await redis.kill('SIGKILL');
  const killedAt = Date.now();
  await until('both nodes to see the link down', async () =>
    (await stats(a)).hubUp === 0 && (await stats(b)).hubUp === 0, Math.max(OUTAGE, 10000));
  await sleep(Math.max(0, OUTAGE - (Date.now() - killedAt)));
  // The outage outlasts A's outbox however fast the backends managed to publish.
  const tally = () => streams.map((st) => `${st.s}: ${[200, 503, 0].map((x) => `${x}x${st.answers.filter((y) => y === x).length}`)} ${st.odd.slice(-1)}`).join('; ');
  await until('node A to refuse a publish', () => count(a, 503) > 0, 30000)
    .catch((e) => { throw new Error(`${e.message}: ${tally()}`); });
  const downFor = Date.now() - killedAt;
  await redis.restart();
  await until('both nodes linked again', async () =>
    (await stats(a)).hubUp === 1 && (await stats(b)).hubUp === 1, 30000);
  await sleep(AFTER);
  for (const st of streams) await st.stop();
  await until('both outboxes empty', async () =>
    (await stats(a)).hubOutbox === 0 && (await stats(b)).hubOutbox === 0, 30000);

  // Answers: 200 or 503 with a reason, and the 503s are what the nodes count.
  for (const st of streams) assert.deepEqual(st.odd, [], `stream ${st.s}`);
  const sa = await stats(a);
  const sb = await stats(b);
  assert.equal(sa.hubRefused, count(a, 503), 'node A counts its refusals');
  assert.equal(sb.hubRefused, count(b, 503), 'node B counts its refusals');
  assert.ok(count(a, 503) > 0, `node A's outbox (${OUTBOX_A} records) refused some of an outage's publishes`);
  assert.equal(count(b, 503), 0, 'node B (default settings) refused none');

  // Settled: no page got a frame for 2 s.
  let last = -1;
  await until('the pages to settle', async () => {
    const now = framesSeen;
    const still = now === last;
    last = now;
    if (!still) await sleep(2000);
    return still;
  }, 120000);

  let missingAll = 0;
  let told = 0;
  let lostAll = 0;
  for (const c of clients) {
    const where = `${c.cId} (${c.workStyle} on ${c.base === a.base ? 'A' : 'B'})`;
    if (c.closed) problems.push(`${where}: closed ${c.closed.code} ${c.closed.reason}`);
    for (const s of Object.keys(c.got)) {
      const st = streams.find((x) => x.s === s);
      if (!st) { problems.push(`${where}: a message of no stream ${s}`); continue; }
      const refused = c.got[s].filter((k) => st.answers[k] !== 200);
      if (refused.length) problems.push(`${where}: ${s} ${refused.slice(0, 5)} arrived, answered ${refused.slice(0, 5).map((k) => st.answers[k])}`);
    }
    let missing = 0;
    const lacks = [];
    for (const st of streams) {
      const have = new Set(c.got[st.s] || []);
      const lack = st.answers.flatMap((x, k) => (x === 200 && !have.has(k) ? [k] : []));
      missing += lack.length;
      if (lack.length) lacks.push(`${st.s}: ${lack.length} of ${lack[0]}@${st.at[lack[0]]}..${lack[lack.length - 1]}@${st.at[lack[lack.length - 1]]}`);
    }
    const notices = c.recovered.filter((r) => r.ch === 'outage' && r.recovered === false);
    const lost = notices.reduce((k, r) => k + (r.lost || 0), 0);
    // A notice without a count (a resume from before the jump, section 6)
    // says the page lost some; a live one says at least how many.
    const enough = notices.some((r) => r.lost === undefined) || lost >= missing;
    if (!(missing === 0 || (notices.length > 0 && enough)))
      problems.push(`${where}: ${missing} accepted broadcasts missing (${lacks.join(', ')}), told ${JSON.stringify(notices)}`);
    missingAll += missing;
    lostAll += lost;
    if (notices.length) told++;
  }
  const accepted = streams.reduce((k, st) => k + st.answers.filter((x) => x === 200).length, 0);
  const published = (node) => streams.filter((st) => st.node === node)
    .reduce((k, st) => k + st.answers.length - 1, 0);
  const secs = (BEFORE + downFor + AFTER) / 1000;
  console.log(`# outage: Redis SIGKILLed for ${downFor} ms under ${Math.round(published(a) / secs)}/s on A ` +
    `(outbox ${OUTBOX_A}) and ${Math.round(published(b) / secs)}/s on B, ${n} pages of 3 transports: ` +
    `${accepted} accepted, ${count(a, 503)} refused (503); ` +
    `${missingAll} missing over all pages, ${told} pages told recovered:false (lost ${lostAll}), ` +
    `${clients.reduce((k, c) => k + c.duplicates, 0)} copies dropped by message id; ` +
    `A hubLost ${sa.hubLost} hubDuplicates ${sa.hubDuplicates}, B hubLost ${sb.hubLost} hubDuplicates ${sb.hubDuplicates}`);

  assert.deepEqual(problems.slice(0, 12), [], `${problems.length} pages (kill at ${killedAt - T0} ms, ` +
    `restart at ${killedAt - T0 + downFor} ms)`);
  for (const c of clients) c.stop();
  await until('both nodes to hold no connection', () =>
    footprint(a.pid).fds <= baseline.a.fds && footprint(b.pid).fds <= baseline.b.fds, 30000);
  assert.ok(a.alive() && b.alive());
});
