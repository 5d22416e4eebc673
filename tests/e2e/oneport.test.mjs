// One port (docs/protocol.md section 10): webapp-example in Tomcat with no
// Comet.Port at all.  Pages reach every transport through the application's
// own URL on Tomcat's port; CometServlet hands each socket to the core
// (takeover), which holds it: Tomcat's own connection count stays flat
// while pages are attached.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import { startTomcat, logOnFailure, waitFor } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { tomcatPid, connectionCounts } from '../lib/tomcat-stats.mjs';

let tomcat;
let browser;

before(async () => {
  tomcat = await startTomcat({ cometPort: 'none' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await tomcat?.stop();
});

const withLogs = (fn) => logOnFailure(() => tomcat, fn);
const origin = () => `http://127.0.0.1:${tomcat.httpPort}`;

async function openConnected(workStyle) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const others = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin() + '/')) others.push(r.url()); });
  page.on('websocket', (ws) => { if (!ws.url().startsWith(`ws://127.0.0.1:${tomcat.httpPort}/`)) others.push(ws.url()); });
  await page.goto(tomcat.url + '?workStyle=' + workStyle);
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
  return { page, others };
}

test('the handshake gives endpoints on the page\'s own scheme, host and port', withLogs(async () => {
  const hs = await (await fetch(tomcat.url + 'conn?cmd=conn')).json();
  const self = `127.0.0.1:${tomcat.httpPort}/webapp-example/conn`;
  assert.deepEqual(hs.endpoints, [`ws://${self}?cmd=ws`]);
  assert.deepEqual(hs.stream, [`http://${self}?cmd=sse`]);
  assert.deepEqual(hs.lpool, [`http://${self}?cmd=poll`]);
  assert.deepEqual(hs.cmd, [`http://${self}?cmd=post`]);
  assert.match(tomcat.logTail(200), /one port/);
}));

for (const workStyle of ['websocket', 'stream', 'lpool']) {
  test(`${workStyle} through Tomcat's own port: push arrives, a chat line crosses pages`, withLogs(async () => {
    const one = await openConnected(workStyle);
    const two = await openConnected(workStyle);
    assert.equal(await one.page.evaluate(() => JS.Engine.getConnector().workStyle), workStyle);
    const first = await one.page.textContent('#clock');
    await one.page.waitForFunction((v) => document.getElementById('clock').textContent !== v, first,
      { timeout: 5000 });
    const line = `${workStyle} line ${Date.now()}`;
    await two.page.fill('#chat-name', 'two');
    await two.page.fill('#chat-input', line);
    await two.page.click('#chat-send');
    for (const p of [one.page, two.page]) {
      await p.waitForFunction((l) => document.getElementById('chat-log').textContent.includes(l), line,
        { timeout: 8000 });
    }
    assert.deepEqual(one.others, [], 'nothing but Tomcat\'s port');
    assert.deepEqual(two.others, [], 'nothing but Tomcat\'s port');
    await one.page.context().close();
    await two.page.context().close();
  }));
}

test('1,000 WebSockets held by the core: Tomcat\'s own connection count stays flat', withLogs(async () => {
  const pid = tomcatPid(tomcat.base);
  const counts = connectionCounts(pid);
  assert.ok(Object.keys(counts).some((n) => n.startsWith('http-nio-')), JSON.stringify(counts));
  const count = () => Object.values(connectionCounts(pid)).reduce((a, b) => a + b, 0);
  // A socket Tomcat keeps is counted: one kept-alive handshake shows.
  const agent = new http.Agent({ keepAlive: true });
  await new Promise((resolve, reject) => {
    http.get(tomcat.url + 'conn?cmd=conn', { agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
  const withOne = count();
  agent.destroy();
  await waitFor('the kept-alive socket to close', async () => count() < withOne);
  const before = count();
  const N = 1000;
  // Handshakes on sockets of their own, closed after the answer (no
  // kept-alive socket left for Tomcat to count).
  const handshake = () => new Promise((resolve, reject) => {
    http.get(tomcat.url + 'conn?cmd=conn', { agent: false, headers: { Connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => { try { resolve(JSON.parse(body)); } catch (e) { reject(e); } });
    }).on('error', reject);
  });
  const attachOne = async () => {
    const hs = await handshake();
    // Plain frames: a thousand of ws's inflaters in this one process (it
    // offers permessage-deflate by default) would time the test client.
    const ws = new WebSocket(hs.endpoints[0] + '&ticket=' + encodeURIComponent(hs.ticket),
      { origin: origin(), perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('message', () => resolve(ws)); // the open frame: the core holds it
      ws.once('error', reject);
    });
  };
  const open = [];
  for (let i = 0; i < N; i += 50) {
    open.push(...await Promise.all(Array.from({ length: Math.min(50, N - i) }, attachOne)));
  }
  const during = count();
  console.log(`Tomcat's connection count: ${withOne} with one kept-alive socket, ${before} before, `
    + `${during} with ${N} WebSockets attached`);
  // The handshakes' keep-alive sockets may linger a moment: within a few.
  assert.ok(during <= before + 5, `Tomcat holds ${during} connections (before: ${before}) with ${N} pages attached`);
  // And they are live: a broadcast reaches them all.
  let got = 0;
  const all = new Promise((resolve) => {
    for (const ws of open) {
      ws.on('message', (m) => { if (String(m).includes('"ch":"clock"') && ++got === open.length) resolve(); });
    }
  });
  await Promise.race([all, new Promise((r) => setTimeout(r, 5000))]);
  assert.equal(got, open.length, 'every socket got the clock');
  for (const ws of open) ws.close();
  await waitFor('the pages to be gone', async () => count() <= before + 5);
}));

test('the webapp stops: the core closes the sockets it took over with 1001; a redeploy takes them again',
  withLogs(async () => {
    const attach = async () => {
      const hs = await (await fetch(tomcat.url + 'conn?cmd=conn')).json();
      const ws = new WebSocket(hs.endpoints[0] + '&ticket=' + encodeURIComponent(hs.ticket),
        { origin: origin() });
      await new Promise((resolve, reject) => { ws.once('message', resolve); ws.once('error', reject); });
      return ws;
    };
    const ws = await attach();
    const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    await tomcat.undeploy();
    assert.equal(await closed, 1001);
    await tomcat.deploy();
    const again = await attach();
    again.close();
  }));
