// One port through a lost network (issue 10, item 6): webapp-example in
// Tomcat with no Comet.Port, the pages reaching Tomcat's port only through
// a TCP proxy (tests/lib/cut-proxy.mjs) that cuts every connection for
// real.  The sockets the core took over from Tomcat end as the native
// port's would: the connections are dying, the pages come back through
// Tomcat's port and resume; nothing is lost, nothing comes twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTomcat, logOnFailure, CONTEXT } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { startCutProxy } from '../lib/cut-proxy.mjs';
import { publishLines } from '../lib/comet-client.mjs';

let tomcat;
let browser;
let proxy;
const contexts = [];

before(async () => {
  proxy = await startCutProxy();
  tomcat = await startTomcat({ cometPort: 'none', params: { 'Comet.ConnExpires': 20000 } });
  proxy.target = tomcat.httpPort;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await tomcat?.stop();
  await proxy?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withLogs = (fn) => logOnFailure(() => tomcat, fn, async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});
const pageUrl = () => `http://127.0.0.1:${proxy.port}${CONTEXT}/`;

async function openPage(workStyle) {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const others = [];
  const mine = `127.0.0.1:${proxy.port}/`;
  page.on('request', (r) => { if (!r.url().includes(mine)) others.push(r.url()); });
  page.on('websocket', (ws) => { if (!ws.url().includes(mine)) others.push(ws.url()); });
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(pageUrl() + '?workStyle=' + workStyle);
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 20000 });
  await page.evaluate(() => JS.Engine.config({ retryMin: 100, retryMax: 1000 }));
  return { page, others };
}

const chatTexts = (page, tag) => page.evaluate((t) => window.comet4jEvents
  .filter((e) => e.name === 'chat' && e.data.text.startsWith(t)).map((e) => e.data.text), tag);
async function waitForLines(page, tag, n, timeout = 25000) {
  await page.waitForFunction(([t, k]) => window.comet4jEvents
    .filter((e) => e.name === 'chat' && e.data.text.startsWith(t)).length >= k, [tag, n], { timeout });
  await sleep(300);   // room for a duplicate to show up, if there were one
  return chatTexts(page, tag);
}
const lines = (tag, n) => Array.from({ length: n }, (_, i) => `${tag}${i + 1}`);

test('each transport on Tomcat\'s port: cut for 5 s while 200 lines are sent, then all 200, in order, once',
  withLogs(async () => {
    const styles = ['websocket', 'stream', 'lpool'];
    const pages = [];
    for (const s of styles) pages.push(await openPage(s));
    for (let i = 0; i < styles.length; i++) {
      assert.equal(await pages[i].page.evaluate(() => JS.Engine.getConnector().workStyle), styles[i]);
    }
    const tag = `c${Date.now()}-`;
    await publishLines(tomcat.url, [tag + '0']);
    for (const { page } of pages) await waitForLines(page, tag, 1);
    const heldBefore = proxy.open;
    assert.ok(heldBefore >= 3, `the pages' sockets go through the proxy (${heldBefore})`);

    const ctxs = pages.map((p) => p.page.context());
    for (const c of ctxs) await c.setOffline(true);
    proxy.cut();
    const cutAt = Date.now();
    await sleep(300);
    const sent = lines(tag, 200);
    await publishLines(tomcat.url, sent);
    await sleep(5000 - (Date.now() - cutAt));
    for (const { page } of pages) {
      assert.equal(await page.evaluate(() => JS.Engine.running), false, 'the page knows it is cut');
    }
    proxy.restore();
    for (const c of ctxs) await c.setOffline(false);

    for (let i = 0; i < styles.length; i++) {
      const { page, others } = pages[i];
      assert.deepEqual(await waitForLines(page, tag, 201), [tag + '0', ...sent], styles[i]);
      assert.equal(await page.evaluate(() => JS.Engine.getConnector().workStyle), styles[i]);
      const rec = (await page.evaluate(() => window.comet4jEvents.filter((e) => e.name === 'recovered')))
        .filter((e) => e.channel === 'chat');
      assert.ok(rec.length >= 1 && rec.every((e) => e.recovered === true), JSON.stringify(rec));
      assert.deepEqual(others, [], 'nothing but Tomcat\'s port, through the proxy');
    }
    assert.doesNotMatch(tomcat.logTail(400), /SEVERE|Exception/);
  }));
