// The admin page (docs/metrics.md, "The admin page") in a real Tomcat with
// webapp-example on a real Redis hub, seen from headless Chromium: the
// cluster's nodes as Redis holds them (this node, then a heartbeat written
// for another, fresh and then old); Comet.Admin=true, so the
// page asks for the API key and sends it as a bearer; while the test
// connects pages, refuses handshakes (?refuse=1), publishes through the
// admin's JSON endpoint and closes a page, the figures the page shows move
// to the expected values (connections, refusals, subscribers, presence
// members, broadcasts); its publish form reaches every page; on a phone's
// width nothing overflows; no request leaves Tomcat. Screenshots are kept
// in $C4J_ARTIFACTS (or a temporary folder), printed in the output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTomcat, logOnFailure, CONTEXT } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { startRedis } from '../lib/redis.mjs';

const KEY = 'e2e-admin-key-0123456789abcdefXYZ';
const N = 3;   // pages connected
const K = 2;   // handshakes refused by the example's BeforeConnectListener
const M = 10;  // broadcasts published through the admin endpoint

let redis;
let tomcat;
let browser;
let adminUrl;
const shots = process.env.C4J_ARTIFACTS ? path.join(process.env.C4J_ARTIFACTS, 'admin')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-admin-shots-'));
fs.mkdirSync(shots, { recursive: true });

before(async () => {
  redis = await startRedis();
  tomcat = await startTomcat({ params: { 'Comet.ApiKey': KEY, 'Comet.Admin': 'true', 'Comet.Hub': redis.url } });
  browser = await launchBrowser();
  adminUrl = `http://127.0.0.1:${tomcat.httpPort}${CONTEXT}/comet4j/admin`;
});
after(async () => {
  await browser?.close();
  await tomcat?.stop();
  await redis?.close();
});

const withLogs = (fn) => logOnFailure(() => tomcat, fn);

async function openPage(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(url);
  return page;
}

/** Waits until the text of selector on page is want; fails saying what it last was. */
async function shows(page, selector, want, ms = 15000) {
  try {
    await page.waitForFunction(([s, w]) => {
      const el = document.querySelector(s);
      return el !== null && el.textContent === w;
    }, [selector, String(want)], { timeout: ms });
  } catch (e) {
    const was = await page.evaluate((s) => document.querySelector(s)?.textContent, selector);
    throw new Error(`${selector}: wanted ${want}, shows ${was}`);
  }
}

const number = async (page, selector) => Number(await page.textContent(selector));

test('without the key the figures are refused; the page asks for it', withLogs(async () => {
  assert.equal((await fetch(adminUrl)).status, 200, 'the page itself holds no figure');
  assert.equal((await fetch(`${adminUrl}/stats`)).status, 401);
  const wrong = await fetch(`${adminUrl}/stats`, { headers: { Authorization: 'Bearer wrong-key-0123456789abcdef' } });
  assert.equal(wrong.status, 401);
  const publish = await fetch(`${adminUrl}/publish`, { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: '{"channel":"chat","data":1}' });
  assert.equal(publish.status, 401);
}));

test('the live figures follow pages, refusals and broadcasts; the form publishes', withLogs(async () => {
  const admin = await openPage(adminUrl);
  const origin = `http://127.0.0.1:${tomcat.httpPort}`;
  const elsewhere = [];
  admin.on('request', (r) => { if (!r.url().startsWith(origin)) elsewhere.push(r.url()); });

  // The key, once; then live.
  await admin.waitForSelector('#key-form:not([hidden])', { timeout: 15000 });
  await admin.fill('#key', KEY);
  await admin.click('#key-send');
  await admin.waitForSelector('#state[data-state="live"]', { timeout: 15000 });
  await shows(admin, '#conns', 0);
  await shows(admin, '#hub-mode', `${redis.url} (prefix c4j)`);
  await shows(admin, '#hub-link', 'up');
  await admin.waitForFunction(() => /\(this node\): alive/.test(document.getElementById('nodes').textContent),
    null, { timeout: 15000 });
  assert.equal(await admin.$$eval('#nodes li[data-state]', (l) => l.length), 1);
  // Another node's heartbeat, as a node writes it: listed alive; ten seconds old: silent.
  await redis.command(['HSET', 'c4j:nodes', 'other-node', String(Date.now())]);
  await admin.waitForFunction(() => document.querySelectorAll('#nodes li[data-state="alive"]').length === 2,
    null, { timeout: 15000 });
  assert.match(await admin.textContent('#nodes'), /other-node: alive/);
  await redis.command(['HSET', 'c4j:nodes', 'other-node', String(Date.now() - 60000)]);
  await admin.waitForFunction(() => /other-node: silent, heartbeat 6\d s ago/.test(
    document.getElementById('nodes').textContent), null, { timeout: 15000 });
  await redis.command(['HDEL', 'c4j:nodes', 'other-node']);
  const refused0 = await number(admin, '#refused');

  // N pages: connections, subscribers and the lobby's presence members.
  const pages = [];
  for (let i = 0; i < N; i++) {
    const p = await openPage(tomcat.url);
    await p.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
    pages.push(p);
  }
  await shows(admin, '#conns', N);
  await shows(admin, 'tr[data-channel="chat"] .subscribers', N);
  await shows(admin, 'tr[data-channel="lobby"] .subscribers', N);
  await admin.waitForFunction((n) => document.querySelectorAll('tr[data-channel="lobby"] li[data-cid]').length === n,
    N, { timeout: 15000 });
  const ids = await Promise.all(pages.map((p) => p.evaluate(() => JS.Engine.getId())));
  const listed = await admin.$$eval('tr[data-channel="lobby"] li[data-cid]', (l) => l.map((e) => e.dataset.cid));
  assert.deepEqual(listed.sort(), ids.slice().sort());

  // K refused handshakes: the refusals shown go up by K.
  for (let i = 0; i < K; i++) {
    const p = await openPage(tomcat.url + '?refuse=1');
    await p.waitForSelector('#status[data-state="stopped"]', { timeout: 15000 });
    await p.context().close();
  }
  await shows(admin, '#refused', refused0 + K);
  await shows(admin, '#conns', N);

  // M broadcasts through the admin endpoint, as a script of the operator's would.
  const b0 = await number(admin, '#broadcasts');
  const t0 = Date.now();
  for (let i = 0; i < M; i++) {
    const res = await fetch(`${adminUrl}/publish`, { method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ channel: 'chat', data: { name: 'script', text: `line ${i}` } }) });
    assert.equal(res.status, 200, await res.text());
  }
  for (const p of pages) {
    await p.waitForFunction((m) => document.querySelectorAll('#chat-log li').length >= m, M, { timeout: 15000 });
  }
  // The clock broadcasts once a second besides: at least M more, at most M and the ticks since.
  await admin.waitForFunction((want) => Number(document.getElementById('broadcasts').textContent) >= want,
    b0 + M, { timeout: 15000 });
  const b1 = await number(admin, '#broadcasts');
  assert.ok(b1 <= b0 + M + Math.ceil((Date.now() - t0) / 1000) + 2, `broadcasts ${b0} -> ${b1}`);
  // The charts have drawn a line of several samples.
  const points = await admin.$eval('#chart-msgs-out polyline', (l) => l.getAttribute('points').split(' ').length);
  assert.ok(points >= 2, `the chart has ${points} points`);

  // The publish form reaches every page.
  const text = `from the admin form ${Date.now()}`;
  await admin.selectOption('#pub-channel', 'chat');
  await admin.fill('#pub-data', JSON.stringify({ name: 'admin', text }));
  await admin.click('#pub-send');
  await shows(admin, '#pub-result', `sent on chat to ${N} subscribers`);
  for (const p of pages) {
    await p.waitForFunction((t) => document.getElementById('chat-log').textContent.includes(t), text,
      { timeout: 15000 });
    assert.equal(await p.textContent('#chat-log li:last-child'), `admin: ${text}`);
  }

  const wide = path.join(shots, 'admin-desktop.png');
  await admin.setViewportSize({ width: 1280, height: 900 });
  await admin.screenshot({ path: wide, fullPage: true });

  // A page that goes: one connection and one member less.
  await pages.pop().context().close();
  await shows(admin, '#conns', N - 1);
  await admin.waitForFunction((n) => document.querySelectorAll('tr[data-channel="lobby"] li[data-cid]').length === n,
    N - 1, { timeout: 15000 });

  // A phone's width: one column, nothing wider than the screen.
  await admin.setViewportSize({ width: 390, height: 844 });
  await admin.waitForTimeout(300);
  const overflow = await admin.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  const phone = path.join(shots, 'admin-phone.png');
  await admin.screenshot({ path: phone, fullPage: true });
  assert.ok(fs.statSync(wide).size > 10000 && fs.statSync(phone).size > 10000);
  console.log(`admin page screenshots: ${wide} ${phone}`);

  assert.deepEqual(elsewhere, [], 'the admin page asks nothing of any other origin');
  for (const p of pages) await p.context().close();
  await admin.context().close();
}));
