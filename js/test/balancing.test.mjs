// Balancing: several nodes in the handshake's lists, picked at random;
// after a failure another node; a normal close stays; {workerIndex} with a
// workers count; the cmd URL on the node of the stream or poll; the page's
// endpoints and workers options. A fake server answers the handshakes (the
// "Tomcat") and lists other fake servers (the nodes).
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import JS from '../comet4j.js';
import { startFakeServer, next } from '../testlib/fake-server.mjs';

let hub;
let nodes = [];
let engines = [];
let warned = [];
const savedWarn = console.warn;
function engine(opts = {}) {
  const e = new JS.CometEngine({ WebSocket, retryMin: 20, retryMax: 60, ...opts });
  engines.push(e);
  return e;
}
async function startNodes(n) {
  for (let i = 0; i < n; i++) nodes.push(await startFakeServer({ v2: true }));
  hub.nodes = nodes.map((s) => s.base);
}
beforeEach(async () => {
  hub = await startFakeServer({ v2: true });
  hub.workStyle = 'auto';
  nodes = [];
  engines = [];
  warned = [];
  console.warn = (...a) => warned.push(a.join(' '));
});
afterEach(async () => {
  console.warn = savedWarn;
  for (const e of engines) e.stop();
  for (const s of nodes) await s.close().catch(() => {});
  await hub.close();
});

// The index of the node that holds the engine's connection (-1: none).
const nodeOf = (e) => nodes.findIndex((s) => s.conns.some((c) => c.cId === e.getId()));
const count = (s, path) => s.requests.filter((r) => r.path === path).length;
const ticketOf = (r) => new URLSearchParams(r.query).get('ticket');

// Starts e, waits for 'start', returns the node it is on, and stops it.
async function startStop(e, options) {
  const started = next(e, 'start');
  e.start(hub.url, undefined, options);
  await started;
  const i = nodeOf(e);
  e.stop();
  return i;
}

test('the picks are spread: over 40 starts both nodes are used', async () => {
  await startNodes(2);
  const e = engine();
  const used = [0, 0];
  for (let k = 0; k < 40; k++) used[await startStop(e)]++;
  assert.ok(used[0] >= 5 && used[1] >= 5, `attaches per node: ${used}`);
  assert.equal(count(nodes[0], '/ws') + count(nodes[1], '/ws'), 40);
  assert.equal(count(hub, '/ws'), 0, 'the handshake server is not a node here');
});

test('a node that refuses the attach: the next try is the other node, still over WebSocket', async () => {
  await startNodes(2);
  nodes[0].block.websocket = true;
  const e = engine();
  const stops = [];
  e.on('stop', (c) => stops.push(c));
  for (let k = 0; k < 20; k++) {
    assert.equal(await startStop(e), 1);
    assert.equal(e.options.workStyle, 'auto');
  }
  assert.ok(count(nodes[0], '/ws') > 0, 'node 0 was tried');
  assert.equal(count(nodes[0], '/sse') + count(nodes[1], '/sse'), 0,
    'a refusal on one node does not give up the WebSocket');
  assert.equal(count(nodes[1], '/ws'), 20);
  assert.deepEqual(stops, Array(20).fill('stop'), 'the failed tries are silent');
});

test('killed nodes: the page goes straight to one still alive and messages flow there', async () => {
  await startNodes(3);
  const e = engine();
  e.start(hub.url);
  await next(e, 'start');
  const dead = [];
  for (let round = 0; round < 2; round++) {
    const was = nodeOf(e);
    assert.ok(was >= 0 && !dead.includes(was));
    const stopped = next(e, 'stop');
    const started = next(e, 'start');
    await nodes[was].close();
    dead.push(was);
    assert.equal((await stopped)[0], 'closed:1006');
    await started;
    const now = nodeOf(e);
    assert.ok(now >= 0 && !dead.includes(now), `on node ${now} after ${dead} died`);
    // As with a hub: every live node delivers it, with the same offset.
    const got = next(e, 'chat');
    nodes.forEach((s, i) => { if (!dead.includes(i)) s.broadcast('chat', 'round ' + round); });
    assert.equal((await got)[0], 'round ' + round);
  }
  assert.deepEqual(warned.filter((w) => /did not open/.test(w)), [],
    'no attempt on a node that just died');
});

test('a lost connection moves to another node; a normal close comes back to the same one', async () => {
  await startNodes(3);
  const e = engine();
  e.start(hub.url);
  await next(e, 'start');
  for (let round = 0; round < 8; round++) {
    const was = nodeOf(e);
    const stopped = next(e, 'stop');
    const started = next(e, 'start');
    const ws = nodes[was].sockets.find((s) => s.cId === e.getId());
    if (round % 2) ws.close(1001, 'going away');
    else ws.terminate();
    assert.equal((await stopped)[0], round % 2 ? 'closed:1001' : 'closed:1006');
    await started;
    assert.notEqual(nodeOf(e), was, `round ${round}`);
  }
  // A new start forgets the nodes that failed: all three are choices.
  e.stop();
  e.start(hub.url);
  await next(e, 'start');
  for (let round = 0; round < 6; round++) {
    const was = nodeOf(e);
    const stopped = next(e, 'stop');
    const started = next(e, 'start');
    nodes[was].sockets.find((s) => s.cId === e.getId()).close(4002, 'idle');
    assert.equal((await stopped)[0], 'closed:4002');
    await started;
    assert.equal(nodeOf(e), was, `round ${round}`);
  }
});

// Three fake servers on the ports <prefix>0, <prefix>1, <prefix>2.
async function startWorkerNodes() {
  for (let tries = 0; tries < 50; tries++) {
    const prefix = 2000 + Math.floor(Math.random() * 4000);
    const got = [];
    try {
      for (let w = 0; w < 3; w++) got.push(await startFakeServer({ v2: true, port: prefix * 10 + w }));
      nodes = got;
      return prefix;
    } catch (err) {
      for (const s of got) await s.close();
    }
  }
  throw new Error('no three consecutive free ports');
}

test('{workerIndex} with workers: 3 stands for three ports, each of them used', async () => {
  const prefix = await startWorkerNodes();
  hub.nodes = [`http://127.0.0.1:${prefix}{workerIndex}`];
  hub.workers = 3;
  const e = engine();
  const used = [0, 0, 0];
  for (let k = 0; k < 30; k++) used[await startStop(e)]++;
  assert.ok(used.every((n) => n > 0), `attaches per port: ${used}`);
  assert.equal(used.reduce((a, b) => a + b), 30);

  // The page's workers option wins over the handshake's.
  const two = [0, 0, 0];
  for (let k = 0; k < 20; k++) two[await startStop(e, { workers: 2 })]++;
  assert.ok(two[0] > 0 && two[1] > 0 && two[2] === 0, `with workers: 2: ${two}`);

  // Without a count, the pattern stands for worker 0.
  hub.workers = 0;
  const one = [0, 0, 0];
  for (let k = 0; k < 8; k++) one[await startStop(e, { workers: undefined })]++;
  assert.deepEqual(one, [8, 0, 0]);
});

for (const style of ['stream', 'lpool']) {
  test(`${style}: the cmd URL is always on the node of the ${style === 'lpool' ? 'poll' : 'stream'}`, async () => {
    await startNodes(3);
    nodes[0].block[style] = true;   // node 0 refuses: the retry is on another
    const e = engine({ workStyle: style, requestTimeout: 2000 });
    for (let k = 0; k < 12; k++) {
      const started = next(e, 'start');
      e.start(hub.url);
      await started;
      await e.subscribe('room');   // a POST /cmd, answered over the connection
      e.stop();
    }
    const attach = style === 'lpool' ? '/poll' : '/sse';
    let cmds = 0;
    for (const s of nodes) {
      const mine = new Set(s.requests.filter((r) => r.path === attach).map(ticketOf));
      for (const r of s.requests.filter((r) => r.path === '/cmd')) {
        cmds++;
        assert.ok(mine.has(ticketOf(r)), `a /cmd for another node's connection on ${s.base}`);
      }
    }
    assert.equal(cmds, 12);
    assert.equal(count(nodes[0], '/cmd'), 0);
  });
}

test('the page\'s endpoints option: lists derived as the servlet does, used instead of the handshake\'s', async () => {
  await startNodes(2);
  hub.nodes = null;   // the handshake lists only the hub itself
  const e = engine({
    workStyle: 'lpool',
    endpoints: [nodes[0].base.replace('http:', 'ws:') + '/ws', nodes[1].base.replace('http:', 'ws:') + '/'],
  });
  const used = [0, 0];
  for (let k = 0; k < 16; k++) {
    const started = next(e, 'start');
    e.start(hub.url);
    await started;
    used[nodeOf(e)]++;
    await e.subscribe('room');
    e.stop();
  }
  assert.ok(used[0] > 0 && used[1] > 0, `attaches per node: ${used}`);
  assert.equal(hub.requests.length, 0, 'nothing went to the handshake\'s own URLs');
  assert.equal(count(nodes[0], '/cmd') + count(nodes[1], '/cmd'), 16);
});
