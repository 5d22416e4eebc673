// The client against the real server: webapp-example in Tomcat with the
// native core (tests/lib/tomcat.mjs). Skipped until the WAR is built
// (mvn -q install -DskipTests at the repository root).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import vm from 'node:vm';
import { WebSocket } from 'ws';
import JS from '../comet4j.js';
import { next } from '../testlib/fake-server.mjs';
import { startTomcat, WAR, localhostLog } from '../../tests/lib/tomcat.mjs';

const skip = fs.existsSync(WAR) ? false : `${WAR} not built`;
let tomcat;
const engines = [];
function engine() {
  const e = new JS.CometEngine({ WebSocket, retryMin: 50, retryMax: 200 });
  engines.push(e);
  return e;
}

before(async () => { if (!skip) tomcat = await startTomcat(); });
after(async () => {
  for (const e of engines) e.stop();
  await tomcat?.stop();
});

function real(name, fn) {
  test(name, { skip }, async () => {
    try {
      await fn();
    } catch (e) {
      e.message += `\n--- tomcat ---\n${tomcat.logTail(40)}\n${localhostLog(tomcat.base, 40)}`;
      throw e;
    }
  });
}

real('handshake, open, the clock, the welcome, stop', async () => {
  const e = engine();
  const started = next(e, 'start', 10000);
  const welcome = next(e, 'welcome', 10000);
  e.start(tomcat.url + 'conn');
  const [cId, channels] = await started;
  assert.match(cId, /^[A-Za-z0-9_-]{22}$/);
  for (const ch of ['clock', 'chat', 'welcome', 'count']) assert.ok(channels.includes(ch), ch);
  const conn = e.getConnector();
  assert.equal(conn.workStyle, 'websocket');
  const [hello] = await welcome;
  assert.equal(hello.cId, cId);
  const [time, at] = await next(e, 'clock', 3000);
  assert.match(time, /^\d\d:\d\d:\d\d$/);
  assert.equal(typeof at, 'number');
  assert.ok(Math.abs(Date.now() - at) < 60000, 'time is epoch ms');
  const stopped = next(e, 'stop');
  e.stop('done');
  assert.deepEqual((await stopped).slice(0, 2), ['done', cId]);
});

real('the handshake endpoint names the configured native port', async () => {
  const res = await fetch(tomcat.url + 'conn?cmd=conn');
  assert.equal(res.status, 200);
  const hs = JSON.parse(await res.text());
  assert.equal(hs.v, 1);
  assert.equal(new URL(hs.endpoints[0]).port, String(tomcat.cometPort));
  assert.ok(hs.heartbeat > 0 && hs.timeout > hs.heartbeat);
});

real('refused by the BeforeConnectListener: stop "refused", no retry', async () => {
  const e = engine();
  let starts = 0;
  e.on('start', () => starts++);
  const stopped = next(e, 'stop', 10000);
  e.start(tomcat.url + 'conn', { refuse: 1 });
  assert.equal((await stopped)[0], 'refused');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(starts, 0);
  assert.equal(e.running, false);
});

real('JS.AJAX.post to /chat reaches every connected client', async () => {
  const a = engine();
  const b = engine();
  a.start(tomcat.url + 'conn');
  b.start(tomcat.url + 'conn');
  await Promise.all([next(a, 'start', 10000), next(b, 'start', 10000)]);
  const text = 'line ' + Date.now() + ' é中';
  const gotA = next(a, 'chat');
  const gotB = next(b, 'chat');
  const answer = await new Promise((r) => JS.AJAX.post(tomcat.url + 'chat', { name: 'node', text },
    (body, xhr) => r([body, xhr.status])));
  assert.equal(answer[1], 200, answer[0]);
  for (const [line] of await Promise.all([gotA, gotB])) {
    assert.equal(line.name, 'node');
    assert.equal(line.text, text);
  }
});

real('a ticket that is not valid is refused by the native port', async () => {
  const hs = JSON.parse(await (await fetch(tomcat.url + 'conn?cmd=conn')).text());
  const status = await new Promise((resolve) => {
    const ws = new WebSocket(hs.endpoints[0] + '?ticket=' + encodeURIComponent(hs.ticket + 'x'));
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
    ws.on('open', () => { resolve('open'); ws.close(); });
    ws.on('error', () => {});
  });
  assert.equal(status, 401);
});

// --- Comet4J's JS.Connector alone, as comet4j-test's connectorTest page
// builds it, against the real server ---

// The connector's events as [name, ...arguments], each checked to end with
// the connector.
function recordConnector(c) {
  const log = [];
  for (const name of ['beforeConnect', 'connect', 'revival', 'message', 'beforeStop', 'stop']) {
    c.on(name, (...args) => {
      assert.equal(args.at(-1), c, name);
      log.push([name, ...args.slice(0, -1)]);
    });
  }
  return log;
}

for (const workStyle of ['websocket', 'stream', 'lpool']) {
  real(`new JS.Connector({url}) alone over ${workStyle}: connect, the clock, stop`, async () => {
    const c = new JS.Connector({ url: tomcat.url + 'conn', WebSocket, workStyle, retryDelay: 50 });
    engines.push(c);
    const log = recordConnector(c);
    const clock = new Promise((resolve) => {
      c.on('message', function tick(channel, data, time) {
        if (channel === 'clock') { c.un('message', tick); resolve([data, time]); }
      });
    });
    c.start();
    assert.equal(c.running, true);
    const [cId, channels, ws, timeout] = await next(c, 'connect', 10000);
    assert.match(cId, /^[A-Za-z0-9_-]{22}$/);
    for (const ch of ['clock', 'chat', 'welcome', 'count']) assert.ok(channels.includes(ch), ch);
    assert.equal(ws, workStyle);
    assert.ok(timeout > 0, 'Comet.Timeout');
    assert.deepEqual([c.cId, c.getId(), c.workStyle], [cId, cId, workStyle]);
    const [time, at] = await clock;
    assert.match(time, /^\d\d:\d\d:\d\d$/);
    assert.ok(Math.abs(Date.now() - at) < 60000);
    const welcome = log.find((e) => e[0] === 'message' && e[1] === 'welcome');
    assert.ok(welcome, 'the welcome sent to this connection');
    assert.equal(welcome[2].cId, cId);
    c.stop('done');
    assert.deepEqual(log.slice(-2), [['beforeStop', 'done', cId, tomcat.url + 'conn'],
      ['stop', 'done', cId, tomcat.url + 'conn']]);
    assert.deepEqual(log[0], ['beforeConnect', tomcat.url + 'conn']);
    assert.deepEqual(log[1], ['connect', cId, channels, workStyle, timeout]);
    const kinds = log.map((e) => e[0]).filter((n) => n !== 'message' && n !== 'revival');
    assert.deepEqual(kinds, ['beforeConnect', 'connect', 'beforeStop', 'stop']);
    assert.equal(c.running, false);
  });
}

// A page written as comet4j-test's connectorTest.html is, run as a page
// runs it: comet4j.js by a plain <script> into the page's global object,
// then the page's script, then its onload.
const PAGE = `
  var serverUrl = SERVER + 'conn';
  var connector;
  var events = [];
  var xhrEvents = 0;
  function log(kind, args) { events.push([kind].concat([].slice.call(args, 0, -1))); }
  function init() {
    connector = new JS.Connector({ url: serverUrl, workStyle: WORKSTYLE });
    connector.on({
      beforeConnect: function (url, conn) { log('beforeConnect', arguments); },
      connect: function (cId, channels, ws, timeout, conn) { log('connect', arguments); },
      beforeStop: function (cause, cId, url, conn) { log('beforeStop', arguments); },
      stop: function (cause, cId, url, conn) { log('stop', arguments); },
      message: function (channel, data, time, conn) {
        if (channel === 'clock') log('message', arguments);
      },
      revival: function (url, cId, conn) { log('revival', arguments); }
    });
    connector._xhr.on({
      readyStateChange: function () { xhrEvents++; },
      timeout: function () { xhrEvents++; },
      abort: function () { xhrEvents++; },
      error: function () { xhrEvents++; },
      load: function () { xhrEvents++; },
      progress: function () { xhrEvents++; }
    });
    conn();
  }
  function conn() { connector.start(); }
  function stop() { connector.stop('the user stopped'); }
  function sstop() { connector._xhr.abort(); }
`;

// Its "force disconnect" (connector._xhr.abort()) cuts the connection:
// over HTTP the server keeps the id (the page sees a revival, as with
// Comet4J); a WebSocket closes with a close frame, which the server takes
// as the page leaving: the page gets a new connection (connect).
for (const style of ['auto', 'lpool', 'stream']) real(`a page written like connectorTest.html runs on comet4j.js (workStyle ${style})`, async () => {
  const window = vm.createContext({ console, setTimeout, clearTimeout, setInterval, clearInterval,
    fetch, AbortController, TextDecoder, ReadableStream, WebSocket,
    navigator: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like ' +
      'Gecko) Chrome/120.0 Safari/537.36' }, SERVER: tomcat.url, WORKSTYLE: style });
  window.window = window;
  vm.runInContext(fs.readFileSync(new URL('../comet4j.js', import.meta.url), 'utf8'), window);
  vm.runInContext(PAGE, window);
  vm.runInContext('init()', window);
  const events = () => JSON.parse(JSON.stringify(window.events));
  const kinds = () => events().map((e) => e[0]);
  const wait = async (what, cond, ms = 10000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`no ${what}: ${JSON.stringify(events())}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await wait('connect and a clock message', () => kinds().includes('message'));
    const [, cId, channels, ws, timeout] = events()[1];
    assert.deepEqual(events()[0], ['beforeConnect', tomcat.url + 'conn']);
    assert.match(cId, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(channels.includes('clock'));
    assert.equal(ws, style === 'auto' ? 'websocket' : style);
    assert.ok(timeout > 0);
    assert.equal(window.JS.isChrome, true);
    // The page's "force disconnect": the connection comes back.
    const back = style === 'auto' ? 'connect' : 'revival';
    const cut = kinds().length;
    vm.runInContext('sstop()', window);
    await wait('the connection back', () => kinds().slice(cut).includes(back));
    const again = events().slice(cut).find((e) => e[0] === back);
    if (back === 'revival') assert.deepEqual(again, ['revival', tomcat.url + 'conn', cId]);
    else assert.notEqual(again[1], cId);
    const before = kinds().length;
    await wait('a clock message after it', () => kinds().slice(before).includes('message'));
    vm.runInContext('stop()', window);
    const id = back === 'revival' ? cId : again[1];
    assert.deepEqual(events().slice(-2), [['beforeStop', 'the user stopped', id, tomcat.url + 'conn'],
      ['stop', 'the user stopped', id, tomcat.url + 'conn']]);
    assert.equal(window.connector.running, false);
    // Long-polls revive on every poll; the rest is the page's life.
    assert.deepEqual(kinds().filter((k) => k !== 'message' && k !== 'revival'),
      ['beforeConnect', 'connect', ...(back === 'connect' ? ['connect'] : []), 'beforeStop', 'stop']);
    // The page connects again: a new connection.
    vm.runInContext('conn()', window);
    const connects = () => events().filter((e) => e[0] === 'connect');
    const had = connects().length;
    await wait('a new connect', () => connects().length === had + 1);
    assert.notEqual(connects().at(-1)[1], id);
  } finally {
    vm.runInContext('connector.stop()', window);
  }
});
