// Messages of bytes (docs/protocol.md section 11) through webapp-example in
// Tomcat with the native core, seen from headless Chromium: a page publishes
// a Uint8Array, the application's ChannelListener gets the byte[] (it says
// what it saw on bytes.seen) and every page gets the bytes back as a
// Uint8Array; the application's own sendToAll("bytes", byte[]) (the
// bytes.make action) reaches pages on WebSocket, SSE and long-poll alike.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTomcat, logOnFailure } from '../lib/tomcat.mjs';
import { launchBrowser, waitEvent } from '../lib/browser.mjs';

let tomcat;
let browser;

before(async () => {
  tomcat = await startTomcat();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await tomcat?.stop();
});

const withLogs = (fn) => logOnFailure(() => tomcat, fn);

async function openConnected(workStyle) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`${tomcat.url}?workStyle=${workStyle}`);
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
  assert.equal(await page.evaluate(() => JS.Engine.getConnector().workStyle), workStyle);
  return page;
}

const sumOf = (bytes) => bytes.reduce((a, b) => a + b, 0);

for (const workStyle of ['websocket', 'stream', 'lpool']) {
  test(`${workStyle}: bytes from a page reach the application as a byte[] and every page as a Uint8Array; ` +
       `the application's sendToAll(byte[]) too`, withLogs(async () => {
    const ws = await openConnected('websocket');
    const other = await openConnected(workStyle);
    const otherId = await other.evaluate(() => JS.Engine.getId());

    // The page on `workStyle` publishes (binary on WebSocket, b64 over /cmd).
    const sent = Array.from({ length: 300 }, (_, i) => (i * 31 + 7) & 255);
    const r = await other.evaluate((b) => JS.Engine.publish('bytes', new Uint8Array(b)).then(
      () => 'ok', (e) => `error ${e.code}: ${e.message}`), sent);
    assert.equal(r, 'ok');
    // The application got exactly those bytes (its ChannelListener says so).
    const [seen] = await waitEvent(ws, 'bytes.seen', (e) => e.data.cId === otherId);
    assert.deepEqual(seen.data, { cId: otherId, length: sent.length, sum: sumOf(sent) });
    // Every page gets them back as a Uint8Array, whatever its transport.
    for (const page of [ws, other]) {
      const [got] = await waitEvent(page, 'bytes', (e) => e.data.length === 300);
      assert.equal(got.bytes, true, 'a Uint8Array');
      assert.deepEqual(got.data, sent);
    }

    // The application's own byte[] to every page: sendToAll("bytes", byte[]).
    const n = await ws.evaluate(() => JS.Engine.request('bytes.make', { n: 257 }));
    assert.equal(n, 257);
    const made = Array.from({ length: 257 }, (_, i) => i & 255);
    for (const page of [ws, other]) {
      const [got] = await waitEvent(page, 'bytes', (e) => e.data.length === 257);
      assert.equal(got.bytes, true);
      assert.deepEqual(got.data, made);
    }

    // What is not bytes is refused on that channel (the PublishListener), and
    // the WebSocket page's own bytes go the other way too.
    const refused = await ws.evaluate(() => JS.Engine.publish('bytes', 'text').then(
      () => 'accepted', (e) => e.code));
    assert.equal(refused, 4030);
    const mine = [0, 255, 10, 34, 0];
    assert.equal(await ws.evaluate((b) => JS.Engine.publish('bytes', new Uint8Array(b).buffer).then(() => 'ok'), mine), 'ok');
    const [back] = await waitEvent(other, 'bytes', (e) => e.data.length === 5);
    assert.deepEqual(back.data, mine);
    await ws.context().close();
    await other.context().close();
  }));
}
