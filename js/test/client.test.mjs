// The engine against an in-process fake server (testlib/fake-server.mjs):
// handshake, open, messages, stop causes, reconnects, stale callbacks.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import JS from '../comet4j.js';
import { startFakeServer, next, sleep } from '../testlib/fake-server.mjs';

let srv;
let engines = [];
// Fast retries so reconnect cases take milliseconds.
function engine(opts = {}) {
  const e = new JS.CometEngine({ WebSocket, retryMin: 20, retryMax: 60, ...opts });
  engines.push(e);
  return e;
}
beforeEach(async () => { srv = await startFakeServer(); engines = []; });
afterEach(async () => { for (const e of engines) e.stop(); await srv.close(); });

test('start, messages per channel, stop with a cause', async () => {
  const e = engine();
  const started = next(e, 'start');
  e.start(srv.url, { user: 'ann', room: 'a b' });
  const [cId, channels, self] = await started;
  assert.equal(cId, 'c1');
  assert.deepEqual(channels, ['clock', 'chat']);
  assert.equal(self, e);
  assert.equal(e.running, true);
  assert.equal(e.getId(), 'c1');
  const conn = e.getConnector();
  assert.equal(conn.workStyle, 'websocket');
  assert.equal(conn.url, srv.url);
  assert.equal(conn.cId, 'c1');
  assert.equal(srv.handshakes[0], '?cmd=conn&user=ann&room=a%20b');

  const tick = next(e, 'clock');
  srv.send('clock', { now: '12:00:00' }, 1234);
  assert.deepEqual(await tick, [{ now: '12:00:00' }, 1234, e]);

  const stopped = next(e, 'stop');
  e.stop('bye');
  assert.deepEqual(await stopped, ['bye', 'c1', srv.url, e]);
  assert.equal(e.running, false);
  assert.equal(e.getId(), '');
  await sleep(150);
  assert.equal(srv.handshakes.length, 1, 'stop() must not reconnect');
});

test('stop() without a cause gives cause "stop"; a second stop() is silent', async () => {
  const e = engine();
  const causes = [];
  e.on('stop', (c) => causes.push(c));
  e.start(srv.url);
  await next(e, 'start');
  e.stop();
  e.stop();
  assert.deepEqual(causes, ['stop']);
});

test('param as a query string reaches the handshake', async () => {
  const e = engine();
  e.start(srv.url, '&a=1&b=2');
  await next(e, 'start');
  assert.equal(srv.handshakes[0], '?cmd=conn&a=1&b=2');
});

test('403 from the handshake: stop "refused", no retry, no messages', async () => {
  srv.handshake = (q) => (q.get('refuse') === '1' ? { status: 403 } : { status: 200 });
  const e = engine();
  let starts = 0;
  e.on('start', () => starts++);
  const stopped = next(e, 'stop');
  e.start(srv.url, { refuse: 1 });
  const [cause, cId] = await stopped;
  assert.equal(cause, 'refused');
  assert.equal(cId, '');
  await sleep(200);
  assert.equal(srv.handshakes.length, 1);
  assert.equal(starts, 0);
  assert.equal(e.running, false);
  // A refused engine can be started again by the page (start(url) alone
  // would reuse the last param, as in Comet4J).
  e.start(srv.url, '');
  await next(e, 'start');
});

test('unexpected close: stop "closed:<code>", then a fresh handshake and start', async () => {
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  const stopped = next(e, 'stop');
  const restarted = next(e, 'start');
  srv.sockets[0].close(1011, 'oops');
  assert.equal((await stopped)[0], 'closed:1011');
  const [cId] = await restarted;
  assert.equal(cId, 'c2');
  assert.equal(srv.handshakes.length, 2);
  const m = next(e, 'chat');
  srv.send('chat', 'again');
  assert.equal((await m)[0], 'again');
});

test('a dropped TCP connection gives closed:1006 and a reconnect', async () => {
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  const stopped = next(e, 'stop');
  srv.sockets[0].terminate();
  assert.equal((await stopped)[0], 'closed:1006');
  await next(e, 'start');
});

for (const code of [1008, 4003, 4004]) {
  test(`close code ${code} means the server refused: no retry`, async () => {
    const e = engine();
    e.start(srv.url);
    await next(e, 'start');
    const stopped = next(e, 'stop');
    srv.sockets[0].close(code);
    assert.equal((await stopped)[0], 'closed:' + code);
    await sleep(200);
    assert.equal(srv.handshakes.length, 1);
  });
}

test('other handshake statuses give http:<status> and are retried', async () => {
  let calls = 0;
  srv.handshake = () => (++calls === 1 ? { status: 500 } : { status: 200 });
  const e = engine();
  const stopped = next(e, 'stop');
  e.start(srv.url);
  assert.equal((await stopped)[0], 'http:500');
  await next(e, 'start');
});

test('a handshake answer that is not a handshake gives "error"', async () => {
  let calls = 0;
  srv.handshake = () => (++calls === 1 ? { status: 200, body: '<html>login</html>' } : { status: 200 });
  const e = engine();
  const stopped = next(e, 'stop');
  e.start(srv.url);
  assert.equal((await stopped)[0], 'error');
  await next(e, 'start');
});

test('no server: "error", retried until stop()', async () => {
  const dead = await startFakeServer();
  const url = dead.url;
  await dead.close();
  const e = engine();
  const causes = [];
  e.on('stop', (c) => causes.push(c));
  e.start(url);
  await sleep(400);
  e.stop('give up');
  assert.ok(causes.length >= 3, causes.join());
  assert.ok(causes.slice(0, -1).every((c) => c === 'error'), causes.join());
  assert.equal(causes.at(-1), 'give up');
  const n = causes.length;
  await sleep(200);
  assert.equal(causes.length, n, 'no attempt after stop()');
});

test('handshake that never answers: "timeout"', async () => {
  let calls = 0;
  srv.handshake = () => (++calls === 1 ? { hang: true } : { status: 200 });
  const e = engine({ handshakeTimeout: 100 });
  const stopped = next(e, 'stop');
  e.start(srv.url);
  assert.equal((await stopped)[0], 'timeout');
  await next(e, 'start');
});

test('no open frame after the attach: "timeout", then retried', async () => {
  srv.sendOpen = false;
  const e = engine({ openTimeout: 100 });
  const stopped = next(e, 'stop');
  e.start(srv.url);
  assert.equal((await stopped)[0], 'timeout');
  srv.sendOpen = true;
  await next(e, 'start');
});

test('messages before the open frame are not delivered', async () => {
  srv.sendOpen = false;
  const e = engine();
  let got = 0;
  e.on('clock', () => got++);
  e.start(srv.url);
  while (srv.sockets.length === 0) await sleep(5);
  srv.send('clock', 1);
  srv.raw(JSON.stringify({ t: 'open', cId: 'c1', channels: ['clock'] }));
  await next(e, 'start');
  srv.send('clock', 2);
  await next(e, 'clock');
  assert.equal(got, 1);
});

test('malformed frames are dropped and the connection lives on', async () => {
  const saved = console.warn;
  console.warn = () => {};
  try {
    const e = engine();
    e.start(srv.url);
    await next(e, 'start');
    srv.raw('not json');
    srv.raw('{"t":"msg","data":1}');
    srv.raw('[1,2]');
    srv.raw('{"t":"whatever"}');
    const m = next(e, 'chat');
    srv.send('chat', 'still here');
    assert.equal((await m)[0], 'still here');
    assert.equal(e.running, true);
  } finally {
    console.warn = saved;
  }
});

test('heartbeat: pings every beat; silence for two beats gives "timeout"', async () => {
  srv.heartbeat = 50;
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  await sleep(180);
  assert.ok(srv.frames.filter((f) => f.t === 'ping').length >= 2);
  assert.equal(e.running, true, 'pongs keep it alive');
  srv.answerPing = false;
  const stopped = next(e, 'stop', 2000);
  assert.equal((await stopped)[0], 'timeout');
});

test('stop() inside a stop listener cancels the reconnect', async () => {
  const e = engine();
  e.start(srv.url);
  await next(e, 'start');
  const causes = [];
  e.on('stop', (c) => { causes.push(c); if (c.startsWith('closed:')) e.stop('enough'); });
  srv.sockets[0].close(1011);
  await sleep(250);
  assert.deepEqual(causes, ['closed:1011', 'enough']);
  assert.equal(srv.handshakes.length, 1);
});

test('start() while started is ignored', async () => {
  const e = engine();
  e.start(srv.url);
  e.start(srv.url);
  await next(e, 'start');
  e.start(srv.url);
  await sleep(50);
  assert.equal(srv.handshakes.length, 1);
});

test('callbacks of an earlier transport change nothing', async () => {
  // A WebSocket stand-in that keeps every handler it was given, so the
  // test can call them after the engine has moved on.
  const made = [];
  class KeepingWebSocket {
    constructor(url) { this.url = url; this.readyState = 0; this.kept = {}; made.push(this); }
    set onopen(f) { if (f) this.kept.onopen = f; }
    set onmessage(f) { if (f) this.kept.onmessage = f; }
    set onclose(f) { if (f) this.kept.onclose = f; }
    set onerror(f) { if (f) this.kept.onerror = f; }
    send() {}
    close() {}
    serverSays(obj) { this.kept.onmessage({ data: JSON.stringify(obj) }); }
  }
  const e = engine({ WebSocket: KeepingWebSocket });
  const events = [];
  e.on({ start: (id) => events.push('start ' + id), stop: (c) => events.push('stop ' + c),
    clock: (d) => events.push('clock ' + d) });
  e.start(srv.url);
  while (made.length < 1) await sleep(5);
  assert.match(made[0].url, /\/ws\?ticket=T\.c1\.1$/);
  made[0].serverSays({ t: 'open', cId: 'c1', channels: [] });
  e.stop('x');
  e.start(srv.url);
  while (made.length < 2) await sleep(5);
  made[1].serverSays({ t: 'open', cId: 'c2', channels: [] });
  // The first socket speaks up late: a message, an open, a close.
  made[0].serverSays({ t: 'msg', ch: 'clock', data: 'old' });
  made[0].serverSays({ t: 'open', cId: 'c1', channels: [] });
  made[0].kept.onclose({ code: 1006 });
  made[1].serverSays({ t: 'msg', ch: 'clock', data: 'new' });
  assert.deepEqual(events, ['start c1', 'stop x', 'start c2', 'clock new']);
  assert.equal(e.getId(), 'c2');
  assert.equal(e.running, true);
});

test('JS.AJAX.get and post send urlencoded params and call back (text, xhr)', async () => {
  const got = await new Promise((r) => JS.AJAX.get(srv.base + '/echo', { q: 'a&b', n: 2 },
    (text, xhr) => r([text, xhr.status])));
  assert.equal(got[1], 200);
  assert.equal(JSON.parse(got[0]).query, '?q=a%26b&n=2');
  const posted = await new Promise((r) => JS.AJAX.post(srv.base + '/echo', { text: 'héllo wörld' },
    (text) => r(JSON.parse(text))));
  assert.equal(posted.method, 'POST');
  assert.equal(posted.body, 'text=h%C3%A9llo%20w%C3%B6rld');
  assert.match(posted.type, /^application\/x-www-form-urlencoded/);
});
