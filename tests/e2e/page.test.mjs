// webapp-example in Tomcat with the native core, seen from headless Chromium:
// the clock ticks, chat lines cross pages, a refused handshake stays refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTomcat, logOnFailure } from '../lib/tomcat.mjs';
import { launchBrowser, pageEvents } from '../lib/browser.mjs';

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

// Failures carry the end of Tomcat's logs: the base is deleted afterwards.
const withLogs = (fn) => logOnFailure(() => tomcat, fn);

async function openConnected(url = tomcat.url) {
  const context = await browser.newContext();  // its own cookies: its own session
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(url);
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
  return page;
}

test('the clock ticks; welcome and count arrive; a chat line reaches another page', withLogs(async () => {
  const one = await openConnected();
  await one.waitForFunction(() => /^\d\d:\d\d:\d\d$/.test(document.getElementById('clock').textContent),
    null, { timeout: 5000 });
  const first = await one.textContent('#clock');
  await one.waitForFunction((v) => document.getElementById('clock').textContent !== v, first,
    { timeout: 5000 });
  const second = await one.textContent('#clock');
  assert.notEqual(second, first);
  assert.match(second, /^\d\d:\d\d:\d\d$/);

  const cId = await one.evaluate(() => JS.Engine.getId());
  assert.match(cId, /^[A-Za-z0-9_-]{22}$/);
  await one.waitForFunction(() => document.getElementById('welcome').textContent !== '', null,
    { timeout: 5000 });
  assert.ok((await one.textContent('#welcome')).includes(cId), 'welcome names this connection');
  assert.equal(await one.evaluate(() => JS.Engine.getConnector().workStyle), 'websocket');

  const two = await openConnected();
  // Both pages are connected, so both see a count of 2 (the count is broadcast).
  await one.waitForFunction(() => document.getElementById('count').textContent === '2', null,
    { timeout: 5000 });
  await two.waitForFunction(() => document.getElementById('count').textContent === '2', null,
    { timeout: 5000 });

  const line = 'hello from two ' + Date.now() + ' — ünïcödé';
  await two.fill('#chat-name', 'two');
  await two.fill('#chat-input', line);
  await two.click('#chat-send');
  for (const p of [one, two]) {
    await p.waitForFunction((l) => document.getElementById('chat-log').textContent.includes(l), line,
      { timeout: 5000 });
  }
  assert.equal(await one.textContent('#chat-log li:last-child'), 'two: ' + line);

  // A page that goes away is counted out.
  await two.context().close();
  await one.waitForFunction(() => document.getElementById('count').textContent === '1', null,
    { timeout: 10000 });
  await one.context().close();
}));

test('a refusing BeforeConnectListener: stop "refused", one handshake, no messages', withLogs(async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const handshakes = [];
  let sockets = 0;
  page.on('request', (r) => { if (r.url().includes('/conn?')) handshakes.push(r.url()); });
  page.on('websocket', () => sockets++);
  await page.goto(tomcat.url + '?refuse=1');
  await page.waitForSelector('#status[data-state="stopped"]', { timeout: 15000 });
  // Long enough for a clock tick and a retry, had there been either.
  await page.waitForTimeout(2500);
  const events = await pageEvents(page);
  assert.deepEqual(events, [{ name: 'stop', cause: 'refused', cId: '' }]);
  assert.equal(await page.textContent('#status'), 'stopped: refused');
  assert.equal(await page.textContent('#clock'), '--:--:--');
  assert.equal(handshakes.length, 1, handshakes.join('\n'));
  assert.match(handshakes[0], /[?&]cmd=conn&refuse=1$/);
  assert.equal(sockets, 0);
  assert.equal(await page.evaluate(() => JS.Engine.running), false);
  await context.close();
}));
