// Stress: sendTo during a revival on another worker.  Clients of every
// transport on a real comet4j-node with two workers lose their network;
// while each comes back (its revival may land on either worker, and the
// dying identity hands over to it), the backend sends it private messages
// one after another through /api/send (sendTo by cId).  Invariant: each
// client has every private message exactly once and in the order sent,
// round after round; then the node holds no connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode } from '../lib/node.mjs';
import { scale, SECRET, API_KEY, nodeClient, footprint, sleep, until } from './lib.mjs';

let node;
let baseline;

before(async () => {
  node = await startNode({ secret: SECRET, apiKey: API_KEY, flags: {
    threads: 2, heartbeat: 2000, 'idle-timeout': 10000, 'history-size': 100, 'conn-expires': 300000,
  } });
  const w = nodeClient(node, ['inbox']);
  await w.start();
  w.stop();
  await sleep(300);
  baseline = footprint(node.pid);
});
after(async () => { await node?.stop(); });

async function sendTo(cId, data) {
  const res = await fetch(node.base + '/api/send', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + API_KEY },
    body: JSON.stringify({ channel: 'inbox', cId, data }),
  });
  return { status: res.status, body: await res.text() };
}
const privateOf = (c, round) => c.messages('inbox').filter((d) => d.round === round).map((d) => d.n);

test('private messages sent while each page comes back: every one, once, in the order sent', async () => {
  const styles = ['websocket', 'stream', 'lpool'];
  const n = scale(300, 30);
  const k = scale(20, 10);
  const rounds = scale(3, 2);
  const clients = Array.from({ length: n }, (_, i) =>
    nodeClient(node, ['inbox'], { index: i, workStyle: styles[i % styles.length], heartbeat: 3000 }));
  for (let i = 0; i < n; i += 200) await Promise.all(clients.slice(i, i + 200).map((c) => c.start()));

  for (let round = 1; round <= rounds; round++) {
    for (const c of clients) c.cut();
    await sleep(500); // the node sees the transports end: the identities are dying
    // 100 backends at a time, each sending to one page while it comes back.
    for (let at = 0; at < n; at += 100) {
      await Promise.all(clients.slice(at, at + 100).map(async (c) => {
        let back = null;
        for (let m = 1; m <= k; m++) {
          if (m === 3) back = c.start({ resume: true, timeout: 60000 }); // the revival, while sends go on
          const r = await sendTo(c.cId, { round, n: m });
          assert.equal(r.status, 200, `${c.cId} (${c.workStyle}, open ${c.open}, closed ${JSON.stringify(c.closed)}) round ${round} #${m}: ${r.body}`);
        }
        await back;
      }));
    }
    await until(`round ${round}: ${k} private messages everywhere`,
      () => clients.every((c) => privateOf(c, round).length >= k), 60000);
    await sleep(300); // room for a duplicate to show up, if there were one
    const want = Array.from({ length: k }, (_, i) => i + 1);
    for (const c of clients) assert.deepEqual(privateOf(c, round), want, `${c.cId} (${c.workStyle}), round ${round}`);
  }
  for (const c of clients) c.stop();
  await until('the node to hold no connection', () => footprint(node.pid).fds <= baseline.fds, 30000);
  assert.ok(node.alive());
});
