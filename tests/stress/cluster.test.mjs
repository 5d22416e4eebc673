// Stress: a node killed with its pages moving to another.  Two real
// comet4j-node processes on one real redis-server; clients of every
// transport on node A, a backend publishing through node B's API the
// whole time; A is killed with SIGKILL and every page moves to B with its
// cId and positions, as comet4j.js does when its node fails.  Invariant:
// every client has every accepted broadcast exactly once, in offset order
// (or is told recovered:false for a channel whose gap Redis no longer
// holds: with this history it must not be); B's open files end where they
// started.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode } from '../lib/node.mjs';
import { startRedis } from '../lib/redis.mjs';
import { scale, SECRET, API_KEY, nodeClient, footprint, sleep, until, publish } from './lib.mjs';

let redis;
let a;
let b;
let baseline;

before(async () => {
  redis = await startRedis();
  const flags = { threads: 2, heartbeat: 2000, 'idle-timeout': 10000, 'history-size': 5000,
    'conn-expires': 30000, 'hub-prefix': `s${process.pid}` };
  a = await startNode({ secret: SECRET, apiKey: API_KEY, hub: redis.url, flags, name: 'node A' });
  b = await startNode({ secret: SECRET, apiKey: API_KEY, hub: redis.url, flags, name: 'node B' });
  const w = nodeClient(b, ['moving']);
  await w.start();
  w.stop();
  await sleep(300);
  baseline = footprint(b.pid);
});
after(async () => {
  await a?.stop();
  await b?.stop();
  await redis?.close();
});

test('node A killed under publishing: its pages resume on node B with every broadcast once, in order', async () => {
  const styles = ['websocket', 'stream', 'lpool'];
  const n = scale(1500, 60);
  const clients = Array.from({ length: n }, (_, i) =>
    nodeClient(a, ['moving'], { index: i, workStyle: styles[i % styles.length], heartbeat: 3000 }));
  for (let i = 0; i < n; i += 300) await Promise.all(clients.slice(i, i + 300).map((c) => c.start()));

  const tag = `k${Date.now()}`;
  let sent = 0;
  let running = true;
  const refused = [];
  const publisher = (async () => {
    while (running) {
      try {
        const r = await publish(b, 'moving', { tag, n: sent + 1 });
        if (r.status === 200) sent++;
        else refused.push(`${r.status} ${r.body}`);
      } catch (e) {
        refused.push(`${e.message} (${e.cause?.code || e.cause?.message})`);
        running = false;
      }
      await sleep(5);
    }
  })();
  await until('some broadcasts before the kill', () => sent >= 50 || refused.length > 0, 90000);
  assert.deepEqual(refused, [], 'B accepts publishes');
  await a.kill('SIGKILL');
  await sleep(500);
  // Every page moves to B at once, with its id and positions.
  for (const c of clients) { c.cut(); c.base = b.base; }
  const results = await Promise.allSettled(clients.map((c) => c.start({ resume: true, timeout: 60000 })));
  const failed = results.filter((r) => r.status === 'rejected');
  assert.equal(failed.length, 0, failed.slice(0, 3).map((r) => String(r.reason)).join('; '));
  await sleep(1000);
  running = false;
  await publisher;
  assert.deepEqual(refused, [], 'B accepted every publish');

  const total = sent;
  const want = Array.from({ length: total }, (_, i) => i + 1);
  const got = (c) => c.messages('moving').filter((d) => d.tag === tag).length;
  await until(`all ${total} on every page`, () => clients.every((c) => got(c) >= total), 90000).catch((e) => {
    const late = clients.filter((c) => got(c) < total);
    throw new Error(`${e.message}: ${late.length} behind, e.g. ` + late.slice(0, 4).map((c) =>
      `${c.cId} (${c.workStyle}) has ${got(c)}, at ${JSON.stringify(c.positions.moving)}, open ${c.open}, ` +
      `closed ${JSON.stringify(c.closed)}, recovered ${JSON.stringify(c.recovered)}`).join('; '));
  });
  await sleep(300);
  for (const c of clients) {
    const frames = c.frames.filter((f) => f.t === 'msg' && f.ch === 'moving' && f.data.tag === tag);
    assert.deepEqual(frames.map((f) => f.data.n), want, `${c.cId} (${c.workStyle})`);
    assert.ok(frames.every((f, i) => i === 0 || f.o > frames[i - 1].o), 'in offset order');
    assert.equal(c.duplicates, 0, `${c.cId}: a broadcast twice`);
    assert.ok(c.recovered.every((r) => r.recovered === true), JSON.stringify(c.recovered));
  }
  console.log(`# cluster: ${n} pages moved from a killed node, ${total} broadcasts each, none lost or twice`);
  for (const c of clients) c.stop();
  await until('node B to hold no connection', () => footprint(b.pid).fds <= baseline.fds, 30000);
  assert.ok(b.alive());
});
