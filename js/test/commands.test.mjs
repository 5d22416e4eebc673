// Section 7 of docs/protocol.md from the page: subscribe, unsubscribe,
// publish and request as Promises matched to their answers by id, the
// page's own rejections (timeout 4080, lost connection 1006), positions
// from a sub's ack, presence events; over the WebSocket and over the HTTP
// transports (POST /cmd).
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import JS from '../comet4j.js';
import { startFakeServer, next, sleep, until } from '../testlib/fake-server.mjs';

let srv;
let engines = [];
const savedWarn = console.warn;
function engine(opts = {}) {
  const e = new JS.CometEngine({ WebSocket, retryMin: 20, retryMax: 60, ...opts });
  engines.push(e);
  return e;
}
beforeEach(async () => {
  srv = await startFakeServer({ v2: true });
  srv.workStyle = 'auto';
  srv.routes = {
    sum: (p) => p.a + p.b,
    echo: (p) => p,
    boom: () => { throw new Error('it broke'); },
  };
  engines = [];
  console.warn = () => {};
});
afterEach(async () => {
  console.warn = savedWarn;
  for (const e of engines) e.stop();
  await srv.close();
});

async function started(workStyle, opts) {
  const e = engine(opts);
  e.start(srv.url, undefined, { workStyle });
  await next(e, 'start');
  assert.equal(e.getConnector().workStyle, workStyle);
  return e;
}
const commands = () => srv.frames.filter((f) => f.t !== 'ping');
// The engine's resume position of a channel (its Subscription record's),
// and a way to put one there, as if the page had been delivered it.
function pos(e, ch) {
  const r = e._subs.get(ch);
  return r && r.positioned() ? [r.epoch, r.offset] : undefined;
}
function setPos(e, ch, epoch, offset) {
  Object.assign(e._subs.ensure(ch, 'subscribed'), { epoch, offset, placed: true });
}
async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof Error);
    return { code: e.code, message: e.message };
  }
  assert.fail('resolved instead of rejecting');
}

// The same behaviour on every transport; for HTTP both ways an answer can come.
const variants = [
  ['websocket', 'conn'], ['stream', 'conn'], ['stream', 'reply'], ['lpool', 'conn'],
  ['lpool', 'reply'],
];
for (const [style, via] of variants) {
  const name = `${style}${style === 'websocket' ? '' : ` (answers ${via === 'conn' ? 'over the connection' : 'in the /cmd reply'})`}`;

  test(`${name}: request resolves with its result; ids count up per engine; answers out of order match by id`, async () => {
    srv.answerVia = via;
    const e = await started(style);
    const [a, b, c] = await Promise.all([
      e.request('sum', { a: 2, b: 3 }),
      e.request('echo', { x: ['ü', null] }),
      e.request('echo'),
    ]);
    assert.equal(a, 5);
    assert.deepEqual(b, { x: ['ü', null] });
    assert.equal(c, undefined);
    const sent = commands();
    assert.deepEqual(sent.map((f) => f.id).sort(), [1, 2, 3]);
    assert.deepEqual(sent.find((f) => f.id === 1), { t: 'req', route: 'sum', params: { a: 2, b: 3 }, id: 1 });
    assert.equal('params' in sent.find((f) => f.id === 3), false);

    // Answers in the reverse order of the commands still reach their own.
    const other = engine();
    assert.equal(other._commands.lastId, 0, 'a counter per engine');
    srv.mute = true;
    const p1 = e.request('sum', { a: 1, b: 1 });
    const p2 = e.request('sum', { a: 2, b: 2 });
    await until('both sent', () => commands().length === 5);
    srv.frame({ t: 'res', id: 5, result: 'second' });
    srv.frame({ t: 'res', id: 4, result: 'first' });
    assert.deepEqual(await Promise.all([p1, p2]), ['first', 'second']);
  });

  test(`${name}: err answers reject with the server's code and message`, async () => {
    srv.answerVia = via;
    const e = await started(style);
    assert.deepEqual(await rejection(e.request('nope')), { code: 4040, message: 'unknown route' });
    assert.deepEqual(await rejection(e.request('boom')), { code: 5000, message: 'it broke' });
    assert.deepEqual(await rejection(e.publish('clock', 1)), { code: 4031, message: 'channel not writable' });
    assert.deepEqual(await rejection(e.subscribe('nowhere')), { code: 4040, message: 'unknown channel' });
    srv.refuse = ['room'];
    assert.deepEqual(await rejection(e.subscribe('room')), { code: 4030, message: 'refused' });
    // The engine goes on: the connection is fine.
    assert.equal(await e.request('sum', { a: 1, b: 2 }), 3);
    assert.equal(e.running, true);
  });

  test(`${name}: publish to a writable channel acks, and the broadcast arrives`, async () => {
    srv.answerVia = via;
    const e = await started(style);
    const got = next(e, 'board');
    assert.equal(await e.publish('board', { text: 'note' }), undefined);
    assert.deepEqual((await got)[0], { text: 'note' });
    assert.deepEqual(commands()[0], { t: 'pub', ch: 'board', data: { text: 'note' }, id: 1 });
  });

  test(`${name}: subscribe takes the ack's position; the next reconnect resumes from it and does not resubscribe`, async () => {
    srv.answerVia = via;
    srv.revive = true;
    srv.broadcast('room', 'before');   // offset 1, before the page subscribes
    srv.broadcast('room', 'before 2'); // offset 2
    const e = await started(style);
    // The fake's open frame names every channel with a history: forget it,
    // as a core (which names the subscribed ones) would not have sent it.
    e._subs.remove('room');
    assert.equal(await e.subscribe('room'), undefined);
    assert.deepEqual(pos(e, 'room'), ['Eroom', 2]);
    assert.equal(e._subs.get('room').state, 'subscribed');
    const got = [];
    e.on('room', (d) => got.push(d));
    srv.broadcast('room', 'live');
    await until('the live message', () => got.length === 1);
    assert.deepEqual(pos(e, 'room'), ['Eroom', 3]);

    // Cut: the reconnect names the position, and sends no sub again.
    srv.requests.length = 0;
    srv.conns[0].close();
    await next(e, 'start');
    const attach = srv.requests.find((r) => r.path !== '/cmd');
    const since = JSON.parse(new URLSearchParams(attach.query).get('since'));
    assert.deepEqual(since.room, ['Eroom', 3]);
    assert.equal(commands().filter((f) => f.t === 'sub').length, 1);

    // unsubscribe forgets the position.
    await e.unsubscribe('room');
    assert.equal(e._subs.get('room'), undefined, 'the record is gone');
    assert.deepEqual(commands().pop(), { t: 'unsub', ch: 'room', id: 2 });
  });

  test(`${name}: no answer within requestTimeout rejects with 4080; a late answer changes nothing`, async () => {
    srv.answerVia = via;
    const e = await started(style, { requestTimeout: 150 });
    srv.mute = true;
    const t0 = Date.now();
    const r = await rejection(e.request('sum', { a: 1, b: 1 }));
    assert.equal(r.code, 4080);
    assert.match(r.message, /no answer within 150 ms/);
    assert.ok(Date.now() - t0 >= 140);
    // The call's own timeout wins over the engine's.
    const t1 = Date.now();
    assert.equal((await rejection(e.request('sum', {}, { timeout: 40 }))).code, 4080);
    assert.ok(Date.now() - t1 < 140);
    srv.frame({ t: 'res', id: 1, result: 'late' });
    await sleep(30);
    assert.deepEqual(e._commands.pending, {});
    assert.equal(e.running, true);
  });

  test(`${name}: a connection lost before the answer rejects with 1006; the engine reconnects`, async () => {
    srv.answerVia = via;
    const e = await started(style);
    srv.mute = true;
    const pending = [e.request('sum', { a: 1, b: 1 }), e.publish('board', 1)];
    await until('both sent', () => commands().length === 2);
    srv.conns[0].close();
    for (const p of pending) {
      const r = await rejection(p);
      assert.equal(r.code, 1006);
      assert.match(r.message, /connection lost/);
    }
    await next(e, 'start');
    srv.mute = false;
    assert.equal(await e.request('sum', { a: 1, b: 1 }), 2);
  });
}

test('commands made while connecting wait for the open connection, then go first', async () => {
  const e = engine();
  const order = [];
  e.on('start', () => { order.push('start'); });
  e.start(srv.url);
  const p = e.request('sum', { a: 4, b: 5 }).then((v) => { order.push('answer'); return v; });
  assert.equal(await p, 9);
  assert.deepEqual(commands().map((f) => f.t), ['req']);
  assert.deepEqual(order, ['start', 'answer']);
});

test('commands made while waiting to reconnect are sent once reconnected', async () => {
  const e = engine({ retryMin: 200, retryMax: 200 });
  e.start(srv.url);
  await next(e, 'start');
  const stopped = next(e, 'stop');
  srv.conns[0].close();
  await stopped;
  const p = e.request('sum', { a: 1, b: 2 });
  await sleep(10);
  assert.equal(commands().length, 0);
  assert.equal(await p, 3);
});

test('commands of a stopped engine reject at once with 1006; stop() rejects what waits', async () => {
  const e = engine();
  assert.equal((await rejection(e.request('sum', {}))).code, 1006);
  e.start(srv.url);
  await next(e, 'start');
  srv.mute = true;
  const sent = e.request('sum', { a: 1, b: 1 });
  await until('sent', () => commands().length === 1);
  e.stop();
  const r = await rejection(sent);
  assert.equal(r.code, 1006);
  assert.match(r.message, /stopped/);
  // Queued (never sent) commands of an engine stopped while connecting too.
  srv.sendOpen = false;
  e.start(srv.url);
  const queued = e.publish('board', 1);
  e.stop();
  assert.equal((await rejection(queued)).code, 1006);
});

test('with autoReconnect off, a lost connection rejects queued commands too', async () => {
  const e = engine();
  e.autoReconnect = false;
  e.start(srv.url);
  await next(e, 'start');
  srv.mute = true;
  const sent = e.request('sum', {});
  await until('sent', () => commands().length === 1);
  srv.conns[0].close();
  assert.equal((await rejection(sent)).code, 1006);
});

test('bad arguments reject with 4000 without sending', async () => {
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  assert.equal((await rejection(e.subscribe(''))).code, 4000);
  assert.equal((await rejection(e.publish(null, 1))).code, 4000);
  assert.equal((await rejection(e.request(7))).code, 4000);
  await sleep(20);
  assert.equal(commands().length, 0);
  // publish without data sends null.
  await e.publish('board');
  assert.deepEqual(commands()[0], { t: 'pub', ch: 'board', data: null, id: 1 });
});

test('stream: a POST /cmd refused by the server rejects with 1006 at once', async () => {
  const e = engine({ requestTimeout: 5000 });
  e.start(srv.url, undefined, { workStyle: 'stream' });
  await next(e, 'start');
  e._transport.ticket = 'bad';   // the server answers 401
  const t0 = Date.now();
  const r = await rejection(e.request('sum', {}));
  assert.equal(r.code, 1006);
  assert.match(r.message, /http:401/);
  assert.ok(Date.now() - t0 < 2000);
});

test('a sub ack keeps a further position of the same epoch; takes another epoch', async () => {
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  setPos(e, 'room', 'Eroom', 9);
  srv.broadcast('room', 1);   // history at 1: the ack says ['Eroom', 1]
  setPos(e, 'room', 'Eroom', 9);
  await e.subscribe('room');
  assert.deepEqual(pos(e, 'room'), ['Eroom', 9]);
  setPos(e, 'room', 'OLDEPOCH', 50);
  await e.subscribe('room');
  assert.deepEqual(pos(e, 'room'), ['Eroom', 1]);
});

for (const style of ['websocket', 'lpool']) {
  test(`${style}: join and leave fire with (channel, user, cId, engine)`, async () => {
    const e = await started(style);
    const seen = [];
    e.on('join', (ch, user, cId, en) => seen.push(['join', ch, user, cId, en === e]));
    e.on('leave', (ch, user, cId, en) => seen.push(['leave', ch, user, cId, en === e]));
    srv.presence('join', 'room', 'cX', 'alice');
    srv.presence('leave', 'room', 'cX', 'alice');
    srv.frame({ t: 'join', cId: 'no channel' });   // malformed: dropped
    await until('two events', () => seen.length === 2);
    await sleep(30);
    assert.deepEqual(seen, [['join', 'room', 'alice', 'cX', true], ['leave', 'room', 'alice', 'cX', true]]);
  });
}

test('the global engine has the command API; the old API is unchanged', () => {
  for (const m of ['subscribe', 'unsubscribe', 'publish', 'request', 'on', 'un', 'start', 'stop',
    'addListener', 'removeListener', 'getId', 'getConnector']) {
    assert.equal(typeof JS.Engine[m], 'function', m);
  }
  assert.equal(JS.Engine.options.requestTimeout, 15000);
});

test('answers with an unknown id, and malformed ones, are ignored', async () => {
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  srv.mute = true;
  const p = e.request('sum', {});
  await until('sent', () => commands().length === 1);
  srv.frame({ t: 'res', id: 99, result: 'not yours' });
  srv.frame({ t: 'res', id: '1', result: 'string id' });
  srv.frame({ t: 'res', id: 1, result: 'yours' });
  assert.equal(await p, 'yours');
});
