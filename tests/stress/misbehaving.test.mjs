// Stress: clients that misbehave, against one real comet4j-node with two
// workers, while honest clients on the same node are watched.  Each
// scenario ends with an invariant: the misbehaving ones are closed with
// the code of docs/protocol.md section 5, the honest ones got every
// broadcast once and in order, and at the end the node's open files and
// memory are back near where they started.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode } from '../lib/node.mjs';
import {
  FULL, scale, SECRET, API_KEY, newId, mint, nodeClient, footprint, sleep, until, rawSocket, publish,
} from './lib.mjs';

const MAX_FRAME = 65536;
const MAX_QUEUE = 256 * 1024;
let node;
let baseline;
let peak = 0;
const honest = [];

before(async () => {
  node = await startNode({ secret: SECRET, apiKey: API_KEY, flags: {
    threads: 2, heartbeat: 500, 'idle-timeout': 2000, 'max-frame': MAX_FRAME, 'max-message': MAX_FRAME,
    'max-queue': MAX_QUEUE, 'history-size': 100, 'conn-expires': 500,
  } });
  // Warm up once (the first connections allocate the workers' tables).
  const w = nodeClient(node, ['feed']);
  await w.start();
  w.stop();
  await sleep(300);
  baseline = footprint(node.pid);
});
after(async () => {
  for (const c of honest) c.stop();
  await node?.stop();
});

const watchPeak = () => { peak = Math.max(peak, footprint(node.pid).rss); };
const ticketFor = (channels = ['feed']) => '/ws?ticket=' + mint(newId(), channels);

/** n honest WebSocket clients on feed, kept for the whole file. */
async function honestClients(n) {
  const fresh = [];
  for (let i = 0; i < n; i++) fresh.push(nodeClient(node, ['feed'], { index: i }));
  await Promise.all(fresh.map((c) => c.start()));
  honest.push(...fresh);
  return fresh;
}

/** Publishes tag-1..tag-n on feed (8 at a time, in order within each client's view by offset). */
async function publishSeries(tag, n, size = 0) {
  const pad = 'x'.repeat(size);
  for (let i = 1; i <= n; i += 8) {
    const batch = [];
    for (let k = i; k < i + 8 && k <= n; k++) batch.push(publish(node, 'feed', { tag, n: k, pad }));
    for (const r of await Promise.all(batch)) assert.equal(r.status, 200, r.body);
    watchPeak();
  }
}

/** Every honest client got tag's 1..n exactly once, in offset order (so in publish order). */
async function assertAllGot(clients, tag, n) {
  await until(`${clients.length} honest clients to get ${n} of ${tag}`,
    () => clients.every((c) => c.messages('feed').filter((d) => d.tag === tag).length >= n), 60000);
  for (const c of clients) {
    const got = c.messages('feed').filter((d) => d.tag === tag).map((d) => d.n);
    assert.equal(got.length, n, `${c.cId}: ${got.length} of ${n}`);
    assert.equal(new Set(got).size, n, 'no message twice');
    assert.equal(c.duplicates, 0);
    assert.ok(c.open, `${c.cId} still open`);
  }
}

test('slow consumers (never read) are cut with 4001; the honest ones get every message', async () => {
  const clients = await honestClients(scale(100, 10));
  const slow = await Promise.all(Array.from({ length: scale(50, 3) }, async (_, i) => {
    const s = await rawSocket(node.port, ticketFor(), { localAddress: `127.0.1.${2 + (i % 200)}` });
    s.pause();
    return s;
  }));
  // They read nothing but stay alive (a ping now and then), so only their
  // queue can end them.
  const alive = setInterval(() => { for (const s of slow) s.frame(1, Buffer.from('{"t":"ping"}')); }, 300);
  // More than the queue, the socket buffers and the kernel's window.
  const n = scale(2000, 1000);
  try {
    await publishSeries('slow', n, 8192);
    await assertAllGot(clients, 'slow', n);
  } finally {
    clearInterval(alive);
  }
  for (const s of slow) s.socket.resume();
  for (const s of slow) {
    const closed = await s.closed;
    // 4001, or 1006 when the close frame found the socket's buffers still
    // full until the core gave up the closing handshake and ended it.
    assert.ok(closed.code === 4001 || closed.code === 1006, JSON.stringify(closed));
    const got = s.frames.filter((f) => f.text && f.text.includes('"slow"')).length;
    assert.ok(got < n, `a slow consumer is cut before it has everything (${got} of ${n})`);
  }
  assert.ok(slow.some((s) => s.frames.length > 0), 'the slow ones were sent something first');
  assert.ok(node.alive());
});

test('a client that answers no ping and sends nothing is closed with 4002 (idle timeout)', async () => {
  const silent = await Promise.all(Array.from({ length: scale(100, 5) },
    (_, i) => rawSocket(node.port, ticketFor(), { localAddress: `127.0.2.${2 + (i % 200)}` })));
  const start = Date.now();
  for (const s of silent) assert.equal((await s.closed).code, 4002);
  assert.ok(Date.now() - start < 15000, 'within the timeout and a few ticks');
  assert.ok(silent.every((s) => s.frames.some((f) => f.op === 9)), 'the server pinged each one');
});

test('an oversized frame or message: 1009; malformed frames: 1002; bad UTF-8: 1007', async () => {
  const cases = [
    ['a frame over Comet.MaxFrame', 1009, (s) => s.frame(1, Buffer.alloc(MAX_FRAME + 1, 'a'))],
    ['a message over Comet.MaxMessage in fragments', 1009, (s) => {
      for (let i = 0; i < 5; i++) s.frame(i === 0 ? 1 : 0, Buffer.alloc(MAX_FRAME / 4, 'a'), { fin: false });
      s.frame(0, Buffer.from('a'));
    }],
    ['an unmasked frame', 1002, (s) => s.frame(1, Buffer.from('{"t":"ping"}'), { mask: false })],
    ['a reserved opcode', 1002, (s) => s.frame(3, Buffer.from('x'))],
    ['a fragmented ping', 1002, (s) => s.frame(9, Buffer.from('x'), { fin: false })],
    ['a continuation without a start', 1002, (s) => s.frame(0, Buffer.from('x'))],
    ['a ping over 125 bytes', 1002, (s) => s.frame(9, Buffer.alloc(126, 'p'))],
    ['text that is not UTF-8', 1007, (s) => s.frame(1, Buffer.from([0x7b, 0xc3, 0x28, 0x7d]))],
    ['a close with a bad code', 1002, (s) => s.frame(8, Buffer.from([0x03, 0xe7]))],
  ];
  const rounds = scale(20, 2);
  const all = [];
  for (let r = 0; r < rounds; r++) {
    for (const [what, code, send] of cases) {
      all.push((async () => {
        const s = await rawSocket(node.port, ticketFor(), { localAddress: `127.0.3.${2 + (all.length % 200)}` });
        send(s);
        const closed = await s.closed;
        assert.equal(closed.code, code, `${what}: ${JSON.stringify(closed)}`);
      })());
    }
  }
  await Promise.all(all);
  watchPeak();
});

test('ping floods: a reading flooder gets its pongs, one that does not read is cut; the others are served', async () => {
  const clients = honest.slice(0, scale(100, 10));
  const pings = scale(50000, 5000);
  const reader = await rawSocket(node.port, ticketFor(), { localAddress: '127.0.4.2' });
  const deaf = await rawSocket(node.port, ticketFor(), { localAddress: '127.0.4.3' });
  deaf.pause();
  const payload = Buffer.alloc(125, 'p');
  for (let i = 0; i < pings; i++) {
    reader.frame(9, payload);
    deaf.frame(9, payload);
    if (i % 1000 === 0) { await sleep(1); watchPeak(); }
  }
  await publishSeries('flood', 20);
  await assertAllGot(clients, 'flood', 20);
  await until('every pong of the reading flooder', () => reader.frames.filter((f) => f.op === 10).length >= pings,
    60000);
  assert.equal(reader.frames.filter((f) => f.op === 10).length, pings, 'one pong per ping');
  deaf.socket.resume();
  // Cut as a slow consumer (4001) once its pongs pass Comet.MaxQueue, or
  // as idle (4002) once it stops sending, if what it got fit the buffers.
  const code = (await deaf.closed).code;
  assert.ok(code === 4001 || code === 4002, `the deaf flooder: ${code}`);
  assert.ok(peak - baseline.rss < 64 * 2 ** 20, `the node stayed bounded (peak ${peak})`);
  reader.destroy();
});

/** n clients attach, get 50 broadcasts, leave: the steady churn of a day. */
async function churn(tag, n) {
  const cs = [];
  for (let i = 0; i < n; i++) cs.push(nodeClient(node, ['feed'], { index: i, workStyle: ['websocket', 'stream', 'lpool'][i % 3] }));
  await Promise.all(cs.map((c) => c.start()));
  await publishSeries(tag, 50, 512);
  await assertAllGot(cs, tag, 50);
  for (const c of cs) c.stop();
  await until('the churned clients to be gone', () => footprint(node.pid).fds <= baseline.fds, 20000);
  await sleep(700); // the dying period (500 ms), then the ghosts are dropped
  return footprint(node.pid).rss;
}

test('afterwards: open files back to the start; a second round of churn takes no more memory', async () => {
  for (const c of honest.splice(0)) c.stop();
  await until('the node to hold no connection', () => footprint(node.pid).fds <= baseline.fds, 20000);
  const n = scale(600, 60);
  const first = await churn('churn1', n);
  const second = await churn('churn2', n);
  const now = footprint(node.pid);
  const mib = (b) => (b / 2 ** 20).toFixed(1) + ' MiB';
  console.log(`# leak check: fds ${baseline.fds} -> ${now.fds}; RSS at start ${mib(baseline.rss)},` +
    ` peak ${mib(peak)}, after churn ${mib(first)}, after a second churn ${mib(second)}`);
  assert.ok(now.fds <= baseline.fds, `fds ${now.fds} > ${baseline.fds}`);
  assert.ok(second - first <= 4 * 2 ** 20, `the second churn grew RSS by ${second - first} bytes`);
  assert.ok(node.alive(), 'the node lived through it');
});
