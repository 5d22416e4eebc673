// permessage-deflate (docs/protocol.md section 14) between headless Chromium
// and the jar in Tomcat: the browser offers it, the core accepts it (the
// 101 seen through CDP's Network domain names it), and the page gets
// broadcasts right, a large compressible JSON (sent through the core's HTTP
// API, or many chat lines through the application's sendToAll) and a small
// one, bytes from the application's sendToAll(byte[]), and its own
// messages come back (Chromium compresses what it sends, the core inflates
// it).  Two ways: the native port (Comet.Port), and the container way
// (Tomcat's https connector keeps the socket and writes the 101: the core's
// answer is copied onto it, and the core compresses through the bridge).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTomcat, logOnFailure } from '../lib/tomcat.mjs';
import { launchBrowser, waitEvent } from '../lib/browser.mjs';
import { publishLines } from '../lib/comet-client.mjs';

const KEY = 'deflate-e2e-api-key-0123456789';
let native;
let bridged;
let browser;

before(async () => {
  [native, bridged] = await Promise.all([
    startTomcat({ params: { 'Comet.ApiKey': KEY } }),
    startTomcat({ cometPort: 'none', https: true }),
  ]);
  browser = await launchBrowser({ ignoreCertificateErrors: true });
});
after(async () => {
  await browser?.close();
  await native?.stop();
  await bridged?.stop();
});

const withLogs = (tomcat, fn) => logOnFailure(() => tomcat(), fn);

/** A page on url over WebSocket, and the Sec-WebSocket-Extensions of its 101. */
async function openPage(url) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const answers = [];
  cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
    const h = e.response.headers || {};
    const k = Object.keys(h).find((n) => n.toLowerCase() === 'sec-websocket-extensions');
    answers.push({ status: e.response.status, extensions: k ? h[k] : null });
  });
  await page.goto(`${url}?workStyle=websocket`);
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
  assert.equal(await page.evaluate(() => JS.Engine.getConnector().workStyle), 'websocket');
  return { page, answers };
}

const NEGOTIATED = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';

/** A board of records, about n bytes of JSON: what compresses well. */
function board(n) {
  const rows = [];
  for (let i = 0; JSON.stringify(rows).length < n; i++) {
    rows.push({ id: i, sym: `S${i % 17}`, bid: 100 + (i % 7) / 4, ask: 101 + (i % 5) / 4, note: 'steady' });
  }
  return { kind: 'board', rows };
}

test('native port: Chromium negotiates permessage-deflate; a large and a small JSON broadcast arrive whole',
  withLogs(() => native, async () => {
    const { page, answers } = await openPage(native.url);
    assert.ok(answers.length >= 1, 'the WebSocket handshake was seen');
    assert.equal(answers.at(-1).status, 101);
    assert.equal(answers.at(-1).extensions, NEGOTIATED);

    const api = (data) => fetch(`http://127.0.0.1:${native.cometPort}/api/publish`, {
      method: 'POST',
      headers: { 'X-Api-Key': KEY, 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: 'chat', data }),
    }).then((r) => assert.equal(r.status, 200));
    const big = board(30000);
    const small = { n: 1 };
    await api(big);
    await api(small);
    const [gotBig] = await waitEvent(page, 'chat', (e) => e.data && e.data.kind === 'board');
    assert.deepEqual(gotBig.data, big);
    const [gotSmall] = await waitEvent(page, 'chat', (e) => e.data && e.data.n === 1);
    assert.deepEqual(gotSmall.data, small);

    // What the page sends goes compressed (Chromium's choice): the core
    // inflates it, the application takes the note, every page gets it.
    const text = 'compressible '.repeat(15).trim();
    const r = await page.evaluate((t) => JS.Engine.publish('board', { name: 'z', text: t }).then(
      () => 'ok', (e) => `error ${e.code}: ${e.message}`), text);
    assert.equal(r, 'ok');
    const [note] = await waitEvent(page, 'board', (e) => e.data && e.data.name === 'z');
    assert.equal(note.data.text, text);
    await page.context().close();
  }));

test('the container way (https): the core\'s answer on Tomcat\'s 101; sendToAll lines and bytes arrive whole',
  withLogs(() => bridged, async () => {
    const { page, answers } = await openPage(bridged.httpsUrl);
    assert.equal(answers.at(-1).status, 101);
    assert.equal(answers.at(-1).extensions, NEGOTIATED);
    assert.ok(page.url().startsWith('https://'));

    const tag = `d${Date.now()}-`;
    const long = `${tag}${'the same words again, '.repeat(21)}`.slice(0, 480).trim(); // the servlet trims
    await publishLines(bridged.url, [long, `${tag}short`]);
    const [gotLong] = await waitEvent(page, 'chat', (e) => e.data.text === long);
    assert.equal(gotLong.data.name, 'test');
    await waitEvent(page, 'chat', (e) => e.data.text === `${tag}short`);

    const n = await page.evaluate(() => JS.Engine.request('bytes.make', { n: 4096 }));
    assert.equal(n, 4096);
    const [got] = await waitEvent(page, 'bytes', (e) => e.data.length === 4096);
    assert.equal(got.bytes, true);
    assert.deepEqual(got.data, Array.from({ length: 4096 }, (_, i) => i & 255));
    await page.context().close();
  }));
