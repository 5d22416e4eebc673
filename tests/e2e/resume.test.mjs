// Fallbacks, lost networks, resume and dying, seen from headless Chromium
// against webapp-example in Tomcat with the native core (issue 3,
// docs/protocol.md, section 6).
//
// The network is cut for real by a TCP proxy in front of the native port
// (tests/lib/cut-proxy.mjs; pages reach the core only through it, by
// Comet.PublicUrl) together with context.setOffline(true), which fails the
// handshakes and new requests but would leave an open WebSocket or stream
// alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTomcat, freePort, logOnFailure } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { startCutProxy } from '../lib/cut-proxy.mjs';
import { publishLines } from '../lib/comet-client.mjs';

const HISTORY = 300;        // Comet.HistorySize: more than (b) misses, less than (e)
const CONN_EXPIRES = 8000;  // Comet.ConnExpires

let tomcat;
let browser;
let proxy;
const contexts = [];

before(async () => {
  proxy = await startCutProxy(await freePort());
  tomcat = await startTomcat({ params: {
    'Comet.PublicUrl': `http://127.0.0.1:${proxy.port}`,
    'Comet.HistorySize': HISTORY,
    'Comet.ConnExpires': CONN_EXPIRES,
  } });
  proxy.target = tomcat.cometPort;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await tomcat?.stop();
  await proxy?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Failures carry the end of Tomcat's logs; every test cleans up after itself.
const withLogs = (fn) => logOnFailure(() => tomcat, fn, async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});

/** A page of the example in its own context; query e.g. '?workStyle=lpool'. */
async function openPage(query = '', prepare) {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  if (prepare) await prepare(page, context);
  await page.goto(tomcat.url + query);
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 20000 });
  // Quick retries, so a page is back soon after the network is.
  await page.evaluate(() => JS.Engine.config({ retryMin: 100, retryMax: 1000 }));
  return page;
}

const workStyle = (page) => page.evaluate(() => JS.Engine.getConnector().workStyle);
const cIdOf = (page) => page.evaluate(() => JS.Engine.getId());
/** The texts of the chat lines the page got that start with tag. */
const chatTexts = (page, tag) => page.evaluate((t) => window.comet4jEvents
  .filter((e) => e.name === 'chat' && e.data.text.startsWith(t)).map((e) => e.data.text), tag);
const eventsNamed = (page, name) => page.evaluate((n) =>
  window.comet4jEvents.filter((e) => e.name === n), name);

async function waitForLines(page, tag, n, timeout = 20000) {
  await page.waitForFunction(([t, k]) => window.comet4jEvents
    .filter((e) => e.name === 'chat' && e.data.text.startsWith(t)).length >= k, [tag, n], { timeout });
  await sleep(300);   // room for a duplicate to show up, if there were one
  return chatTexts(page, tag);
}

const lines = (tag, n) => Array.from({ length: n }, (_, i) => `${tag}${i + 1}`);

async function cut(contextsToCut) {
  for (const c of contextsToCut) await c.setOffline(true);
  proxy.cut();
}
async function restore(contextsToRestore) {
  proxy.restore();
  for (const c of contextsToRestore) await c.setOffline(false);
}

// (a)
test('WebSocket blocked: the page streams; streaming blocked too: it long-polls', withLogs(async () => {
  const blockWs = (page) => page.routeWebSocket(/\/ws\?/, (ws) => ws.close({ code: 1011, reason: 'blocked' }));
  const streaming = await openPage('', (page) => blockWs(page));
  assert.equal(await workStyle(streaming), 'stream');
  assert.match(await streaming.textContent('#status'), /^connected \(stream\)/);

  const polling = await openPage('', async (page) => {
    await blockWs(page);
    await page.route(/\/sse\?/, (route) => route.abort());
  });
  assert.equal(await workStyle(polling), 'lpool');

  const tag = `a${Date.now()}-`;
  await publishLines(tomcat.url, lines(tag, 5));
  for (const page of [streaming, polling]) {
    assert.deepEqual(await waitForLines(page, tag, 5), lines(tag, 5));
  }
  // The clock ticks over both, and pings over HTTP (POST cmd) keep them up.
  for (const page of [streaming, polling]) {
    await page.waitForFunction(() => window.comet4jEvents.filter((e) => e.name === 'clock').length >= 2,
      null, { timeout: 5000 });
  }
}));

// (b)
test('each transport: offline for 5 s while 200 lines are sent, then all 200, in order, once', withLogs(async () => {
  const styles = ['websocket', 'stream', 'lpool'];
  const pages = [];
  for (const s of styles) pages.push(await openPage('?workStyle=' + s));
  for (let i = 0; i < styles.length; i++) assert.equal(await workStyle(pages[i]), styles[i]);
  const tag = `b${Date.now()}-`;
  // One line before the cut gives every page a position in the chat channel.
  await publishLines(tomcat.url, [tag + '0']);
  for (const p of pages) await waitForLines(p, tag, 1);

  const ctxs = pages.map((p) => p.context());
  await cut(ctxs);
  const cutAt = Date.now();
  await sleep(300);
  const sent = lines(tag, 200);
  await publishLines(tomcat.url, sent);
  await sleep(5000 - (Date.now() - cutAt));
  for (const p of pages) {
    assert.equal(await p.evaluate(() => JS.Engine.running), false, 'the page knows it is cut');
  }
  await restore(ctxs);

  for (let i = 0; i < styles.length; i++) {
    const got = await waitForLines(pages[i], tag, 201);
    assert.deepEqual(got, [tag + '0', ...sent], styles[i]);
    assert.equal(await workStyle(pages[i]), styles[i]);
    const rec = (await eventsNamed(pages[i], 'recovered')).filter((e) => e.channel === 'chat');
    assert.ok(rec.length >= 1 && rec.every((e) => e.recovered === true), JSON.stringify(rec));
  }
}));

// (e)
test('a gap longer than the history: recovered false, the page is told, live lines go on', withLogs(async () => {
  const page = await openPage();
  const tag = `e${Date.now()}-`;
  await publishLines(tomcat.url, [tag + '0']);
  await waitForLines(page, tag, 1);
  await cut([page.context()]);
  await sleep(300);
  await publishLines(tomcat.url, lines(tag, HISTORY + 100));
  await sleep(700);
  await restore([page.context()]);
  await page.waitForFunction(() => window.comet4jEvents.some((e) => e.name === 'recovered' &&
    e.channel === 'chat' && e.recovered === false), null, { timeout: 20000 });
  assert.equal(await page.textContent('#chat-log li.gap'),
    '(some lines were missed while this page was offline)');
  await publishLines(tomcat.url, [tag + 'live']);
  await page.waitForFunction((t) => window.comet4jEvents.some((e) => e.name === 'chat' &&
    e.data.text === t), tag + 'live', { timeout: 10000 });
  const got = await chatTexts(page, tag);
  assert.ok(got.length < HISTORY + 100, `only what the history could not have: got ${got.length}`);
  assert.equal(got.at(-1), tag + 'live');
  assert.equal(new Set(got).size, got.length, 'no line twice');
}));

// (f)
test('dying: a private line sent meanwhile arrives on revival; dropped after ConnExpires', withLogs(async () => {
  const page = await openPage();
  const cId = await cIdOf(page);
  const tag = `f${Date.now()}-`;

  await cut([page.context()]);
  await sleep(500);
  // The connection is dying, not gone: the server takes the private line.
  const answer = await publishLines(tomcat.url, [tag + 'while dying'], { to: cId });
  assert.equal(answer.ok, true);
  await sleep(1000);
  await restore([page.context()]);
  const [line] = await waitForLines(page, tag, 1);
  assert.equal(line, tag + 'while dying');
  assert.equal(await cIdOf(page), cId, 'revived: the same connection');
  const priv = (await eventsNamed(page, 'chat')).filter((e) => e.data.text.startsWith(tag));
  assert.equal(priv.length, 1);
  assert.equal(priv[0].data.private, true);

  // Away for longer than ConnExpires: the server drops the connection
  // (DropEvent), after which it no longer knows the id.
  await cut([page.context()]);
  const cutAt = Date.now();
  let status = 200;
  while (status === 200 && Date.now() - cutAt < CONN_EXPIRES + 6000) {
    await sleep(250);
    const res = await fetch(tomcat.url + 'chat', { method: 'POST',
      body: new URLSearchParams({ to: cId, text: tag + 'probe' }) });
    await res.text();
    status = res.status;
  }
  const after = Date.now() - cutAt;
  assert.equal(status, 404, 'dropped in the end');
  assert.ok(after >= CONN_EXPIRES - 500, `dropped after ${after} ms, not before ConnExpires`);
  await restore([page.context()]);
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 20000 });
  assert.notEqual(await cIdOf(page), cId, 'a new connection once the old one was dropped');
}));
