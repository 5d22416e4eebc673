// The container way (docs/protocol.md section 10): webapp-example in Tomcat
// with no Comet.Port, an HTTP connector that also speaks h2c, an https
// connector (JSSE, a self-signed certificate made with keytool, h2 over
// ALPN: Chromium's SSE and polls go over HTTP/2, its WebSockets over
// HTTP/1.1) and a plain one on NIO2.  Sockets
// that cannot be handed to the core (TLS, HTTP/2) stay Tomcat's, and their
// bytes are bridged to the core, which does the protocol: the same URLs
// work, on the page's own scheme, host and port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import WebSocket from 'ws';
import { startTomcat, logOnFailure, waitFor } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { tomcatPid, bridgeStats } from '../lib/tomcat-stats.mjs';
import { publishLines } from '../lib/comet-client.mjs';

let tomcat;
let browser;
let pid;

before(async () => {
  tomcat = await startTomcat({ cometPort: 'none', h2c: true, https: { h2: true }, nio2: true });
  pid = tomcatPid(tomcat.base);
  browser = await launchBrowser({ ignoreCertificateErrors: true });
});
after(async () => {
  await browser?.close();
  await tomcat?.stop();
});

const withLogs = (fn) => logOnFailure(() => tomcat, fn);
const secureOrigin = () => `https://127.0.0.1:${tomcat.httpsPort}`;

test('the log says, per connector, which way its pages take and why', withLogs(async () => {
  const log = tomcat.logTail(400);
  assert.match(log, new RegExp(`connector http-nio-127\\.0\\.0\\.1-${tomcat.httpPort} \\(Http11NioProtocol, h2c\\): `
    + 'sockets handed to the core \\(takeover\\); HTTP/2 connections stay the container\'s'));
  assert.match(log, new RegExp(`connector https-jsse-nio-127\\.0\\.0\\.1-${tomcat.httpsPort} \\(Http11NioProtocol, TLS, h2\\): `
    + 'the container keeps the sockets \\(the TLS state is Tomcat\'s\\), bytes bridged to the core'));
}));

test('the handshake over https gives wss:// and https:// endpoints', withLogs(async () => {
  const hs = await handshakeAt(tomcat.httpsUrl);
  const self = `127.0.0.1:${tomcat.httpsPort}/webapp-example/conn`;
  assert.deepEqual(hs.endpoints, [`wss://${self}?cmd=ws`]);
  assert.deepEqual(hs.stream, [`https://${self}?cmd=sse`]);
  assert.deepEqual(hs.lpool, [`https://${self}?cmd=poll`]);
  assert.deepEqual(hs.cmd, [`https://${self}?cmd=post`]);
}));

async function openConnected(workStyle) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const others = [];
  page.on('request', (r) => { if (!r.url().startsWith(secureOrigin() + '/')) others.push(r.url()); });
  page.on('websocket', (ws) => { if (!ws.url().startsWith(`wss://127.0.0.1:${tomcat.httpsPort}/`)) others.push(ws.url()); });
  await page.goto(tomcat.httpsUrl + '?workStyle=' + workStyle);
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
  return { page, others };
}

for (const workStyle of ['websocket', 'stream', 'lpool']) {
  test(`${workStyle} over the https connector: push arrives, a chat line crosses pages, bridged`, withLogs(async () => {
    const opened = bridgeStats(pid).opened;
    const one = await openConnected(workStyle);
    const two = await openConnected(workStyle);
    assert.equal(await one.page.evaluate(() => JS.Engine.getConnector().workStyle), workStyle);
    const first = await one.page.textContent('#clock');
    // The clock ticks every second; 10 s: two cores shared with the rest of the run.
    await one.page.waitForFunction((v) => document.getElementById('clock').textContent !== v, first,
      { timeout: 10000 });
    const line = `${workStyle} line ${Date.now()}`;
    await two.page.fill('#chat-name', 'two');
    await two.page.fill('#chat-input', line);
    await two.page.click('#chat-send');
    for (const p of [one.page, two.page]) {
      await p.waitForFunction((l) => document.getElementById('chat-log').textContent.includes(l), line,
        { timeout: 8000 });
    }
    assert.deepEqual(one.others, [], 'nothing but the https connector');
    assert.deepEqual(two.others, [], 'nothing but the https connector');
    assert.ok(bridgeStats(pid).opened >= opened + 2, 'the pages went through the bridge');
    // The https connector speaks h2: Chromium's requests (but WebSockets) use it.
    const protocols = await one.page.evaluate(() => performance.getEntriesByType('resource')
      .filter((e) => e.name.includes('/conn?cmd=')).map((e) => `${new URL(e.name).searchParams.get('cmd')} ${e.nextHopProtocol}`));
    assert.ok(protocols.includes('conn h2'), JSON.stringify(protocols));
    if (workStyle === 'lpool') assert.ok(protocols.includes('poll h2'), JSON.stringify(protocols));
    await one.page.context().close();
    await two.page.context().close();
  }));
}

/** GET url over HTTP/1.1 (https: the self-signed connector) on a fresh socket: { status, headers, body }. */
function h1get(url) {
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    mod.get(url, { agent: false, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on('error', reject);
  });
}

/** The handshake's answer, over HTTP/1.1. */
async function handshakeAt(appUrl) {
  const r = await h1get(appUrl + 'conn?cmd=conn');
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body);
}

/** GET path over HTTP/2 with prior knowledge (h2c): { status, headers, body }. */
function h2get(session, path) {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path });
    let body = '';
    let headers;
    req.setEncoding('utf8');
    req.on('response', (h) => { headers = h; });
    req.on('data', (d) => { body += d; });
    req.on('end', () => resolve({ status: headers[':status'], headers, body }));
    req.on('error', reject);
  });
}

test('h2c: a poll over HTTP/2 falls back to the container way; HTTP/1.1 on the same connector is taken over',
  withLogs(async () => {
    const session = http2.connect(`http://127.0.0.1:${tomcat.httpPort}`);
    try {
      const hsAnswer = await h2get(session, '/webapp-example/conn?cmd=conn');
      assert.equal(hsAnswer.status, 200, hsAnswer.body);
      const hs = JSON.parse(hsAnswer.body);
      const lpool = new URL(hs.lpool[0]);
      assert.equal(lpool.origin, `http://127.0.0.1:${tomcat.httpPort}`);
      const before = bridgeStats(pid).opened;
      const poll = await h2get(session, lpool.pathname + lpool.search + '&ticket=' + encodeURIComponent(hs.ticket));
      assert.equal(poll.status, 200, poll.body);
      assert.match(String(poll.headers['content-type']), /^application\/json/);
      const frames = JSON.parse(poll.body);
      assert.equal(frames[0].t, 'open', poll.body);
      assert.equal(frames[0].cId, hs.cId);
      assert.equal(bridgeStats(pid).opened, before + 1, 'the HTTP/2 poll went through the bridge');
    } finally {
      session.close();
    }
    assert.match(tomcat.logTail(400), /stays the container's \(protocol HTTP\/2\.0/);

    // HTTP/1.1, same connector: handed to the core, which answers with
    // Connection: close (a socket Tomcat no longer owns gets no second request).
    const hs = await handshakeAt(tomcat.url);
    const before = bridgeStats(pid).opened;
    const poll = await h1get(hs.lpool[0] + '&ticket=' + encodeURIComponent(hs.ticket));
    assert.equal(poll.status, 200, poll.body);
    assert.equal(poll.headers.connection, 'close');
    assert.equal(JSON.parse(poll.body)[0].t, 'open');
    assert.equal(bridgeStats(pid).opened, before, 'taken over, not bridged');
  }));

test('NIO2: the connector\'s pages are bridged, a WebSocket gets its pushes and a poll its open frame',
  withLogs(async () => {
    assert.match(tomcat.logTail(400), new RegExp(`connector http-nio2-127\\.0\\.0\\.1-${tomcat.nio2Port} `
      + '\\(Http11Nio2Protocol\\): the container keeps the sockets \\(NIO2 sockets are not handed over'));
    const before = bridgeStats(pid).opened;
    const hs = await handshakeAt(tomcat.nio2Url);
    assert.equal(new URL(hs.endpoints[0]).port, String(tomcat.nio2Port));
    const ws = new WebSocket(hs.endpoints[0] + '&ticket=' + encodeURIComponent(hs.ticket),
      { origin: `http://127.0.0.1:${tomcat.nio2Port}` });
    const clock = new Promise((resolve, reject) => {
      ws.on('message', (m) => { if (String(m).includes('"ch":"clock"')) resolve(); });
      ws.once('error', reject);
    });
    await Promise.race([clock, new Promise((_, j) => setTimeout(() => j(new Error('no clock within 5 s')), 5000))]);
    ws.close();
    const again = await handshakeAt(tomcat.nio2Url);
    const poll = await h1get(again.lpool[0] + '&ticket=' + encodeURIComponent(again.ticket));
    assert.equal(poll.status, 200, poll.body);
    assert.equal(JSON.parse(poll.body)[0].t, 'open');
    assert.equal(bridgeStats(pid).opened, before + 2);
  }));

test('a wss:// page that stops reading is cut by the core (4001); the bridge frees its pipe and holds no megabytes',
  withLogs(async () => {
    const hs = await handshakeAt(tomcat.httpsUrl);
    const base = bridgeStats(pid);
    // Plain frames: compressed, the 8 MB of padded lines below would shrink
    // to less than the buffers on the way (ws offers permessage-deflate).
    const ws = new WebSocket(hs.endpoints[0] + '&ticket=' + encodeURIComponent(hs.ticket),
      { origin: secureOrigin(), rejectUnauthorized: false, perMessageDeflate: false });
    let closed = null;
    let got = 0;
    let lines = 0;
    ws.on('message', (m) => { got += m.length; if (String(m).includes('"slow')) lines++; });
    ws.on('close', (code) => { closed = code; });
    await new Promise((resolve, reject) => { ws.once('message', resolve); ws.once('error', reject); });
    assert.equal(bridgeStats(pid).pipes, base.pipes + 1);
    ws.pause(); // stops reading: the buffers fill, then the core's queue (Comet.MaxQueue, 1 MiB)
    const pad = 'x'.repeat(450);
    const tag = `slow${Date.now()}-`;
    // 16 rounds of 1,000 lines of ~520 bytes: 8 MB, as for the native port
    // (tests/e2e/fanout.test.mjs): more than Tomcat's socket buffer towards
    // the page (tcp_wmem, up to 4 MB), the page's, the bridge's small one
    // from the core and the core's 1 MiB queue.
    for (let k = 0; k < 16; k++) {
      await publishLines(tomcat.url, Array.from({ length: 1000 }, (_, i) => `${tag}${k * 1000 + i} ${pad}`));
    }
    const stalled = bridgeStats(pid);
    assert.ok(stalled.buffered < 256 * 1024, `the bridge holds ${stalled.buffered} bytes`);
    ws.resume();
    await waitFor('the close', async () => closed !== null, 60000).catch((e) => {
      throw new Error(`${e.message}: the page got ${got} bytes`);
    });
    assert.equal(closed, 4001);
    assert.ok(lines < 16000, `the page got ${lines} lines of 16,000 (${got} bytes): it was not cut`);
    await waitFor('the pipe to be freed', async () => bridgeStats(pid).pipes === base.pipes, 10000);
    // What the stalled page's pipe held is what its end freed (Tomcat's own
    // caches stay either way): far less than the megabytes sent to it.
    const afterwards = bridgeStats(pid);
    console.log(`the stalled page got ${lines} of 16,000 lines before 4001; heap after GC: ${base.heap} before,`
      + ` ${stalled.heap} while stalled, ${afterwards.heap} after`);
    assert.ok(stalled.heap - afterwards.heap < 512 * 1024,
      `Java heap held ${stalled.heap - afterwards.heap} bytes for a page that did not read while 8 MB were sent`);
  }));

test('undeploy: a bridged wss:// page gets 1001 from the core; after a redeploy the bridge works again',
  withLogs(async () => {
    const hs = await handshakeAt(tomcat.httpsUrl);
    const ws = new WebSocket(hs.endpoints[0] + '&ticket=' + encodeURIComponent(hs.ticket),
      { origin: secureOrigin(), rejectUnauthorized: false });
    const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => { ws.once('message', resolve); ws.once('error', reject); });
    await tomcat.undeploy();
    assert.equal(await closed, 1001);
    assert.equal(bridgeStats(pid).pipes, 0, 'the stopped engine\'s bridge is gone (and its MBean)');
    await tomcat.deploy();
    const again = await handshakeAt(tomcat.httpsUrl);
    const poll = await h1get(again.lpool[0] + '&ticket=' + encodeURIComponent(again.ticket));
    assert.equal(poll.status, 200, poll.body);
    assert.equal(JSON.parse(poll.body)[0].t, 'open');
    assert.ok(bridgeStats(pid).opened >= 1, 'a new bridge, of the new engine');
  }));
