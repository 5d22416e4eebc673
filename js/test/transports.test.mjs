// Fallbacks, forced workStyle, resume (since, cId, dedupe, recovered),
// backoff and its switch-off, heartbeats on every transport: the engine
// against the fake server's /ws, /sse, /poll and /cmd.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import JS from '../comet4j.js';
import { startFakeServer, next, sleep, until } from '../testlib/fake-server.mjs';

let srv;
let engines = [];
let warned = [];
const savedWarn = console.warn;
function engine(opts = {}) {
  const e = new JS.CometEngine({ WebSocket, retryMin: 20, retryMax: 60, ...opts });
  engines.push(e);
  return e;
}
beforeEach(async () => {
  srv = await startFakeServer({ v2: true });
  srv.workStyle = 'auto';
  engines = [];
  warned = [];
  console.warn = (...a) => warned.push(a.join(' '));
});
afterEach(async () => {
  console.warn = savedWarn;
  for (const e of engines) e.stop();
  await srv.close();
});

const paths = () => srv.requests.map((r) => r.path);
const sinceOf = (r) => {
  const s = new URLSearchParams(r.query).get('since');
  return s === null ? null : JSON.parse(s);
};

// --- fallback order and forced workStyle ---

test('auto: WebSocket first when it works', async () => {
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, 'websocket');
  assert.deepEqual(paths(), ['/ws']);
});

test('auto: WebSocket refused -> stream, silently (no stop event), same ticket', async () => {
  srv.block.websocket = true;
  const e = engine();
  const stops = [];
  e.on('stop', (c) => stops.push(c));
  e.start(srv.url);
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, 'stream');
  assert.deepEqual(paths(), ['/ws', '/sse']);
  assert.equal(srv.handshakes.length, 1, 'the fallback reuses the handshake');
  assert.deepEqual(stops, []);
  const got = next(e, 'chat');
  srv.broadcast('chat', 'over sse');
  assert.equal((await got)[0], 'over sse');
});

test('auto: WebSocket and stream refused -> lpool; messages arrive in batches', async () => {
  srv.block.websocket = true;
  srv.block.stream = true;
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, 'lpool');
  assert.deepEqual(paths().slice(0, 3), ['/ws', '/sse', '/poll']);
  const got = [];
  e.on('chat', (d) => got.push(d));
  for (let i = 1; i <= 50; i++) srv.broadcast('chat', i);
  await until('50 messages', () => got.length === 50);
  assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i + 1));
});

test('auto: a transport cut before the open frame counts as not opening', async () => {
  srv.sendOpen = false;
  srv.block.stream = true;
  const e = engine({ openTimeout: 2000 });
  e.start(srv.url);
  await until('the socket', () => srv.sockets.length === 1);
  srv.sendOpen = true;
  srv.sockets[0].terminate();   // opened as a socket, never as a connection
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, 'lpool');
});

test('auto: a transport that hangs before the open frame is replaced after openTimeout', async () => {
  srv.block.websocket = true;
  srv.hang.stream = true;
  const e = engine({ openTimeout: 150 });
  e.start(srv.url);
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, 'lpool');
});

test('auto: the fallback sticks for reconnects; all failing starts over with a stop', async () => {
  srv.block.websocket = true;
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, 'stream');
  srv.conns[0].close();
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, 'stream', 'no second try of the WebSocket');
  assert.deepEqual(paths(), ['/ws', '/sse', '/sse']);

  srv.block = { websocket: true, stream: true, lpool: true };
  const stopped = next(e, 'stop');
  srv.conns[0].close();
  assert.equal((await stopped)[0], 'closed:1006');   // the stream was lost
  srv.requests.length = 0;
  assert.equal((await next(e, 'stop'))[0], 'closed:1006');   // stream, then lpool: all failed
  assert.deepEqual(paths(), ['/sse', '/poll']);
  srv.requests.length = 0;
  // The next attempt tries every transport again, WebSocket first.
  assert.equal((await next(e, 'stop'))[0], 'closed:1006');
  assert.deepEqual(paths(), ['/ws', '/sse', '/poll']);
  srv.block = { websocket: false, stream: false, lpool: false };
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, 'websocket');
});

for (const style of ['websocket', 'stream', 'lpool']) {
  test(`forced by the page: workStyle ${style} is the only one tried, even when it fails`, async () => {
    const e = engine();
    e.start(srv.url, undefined, { workStyle: style });
    await next(e, 'start');
    assert.equal(e.getConnector().workStyle, style);
    assert.equal(e.options.workStyle, style);
    const got = next(e, 'clock');
    srv.broadcast('clock', style);
    assert.equal((await got)[0], style);
    srv.block[style] = true;
    srv.requests.length = 0;
    const stopped = next(e, 'stop');
    srv.conns[0].close();
    await stopped;
    await next(e, 'stop');  // the forced transport fails again: no fallback
    assert.ok(paths().every((p) => p === { websocket: '/ws', stream: '/sse', lpool: '/poll' }[style]),
      paths().join());
  });
}

test('forced by the server: the handshake\'s workStyle', async () => {
  srv.workStyle = 'lpool';
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, 'lpool');
  assert.deepEqual(paths().slice(0, 1), ['/poll']);
});

test('the page\'s workStyle wins over the server\'s', async () => {
  srv.workStyle = 'lpool';
  const e = engine({ workStyle: 'stream' });
  e.start(srv.url);
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, 'stream');
});

test('an old server (only endpoints) and no WebSocket in the environment: only what exists', async () => {
  srv.v2 = false;
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, 'websocket');
  srv.v2 = true;
  const noWs = new JS.CometEngine({ WebSocket: null, retryMin: 20, retryMax: 60 });
  engines.push(noWs);
  noWs.start(srv.url);
  await next(noWs, 'start');
  assert.equal(noWs.getConnector().workStyle, 'stream');
});

// --- commands over HTTP, heartbeats ---

test('stream: pings go by POST to cmd as text/plain; the comment lines keep it alive', async () => {
  srv.heartbeat = 60;
  srv.sseBeat = 30;
  const e = engine({ workStyle: 'stream' });
  e.start(srv.url);
  await next(e, 'start');
  await sleep(250);
  assert.ok(srv.frames.filter((f) => f.t === 'ping').length >= 2);
  assert.ok(srv.requests.some((r) => r.path === '/cmd' && /ticket=T\.c1\.1/.test(r.query)));
  assert.match(srv.cmdTypes[0], /^text\/plain/);
  assert.equal(e.running, true);
  // Pongs over /cmd prove the server, not the stream: without comment
  // lines the stream is taken as dead.
  srv.sseBeat = 0;
  assert.equal((await next(e, 'stop', 2000))[0], 'timeout');
});

test('stream: silence for two heartbeats gives "timeout" and a reconnect', async () => {
  srv.heartbeat = 50;
  srv.answerPing = false;
  const e = engine({ workStyle: 'stream' });
  e.start(srv.url);
  await next(e, 'start');
  const t0 = Date.now();
  const [cause] = await next(e, 'stop', 2000);
  assert.equal(cause, 'timeout');
  const took = Date.now() - t0;
  assert.ok(took >= 90 && took < 400, `dead after ${took} ms`);
  await next(e, 'start');
});

test('deadBeats and heartbeat options change when silence counts as dead', async () => {
  srv.heartbeat = 0;   // the server announces none
  srv.answerPing = false;
  const e = engine({ workStyle: 'websocket', heartbeat: 40, deadBeats: 5 });
  e.start(srv.url);
  await next(e, 'start');
  const t0 = Date.now();
  await next(e, 'stop', 2000);
  const took = Date.now() - t0;
  assert.ok(took >= 190 && took < 500, `dead after ${took} ms`);
});

test('lpool: a poll not answered within hold + heartbeat is a lost connection', async () => {
  srv.heartbeat = 100;
  srv.timeout = 400;     // hold = 200 ms
  srv.pollHold = 200;
  const e = engine({ workStyle: 'lpool' });
  e.start(srv.url);
  await next(e, 'start');
  await sleep(600);      // empty polls come and go: alive
  assert.equal(e.running, true);
  assert.ok(srv.requests.filter((r) => r.path === '/poll').length >= 3);
  srv.hang.lpool = true;
  const t0 = Date.now();
  const [cause] = await next(e, 'stop', 2000);
  assert.equal(cause, 'closed:1006');
  const took = Date.now() - t0;
  assert.ok(took < 700, `dead after ${took} ms (hold 200 + heartbeat 100 + one poll)`);
});

test('lpool: no pings are sent (polls are the heartbeat)', async () => {
  srv.heartbeat = 50;
  srv.pollHold = 30;
  const e = engine({ workStyle: 'lpool' });
  e.start(srv.url);
  await next(e, 'start');
  await sleep(200);
  assert.equal(srv.frames.filter((f) => f.t === 'ping').length, 0);
  assert.equal(e.running, true);
});

// --- resume ---

for (const style of ['websocket', 'stream', 'lpool']) {
  test(`${style}: reconnect passes cId and since; missed messages replay in order, then recovered:true`, async () => {
    const e = engine({ workStyle: style });
    const got = [];
    const recovered = [];
    e.on('chat', (d) => got.push(d));
    e.on('clock', (d) => got.push('clock ' + d));
    e.on('recovered', (ok, ch, self) => { recovered.push([ok, ch]); assert.equal(self, e); });
    e.start(srv.url);
    await next(e, 'start');
    assert.equal(sinceOf(srv.requests[0]), null, 'nothing to resume on the first attach');
    srv.broadcast('chat', 1);
    srv.broadcast('chat', 2);
    srv.broadcast('clock', 'a');
    srv.send('chat', 'v1 frame');   // no e/o: delivered, no position
    await until('4 messages', () => got.length === 4);

    srv.block[style] = true;
    const stopped = next(e, 'stop');
    srv.conns[0].close();
    await stopped;
    srv.broadcast('chat', 3);   // nobody attached
    srv.broadcast('chat', 4);
    srv.block[style] = false;
    srv.requests.length = 0;
    await next(e, 'start');
    assert.match(srv.handshakes.at(-1), /[?&]cId=c1(&|$)/);
    const attach = srv.requests.find((r) => r.path !== '/cmd');
    assert.deepEqual(sinceOf(attach), { chat: ['Echat', 2], clock: ['Eclock', 1] });
    await until('recovered', () => recovered.length === 2);
    assert.deepEqual(got, [1, 2, 'clock a', 'v1 frame', 3, 4]);
    assert.deepEqual(recovered.sort(), [[true, 'chat'], [true, 'clock']]);
  });
}

for (const style of ['websocket', 'stream', 'lpool']) {
  test(`${style}: a page cut before its first message resumes from the open frame's pos`, async () => {
    srv.broadcast('chat', 'before the page');   // chat now stands at 1
    const e = engine({ workStyle: style });
    const got = [];
    e.on('chat', (d) => got.push(d));
    e.start(srv.url);
    await next(e, 'start');
    srv.block[style] = true;
    const stopped = next(e, 'stop');
    srv.conns[0].close();
    await stopped;
    srv.broadcast('chat', 'while away');
    srv.block[style] = false;
    srv.requests.length = 0;
    await next(e, 'start');
    const attach = srv.requests.find((r) => r.path !== '/cmd');
    assert.deepEqual(sinceOf(attach), { chat: ['Echat', 1] });
    await until('the missed line', () => got.length === 1);
    assert.deepEqual(got, ['while away']);
  });
}

test('dedupe: a frame at or below the last offset of its epoch is dropped', async () => {
  const e = engine();
  const got = [];
  e.on('chat', (d) => got.push(d));
  e.start(srv.url);
  await next(e, 'start');
  const f1 = srv.broadcast('chat', 'one');
  const f2 = srv.broadcast('chat', 'two');
  srv.frame(f1);                          // resent
  srv.frame({ ...f2, data: 'two again' }); // same offset
  srv.frame({ ...f1, e: 'Other', data: 'other epoch' });  // a new epoch starts over
  srv.frame({ ...f1, e: 'Other', data: 'other epoch dup' });
  srv.broadcast('chat', 'three');          // back on Echat, offset 3
  await until('3+ messages', () => got.length >= 4);
  await sleep(30);
  assert.deepEqual(got, ['one', 'two', 'other epoch', 'three']);
});

test('dedupe: a message id ("u") seen once is not delivered again, its offset is kept', async () => {
  const e = engine();
  const got = [];
  e.on('chat', (d) => got.push(d));
  e.start(srv.url);
  await next(e, 'start');
  srv.broadcast('chat', 'before');                       // Echat 1
  srv.frame({ t: 'msg', ch: 'chat', u: 'N.1', data: 'cut off', time: 1 });
  srv.frame({ t: 'msg', ch: 'chat', u: 'N.2', data: 'cut off 2', time: 1 });
  // Later the same two with offsets (the node's link came back), then new.
  srv.frame({ t: 'msg', ch: 'chat', u: 'N.1', e: 'Echat', o: 2, data: 'cut off', time: 1 });
  srv.frame({ t: 'msg', ch: 'chat', u: 'N.2', e: 'Echat', o: 3, data: 'cut off 2', time: 1 });
  srv.frame({ t: 'msg', ch: 'chat', e: 'Echat', o: 4, data: 'after', time: 1 });
  await until('4 messages', () => got.length >= 4);
  await sleep(30);
  assert.deepEqual(got, ['before', 'cut off', 'cut off 2', 'after']);
  // The position went on with the copies: a reconnect asks from 4.
  srv.requests.length = 0;
  srv.conns[0].close();
  await next(e, 'start');
  const attach = srv.requests.find((r) => r.path !== '/cmd');
  assert.deepEqual(sinceOf(attach), { chat: ['Echat', 4] });
});

test('recovered:false reaches the page; a new epoch after it is delivered', async () => {
  srv.historySize = 2;
  const e = engine();
  const got = [];
  e.on('chat', (d) => got.push(d));
  e.start(srv.url);
  await next(e, 'start');
  srv.broadcast('chat', 1);
  await until('1', () => got.length === 1);
  srv.block.websocket = true;
  srv.block.stream = true;   // it goes on over lpool
  srv.conns[0].close();
  for (let i = 2; i <= 6; i++) srv.broadcast('chat', i);   // 2..4 fall out of the ring
  const [ok, ch] = await next(e, 'recovered');
  assert.deepEqual([ok, ch], [false, 'chat']);
  assert.equal(e.getConnector().workStyle, 'lpool');
  srv.restartHistory('chat');
  srv.broadcast('chat', 'after restart');
  await until('after restart', () => got.includes('after restart'));
  assert.deepEqual(got, [1, 'after restart']);
});

test('a live recovered:false with lost reaches the page with the count; messages go on', async () => {
  const e = engine();
  const got = [];
  e.on('chat', (d) => got.push(d));
  e.start(srv.url);
  await next(e, 'start');
  srv.broadcast('chat', 1);
  await until('1', () => got.length === 1);
  // A node cut off from Redis longer than its bounds keep tells its pages.
  srv.frame({ t: 'recovered', ch: 'chat', recovered: false, lost: 1234 });
  const [ok, ch, self, lost] = await next(e, 'recovered');
  assert.deepEqual([ok, ch, lost], [false, 'chat', 1234]);
  assert.equal(self, e);
  srv.broadcast('chat', 2);
  await until('2', () => got.length === 2);
  assert.deepEqual(got, [1, 2]);
});

test('a start() after stop() is a new session: no cId, no since', async () => {
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  srv.broadcast('chat', 1);
  await next(e, 'chat');
  e.stop();
  srv.requests.length = 0;
  e.start(srv.url);
  await next(e, 'start');
  assert.doesNotMatch(srv.handshakes.at(-1), /cId=/);
  assert.equal(sinceOf(srv.requests[0]), null);
});

test('a revived connection keeps its id', async () => {
  srv.revive = true;
  const e = engine();
  e.start(srv.url);
  const [first] = await next(e, 'start');
  srv.conns[0].close();
  const [again] = await next(e, 'start');
  assert.equal(again, first);
  assert.equal(e.getId(), first);
});

// --- backoff ---

test('backoff: full jitter in [0, min(retryMax, retryMin * 2^n)]', () => {
  const e = new JS.CometEngine({ retryMin: 100, retryMax: 1000 });
  const saved = Math.random;
  try {
    Math.random = () => 0;
    assert.equal(e._retryDelay(0), 0);
    Math.random = () => 0.999999;
    assert.deepEqual([0, 1, 2, 3, 4, 10, 60, 1e6].map((n) => e._retryDelay(n)),
      [99, 199, 399, 799, 999, 999, 999, 999]);
  } finally {
    Math.random = saved;
  }
  for (let i = 0; i < 1000; i++) {
    const n = i % 8;
    const d = e._retryDelay(n);
    assert.ok(d >= 0 && d < Math.min(1000, 100 * 2 ** n), `${n}: ${d}`);
  }
});

test('backoff: delays between consecutive failed handshakes grow and stay capped', async () => {
  srv.handshake = () => ({ status: 500 });
  const e = engine({ retryMin: 10, retryMax: 80 });
  const at = [];
  e.on('stop', () => at.push(Date.now()));
  e.start(srv.url);
  await sleep(900);
  e.stop();
  const gaps = at.slice(1, -1).map((t, i) => t - at[i]);
  assert.ok(gaps.length >= 8, `${gaps.length} retries`);
  assert.ok(gaps.every((g) => g < 80 + 40), gaps.join());   // cap + scheduling slack
});

test('autoReconnect = false: a lost connection stays stopped', async () => {
  const e = engine();
  e.autoReconnect = false;
  e.start(srv.url);
  await next(e, 'start');
  const stopped = next(e, 'stop');
  srv.conns[0].close();
  assert.equal((await stopped)[0], 'closed:1006');
  await sleep(200);
  assert.equal(srv.handshakes.length, 1);
  assert.equal(e.running, false);
  // The page can still start it by hand; switched on again, it reconnects.
  e.autoReconnect = true;
  e.start(srv.url);
  await next(e, 'start');
  srv.conns[0].close();
  await next(e, 'start');
  assert.equal(srv.handshakes.length, 3);
});

test('autoReconnect = false also stops retrying a failed handshake', async () => {
  srv.handshake = () => ({ status: 500 });
  const e = engine();
  e.autoReconnect = false;
  e.start(srv.url);
  assert.equal((await next(e, 'stop'))[0], 'http:500');
  await sleep(150);
  assert.equal(srv.handshakes.length, 1);
});

test('the global engine takes options and autoReconnect like any engine', () => {
  assert.equal(JS.Engine.autoReconnect, true);
  assert.equal(JS.Engine.options.workStyle, 'auto');
  assert.deepEqual(JS.FALLBACK_ORDER, ['websocket', 'stream', 'lpool']);
  for (const ws of JS.FALLBACK_ORDER) assert.equal(JS.Transports[ws].workStyle, ws);
});

// The core continues a long-poll connection parked between two polls
// without an open frame; a page that lost its poll there and comes back
// to the same id must take the first answer as the open.
test('lpool: back to the connection the server kept, without an open frame: opens, no loss', async () => {
  srv.revive = true;
  const e = engine({ workStyle: 'lpool' });
  e.start(srv.url);
  const [cId] = await next(e, 'start');
  const first = srv.broadcast('clock', 'a');
  await next(e, 'clock');
  srv.sendOpen = false;             // what the core does for a parked id
  const started = next(e, 'start');
  const got = [];
  e.on('clock', (d) => got.push(d));
  e._cut();                         // the page's poll is lost
  srv.broadcast('clock', 'b');
  srv.broadcast('clock', 'c');
  assert.equal((await started)[0], cId);
  await until('b and c', () => got.length >= 2);
  await sleep(100);
  assert.deepEqual(got, ['b', 'c'], 'replayed from since once, not again and again');
  assert.equal(first.o + 2, e._subs.get('clock').offset);
  const polls = srv.requests.filter((r) => r.path === '/poll').length;
  await sleep(200);
  assert.ok(srv.requests.filter((r) => r.path === '/poll').length - polls < 5, 'no poll spin');
});

test('lpool: a new connection that sends no open frame still times out', async () => {
  srv.sendOpen = false;
  const e = engine({ workStyle: 'lpool', openTimeout: 150 });
  const stopped = next(e, 'stop');
  e.start(srv.url);
  await until('attached', () => srv.conns.length === 1);
  srv.send('clock', 'early');
  assert.equal((await stopped)[0], 'timeout');
});

test('websocket: closed while still connecting (a server that never answers the upgrade), nothing is thrown later', async () => {
  const net = await import('node:net');
  const silent = net.createServer(() => {});
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  const uncaught = [];
  const seen = (err) => uncaught.push(err);
  process.on('uncaughtException', seen);
  try {
    const t = new JS.Transports.websocket({ onFrame() {}, onAlive() {}, onClose() {} },
      { WebSocket });
    t.open({ endpoint: 'ws://127.0.0.1:' + silent.address().port + '/ws', cmd: '' }, 'T', '');
    await sleep(50);
    t.close();
    await sleep(200);
    assert.equal(t.closed, true);
    assert.deepEqual(uncaught.map(String), []);
  } finally {
    process.off('uncaughtException', seen);
    silent.close();
  }
});
