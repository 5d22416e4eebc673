// JS.Connector, Comet4J's connector, over the engine, against the fake
// server (testlib/fake-server.mjs): used alone (its events, arguments and
// order, revival, retryCount, vetoes, drop), as the engine's own
// connector, and the engine's Comet4J listener methods.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import JS from '../comet4j.js';
import { startFakeServer, next, sleep, until } from '../testlib/fake-server.mjs';

const EVENTS = ['beforeConnect', 'connect', 'revival', 'message', 'beforeStop', 'stop',
  'recovered', 'join', 'leave'];
let srv;
let made = [];
function connector(config = {}) {
  const c = new JS.Connector({ url: srv.url, WebSocket, retryDelay: 20, ...config });
  made.push(c);
  return c;
}
// Every event of c as [name, ...arguments], the last argument (the
// connector) checked and left out.
function record(c) {
  const log = [];
  for (const name of EVENTS) {
    c.on(name, function (...args) {
      assert.equal(args.at(-1), c, `${name}: the connector is the last argument`);
      assert.equal(this, c, `${name}: this is the connector`);
      log.push([name, ...args.slice(0, -1)]);
    });
  }
  return log;
}
const names = (log) => log.map((e) => e[0]);
const quiet = (fn) => async () => {
  const saved = console.warn;
  console.warn = () => {};
  try { await fn(); } finally { console.warn = saved; }
};

beforeEach(async () => { srv = await startFakeServer({ v2: true }); made = []; });
afterEach(async () => {
  for (const c of made) c.stop();
  await srv.close();
});

test('alone: beforeConnect, connect, message, beforeStop, stop, with their arguments', async () => {
  const c = connector({ param: 'user=ann' });
  const log = record(c);
  c.start();
  assert.equal(c.running, true, 'running from start(), as in Comet4J');
  assert.deepEqual(log, [['beforeConnect', srv.url]]);
  await next(c, 'connect');
  assert.deepEqual(log[1], ['connect', 'c1', ['clock', 'chat'], 'websocket', 60000]);
  assert.deepEqual([c.cId, c.getId(), c.channels, c.workStyle], ['c1', 'c1', ['clock', 'chat'],
    'websocket']);
  assert.equal(srv.handshakes[0], '?cmd=conn&user=ann');
  srv.send('clock', { now: '12:00' }, 1234);
  srv.send('chat', 'hi', 1235);
  await until('two messages', () => log.length === 4);
  assert.deepEqual(log.slice(2), [['message', 'clock', { now: '12:00' }, 1234],
    ['message', 'chat', 'hi', 1235]]);
  c.stop('bye');
  assert.deepEqual(log.slice(4), [['beforeStop', 'bye', 'c1', srv.url],
    ['stop', 'bye', 'c1', srv.url]]);
  assert.deepEqual([c.running, c.cId, c.channels, c.workStyle], [false, '', [], '']);
  c.stop('again');
  assert.equal(log.length, 6, 'a second stop() is silent');
  assert.deepEqual(srv.drops, [], 'a WebSocket needs no drop request');
  // start(url, param) as Comet4J: both given, or the last ones kept.
  c.start(srv.url, 'room=7');
  await next(c, 'connect');
  assert.equal(srv.handshakes[1], '?cmd=conn&room=7');
  c.stop();
  assert.deepEqual(log.at(-1), ['stop', 'stop', 'c2', srv.url], "no cause: 'stop'");
});

for (const workStyle of ['websocket', 'stream', 'lpool']) {
  test(`alone over ${workStyle}: the connect event names it; a message arrives`, async () => {
    const c = connector({ workStyle });
    const log = record(c);
    assert.equal(c.workStyle, workStyle, 'the config, until start');
    c.start();
    assert.equal(c.workStyle, '', 'valid once connected, as in Comet4J');
    const [cId, , ws, timeout] = await next(c, 'connect');
    assert.deepEqual([cId, ws, timeout, c.workStyle], ['c1', workStyle, 60000, workStyle]);
    srv.send('clock', 'tick', 5);
    await until('the message', () => log.some((e) => e[0] === 'message'));
    assert.deepEqual(log.find((e) => e[0] === 'message'), ['message', 'clock', 'tick', 5]);
    if (workStyle === 'lpool') {
      // Every poll after the first is a revival request, as Comet4J's were.
      await until('a revival', () => log.some((e) => e[0] === 'revival'));
      assert.deepEqual(log.find((e) => e[0] === 'revival'), ['revival', srv.url, 'c1']);
    } else {
      await sleep(400);
      assert.equal(names(log).includes('revival'), false);
    }
    c.stop('done');
    if (workStyle === 'websocket') {
      assert.deepEqual(srv.drops, []);
    } else {
      await until('the drop request', () => srv.drops.length === 1);
      assert.equal(srv.drops[0], '?cmd=drop&cid=c1');
    }
  });
}

test('alone: a cut the server revives is a revival (same cId), not a stop', async () => {
  srv.revive = true;
  const c = connector();
  const log = record(c);
  c.start();
  await next(c, 'connect');
  srv.sockets[0].terminate();   // the network drops
  await next(c, 'revival');
  c._xhr.abort();               // Comet4J's "force disconnect"
  await next(c, 'revival');
  assert.deepEqual(names(log), ['beforeConnect', 'connect', 'revival', 'revival']);
  assert.deepEqual(log[2], ['revival', srv.url, 'c1']);
  assert.equal(c.running, true);
  assert.equal(c.currRetry, 0, 'reset once connected again');
  assert.equal(srv.handshakes[1], '?cmd=conn&cId=c1');
  srv.send('chat', 'after');
  assert.deepEqual((await next(c, 'message')).slice(0, 2), ['chat', 'after']);
});

test('alone: a reconnect that gets a new connection id is a new connect', async () => {
  const c = connector();
  const log = record(c);
  c.start();
  await next(c, 'connect');
  srv.sockets[0].close(1011);
  const [cId] = await next(c, 'connect');
  assert.equal(cId, 'c2');
  assert.equal(c.cId, 'c2');
  assert.deepEqual(names(log), ['beforeConnect', 'connect', 'connect']);
});

test('alone: gives up after retryCount failed tries, with the last cause', quiet(async () => {
  const c = connector({ retryCount: 2 });
  const log = record(c);
  c.start();
  await next(c, 'connect');
  srv.handshake = () => ({ status: 500 });
  srv.sockets[0].terminate();
  const [cause, cId, url] = await next(c, 'stop', 5000);
  assert.deepEqual([cause, cId, url], ['http:500', 'c1', srv.url]);
  assert.equal(c.currRetry, 3);
  assert.equal(srv.handshakes.length, 3, 'the first, then two retries');
  assert.deepEqual(names(log), ['beforeConnect', 'connect', 'beforeStop', 'stop']);
  assert.deepEqual(log[2], ['beforeStop', 'http:500', 'c1', srv.url]);
  assert.equal(c.running, false);
  await sleep(200);
  assert.equal(srv.handshakes.length, 3, 'stopped for good');
}));

test('alone: beforeConnect false: no start; beforeStop false: keeps going', async () => {
  const c = connector();
  let allow = false;
  c.on('beforeConnect', () => allow);
  c.start();
  assert.equal(c.running, false);
  await sleep(50);
  assert.equal(srv.handshakes.length, 0);
  allow = true;
  c.start();
  await next(c, 'connect');
  let stopping = false;
  c.on('beforeStop', () => stopping);
  c.stop('no');
  assert.equal(c.running, true);
  srv.send('clock', 'still here');
  assert.equal((await next(c, 'message'))[1], 'still here');
  stopping = true;
  const stopped = next(c, 'stop');
  c.stop('yes');
  assert.equal((await stopped)[0], 'yes');
});

test('alone: a giving up that beforeStop refuses goes on retrying', quiet(async () => {
  srv.revive = true;
  const c = connector({ retryCount: 0 });
  let refused = 0;
  const veto = () => { refused++; return false; };
  c.on('beforeStop', veto);
  c.start();
  await next(c, 'connect');
  srv.sockets[0].terminate();
  await next(c, 'revival');
  assert.equal(refused, 1);
  assert.equal(c.running, true);
  c.un('beforeStop', veto);
}));

test('alone: refused by the server: beforeStop, then stop "refused", no retry', async () => {
  srv.handshake = () => ({ status: 403 });
  const c = connector();
  const log = record(c);
  c.on('beforeStop', () => false);   // the server decided: not heard
  c.start();
  await next(c, 'stop');
  assert.deepEqual(log.slice(1), [['beforeStop', 'refused', '', srv.url],
    ['stop', 'refused', '', srv.url]]);
  await sleep(150);
  assert.equal(srv.handshakes.length, 1);
  assert.equal(c.running, false);
});

test('alone: the page goes away on lpool: the drop goes by sendBeacon', async () => {
  const listeners = {};
  const beacons = [];
  const saved = [globalThis.addEventListener, Object.getOwnPropertyDescriptor(globalThis, 'navigator')];
  globalThis.addEventListener = (name, fn) => { listeners[name] = fn; };
  Object.defineProperty(globalThis, 'navigator', { configurable: true,
    value: { userAgent: 'test', sendBeacon: (url) => { beacons.push(url); return true; } } });
  try {
    const c = connector({ workStyle: 'lpool', param: { u: 'a b' } });
    assert.equal(typeof listeners.pagehide, 'function');
    c.start();
    await next(c, 'connect');
    listeners.pagehide();
    assert.deepEqual(beacons, [srv.url + '?cmd=drop&cid=c1&u=a%20b']);
  } finally {
    globalThis.addEventListener = saved[0];
    if (saved[1]) Object.defineProperty(globalThis, 'navigator', saved[1]);
    else delete globalThis.navigator;
  }
});

test('alone: listeners in the config; presence, recovered; commands over it', async () => {
  const joined = [];
  const c = connector({ listeners: { join: (...a) => joined.push(a.slice(0, 3)) } });
  c.start();
  await next(c, 'connect');
  srv.presence('join', 'chat', 'cX', 'alice');
  await until('join', () => joined.length === 1);
  assert.deepEqual(joined, [['chat', 'alice', 'cX']]);
  srv.frame({ t: 'recovered', ch: 'clock', recovered: false });
  assert.deepEqual((await next(c, 'recovered')).slice(0, 2), [false, 'clock']);
  srv.frame({ t: 'recovered', ch: 'clock', recovered: false, lost: 7 });
  const r = await next(c, 'recovered');
  assert.deepEqual([r[0], r[1], r[2] === c, r[3]], [false, 'clock', true, 7]);
  await c.subscribe('room');
  assert.deepEqual(srv.subs.c1, ['room']);
  srv.routes.sum = (p) => p.a + p.b;
  assert.equal(await c.request('sum', { a: 1, b: 2 }), 3);
});

test('alone: the engine options of its config reach its engine', () => {
  const c = connector({ retryDelay: 300, heartbeat: 1234, workStyle: 'stream' });
  c.start();
  const o = c._engine.options;
  assert.deepEqual([o.retryMin, o.heartbeat, o.workStyle, o.WebSocket], [300, 1234, 'stream',
    WebSocket]);
  assert.notEqual(c._engine, JS.Engine);
  assert.throws(() => new JS.Connector().start(), /url/);
});

// --- the engine's own connector ---

test("the engine's connector: Comet4J's connector events over the engine", async () => {
  srv.revive = true;
  const e = new JS.CometEngine({ WebSocket, retryMin: 20, retryMax: 60 });
  made.push(e);
  const conn = e.getConnector();
  assert.ok(conn instanceof JS.Connector);
  const log = record(conn);
  const order = [];
  conn.on('connect', () => order.push('connect'));
  e.on('start', () => order.push('start'));
  e.start(srv.url);
  await next(e, 'start');
  assert.deepEqual(order, ['connect', 'start'], "the connector's first, as in Comet4J");
  assert.deepEqual(log, [['beforeConnect', srv.url],
    ['connect', 'c1', ['clock', 'chat'], 'websocket', 60000]]);
  srv.send('clock', 't', 9);
  await next(conn, 'message');
  assert.deepEqual(log[2], ['message', 'clock', 't', 9]);
  srv.sockets[0].terminate();
  await next(conn, 'revival');
  assert.deepEqual(log[3], ['revival', srv.url, 'c1']);
  assert.equal(names(log).includes('stop'), false, 'the engine reconnects: no connector stop');
  conn.stop('from the connector');
  assert.equal(e.running, false);
  assert.deepEqual(log.slice(4), [['beforeStop', 'from the connector', 'c1', srv.url],
    ['stop', 'from the connector', 'c1', srv.url]]);
  conn.start(srv.url);
  await next(e, 'start');
  assert.equal(e.running, true);
});

test("the engine's connector can veto the engine's start and stop", async () => {
  const e = new JS.CometEngine({ WebSocket });
  made.push(e);
  const conn = e.getConnector();
  conn.on('beforeConnect', () => false);
  e.start(srv.url);
  await sleep(50);
  assert.equal(srv.handshakes.length, 0);
  conn.un('beforeConnect');
  e.start(srv.url);
  await next(e, 'start');
  const veto = () => false;
  conn.on('beforeStop', veto);
  e.stop('no');
  assert.equal(e.running, true);
  conn.un('beforeStop', veto);
  e.stop('yes');
  assert.equal(e.running, false);
});

test('JS.Engine and its connector keep today’s fields and engine events', async () => {
  const e = new JS.CometEngine({ WebSocket });
  made.push(e);
  const conn = e.getConnector();
  assert.deepEqual([conn.url, conn.cId, conn.workStyle, conn.running, conn.param],
    ['', '', '', false, '']);
  e.start(srv.url, { a: 1 });
  const [cId, channels, self] = await next(e, 'start');
  assert.deepEqual([cId, channels, self], ['c1', ['clock', 'chat'], e]);
  assert.deepEqual([conn.url, conn.cId, conn.workStyle, conn.running, conn.param],
    [srv.url, 'c1', 'websocket', true, 'a=1']);
  const stopped = next(e, 'stop');
  e.stop('x');
  assert.deepEqual(await stopped, ['x', 'c1', srv.url, e]);
  assert.equal(conn.running, false);
});

// --- the engine's Comet4J listener methods ---

test("the engine's on(name, fn, scope), on(map, scope), addListeners, fireEvent", () => {
  const e = new JS.CometEngine();
  const scope = { s: 1 };
  const seen = [];
  e.on('a', function (x) { seen.push([this, x]); }, scope);
  e.on({ b() { seen.push([this, 'b']); } }, scope);
  e.on({ c() { seen.push([this, 'c']); } }, null, scope);
  e.addListeners({ d() { seen.push([this, 'd']); } }, scope);
  e.fire('a', 1); e.fire('b'); e.fire('c'); e.fire('d');
  assert.deepEqual(seen, [[scope, 1], [scope, 'b'], [scope, 'c'], [scope, 'd']]);
  // Names are exact on the engine (channel names), unlike an Observable's.
  let n = 0;
  e.on('Clock', () => n++);
  e.fire('clock');
  assert.equal(n, 0);
  // fireEvent: false stops the rest and is answered; undefined for no listener.
  const got = [];
  e.on('x', () => { got.push(1); return false; });
  e.on('x', () => got.push(2));
  assert.equal(e.fireEvent('x'), false);
  assert.deepEqual(got, [1]);
  e.fire('x');
  assert.deepEqual(got, [1, 1, 2], 'the engine\'s own firing runs them all');
  assert.equal(e.fireEvent('none'), undefined);
  assert.equal(e.fireEvent('a', 2), true);
  // Channel names that are Object.prototype's are channels like others.
  e.on('constructor', () => n++);
  e.on('toString', () => n++);
  e.fire('constructor');
  e.fire('toString');
  assert.equal(n, 2);
});

test("the engine's addEvent(s), hasEvent, hasListener, removeEvent(s), clear*", async () => {
  const e = new JS.CometEngine({ WebSocket });
  made.push(e);
  const f = () => {};
  e.on('a', f);
  assert.deepEqual([e.hasListener('a', f), e.hasListener('a', () => {}), e.hasEvent('a')],
    [true, false, true]);
  e.addEvents(['b', 'c']);
  e.addEvent('d');
  assert.deepEqual(['b', 'c', 'd', 'e'].map((x) => e.hasEvent(x)), [true, true, true, false]);
  e.removeEvent('a');
  e.removeEvents(['b', 'c']);
  assert.deepEqual(['a', 'b', 'c'].map((x) => e.hasEvent(x)), [false, false, false]);
  e.on('g', f);
  e.clearListeners();
  assert.equal(e.hasListener('g', f), false);
  assert.equal(e.hasEvent('d'), true);
  e.clearEvents();
  assert.equal(e.hasEvent('d'), false);
  e.suspendEvents();
  e.resumeEvents();
  // Once open, its channels are declared events, as Comet4J's engine did.
  e.start(srv.url);
  await next(e, 'start');
  assert.equal(e.hasEvent('clock'), true);
  assert.equal(e.hasEvent('chat'), true);
});
