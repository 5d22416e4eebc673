// The client against the real server: webapp-example in Tomcat with the
// native core (tests/lib/tomcat.mjs). Skipped until the WAR is built
// (mvn -q install -DskipTests at the repository root).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
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
