// Stress: a reconnect storm with resume.  Many clients of the three
// transports on one real comet4j-node (two workers) lose their network at
// once while broadcasts go on, then all come back in the same instant,
// each with its cId and its positions (`since`).  Invariant: every client
// has every broadcast exactly once, in order, and is told recovered:true;
// the node's open files end where they started.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode } from '../lib/node.mjs';
import { scale, SECRET, API_KEY, nodeClient, footprint, sleep, until, publish } from './lib.mjs';

let node;
let baseline;

before(async () => {
  node = await startNode({ secret: SECRET, apiKey: API_KEY, flags: {
    threads: 2, heartbeat: 2000, 'idle-timeout': 10000, 'history-size': 1000, 'conn-expires': 60000,
    'max-connections': 19000,
  } });
  // Warm up once (the first connections open the workers' own files).
  const w = nodeClient(node, ['storm']);
  await w.start();
  w.stop();
  await sleep(300);
  baseline = footprint(node.pid);
});
after(async () => { await node?.stop(); });

async function publishSeries(tag, from, to) {
  for (let i = from; i <= to; i += 16) {
    const batch = [];
    for (let k = i; k < i + 16 && k <= to; k++) batch.push(publish(node, 'storm', { tag, n: k }));
    for (const r of await Promise.all(batch)) assert.equal(r.status, 200, r.body);
  }
}
/** Which clients have fewer than k of tag, by transport (for a failure's message). */
function short(clients, tag, k) {
  const by = {};
  for (const c of clients) {
    const g = got(c, tag).length;
    if (g < k) (by[c.workStyle] ||= []).push(`${g}${c.open ? '' : ' closed ' + JSON.stringify(c.closed)}`);
  }
  return JSON.stringify(Object.fromEntries(Object.entries(by).map(([w, l]) => [w, [l.length, ...l.slice(0, 5)]])));
}
const got = (c, tag) => c.messages('storm').filter((d) => d.tag === tag).map((d) => d.n);

test('everyone cut at once while broadcasts go on, everyone back at once: all of them, once, in order', async () => {
  const styles = ['websocket', 'websocket', 'stream', 'lpool'];
  const n = scale(4000, 200);
  const clients = Array.from({ length: n }, (_, i) =>
    nodeClient(node, ['storm'], { index: i, workStyle: styles[i % styles.length], heartbeat: 3000 }));
  for (let i = 0; i < n; i += 500) await Promise.all(clients.slice(i, i + 500).map((c) => c.start()));
  const tag = `s${Date.now()}`;
  await publishSeries(tag, 1, 20);
  await until('the first 20 everywhere', () => clients.every((c) => got(c, tag).length === 20), 60000)
    .catch((e) => { throw new Error(`${e.message}: ${short(clients, tag, 20)}`); });

  for (const c of clients) c.cut();
  const cutAt = Date.now();
  await publishSeries(tag, 21, 120);
  await sleep(Math.max(0, 1500 - (Date.now() - cutAt)));
  // The storm: every client back in the same turn of the event loop.
  const back = Date.now();
  const results = await Promise.allSettled(clients.map((c) => c.start({ resume: true, timeout: 60000 })));
  const failed = results.filter((r) => r.status === 'rejected');
  assert.equal(failed.length, 0, failed.slice(0, 3).map((r) => String(r.reason)).join('; '));
  console.log(`# storm: ${n} clients back in ${Date.now() - back} ms`);
  await publishSeries(tag, 121, 130);

  await until('all 130 everywhere', () => clients.every((c) => got(c, tag).length >= 130), 90000)
    .catch((e) => { throw new Error(`${e.message}: ${short(clients, tag, 130)}`); });
  const want = Array.from({ length: 130 }, (_, i) => i + 1);
  for (const c of clients) {
    // In offset order (the publishes of one batch race each other, so
    // their n need not be), each once.
    const frames = c.frames.filter((f) => f.t === 'msg' && f.ch === 'storm' && f.data.tag === tag);
    assert.deepEqual(frames.map((f) => f.data.n).sort((a, b) => a - b), want, `${c.cId} (${c.workStyle})`);
    assert.ok(frames.every((f, i) => i === 0 || f.o > frames[i - 1].o), `${c.cId}: offsets in order`);
    assert.equal(c.duplicates, 0, `${c.cId}: a message twice`);
    assert.ok(c.recovered.every((r) => r.recovered === true), JSON.stringify(c.recovered));
  }
  for (const c of clients) c.stop();
  await until('the node to hold no connection', () => footprint(node.pid).fds <= baseline.fds, 30000);
  assert.ok(node.alive());
});
