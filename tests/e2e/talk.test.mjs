// Pages talking back (docs/protocol.md, section 7) through webapp-example in
// Tomcat with the native core, seen from headless Chromium: a note published
// by one page reaches another, a push-only channel refuses pages (4031),
// actions answer (and an unknown route is 4040), presence join and leave.
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

async function openConnected(query = '') {
  const context = await browser.newContext();  // its own cookies: its own session
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(tomcat.url + query);
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
  return page;
}

// Runs a command in the page: {ok, value} or {code, message}.
function run(page, fn, arg) {
  return page.evaluate(`(${fn})(${JSON.stringify(arg)}).then(
    (value) => ({ ok: true, value }),
    (e) => ({ ok: false, code: e.code, message: e.message }))`);
}
const waitText = (page, sel, text, timeout = 5000) => page.waitForFunction(
  ([s, t]) => (document.querySelector(s)?.textContent || '').includes(t), [sel, text], { timeout });

for (const workStyle of ['websocket', 'lpool']) {
  test(`${workStyle}: a note published by page A reaches page B; the board refuses non-notes`, withLogs(async () => {
    const q = `?workStyle=${workStyle}`;
    const a = await openConnected(q);
    const b = await openConnected(q);
    assert.equal(await a.evaluate(() => JS.Engine.getConnector().workStyle), workStyle);

    const text = `note ${workStyle} ${Date.now()} ünïcödé`;
    const r = await run(a, (t) => JS.Engine.publish('board', { name: 'A', text: t }), text);
    assert.deepEqual(r, { ok: true, value: undefined });
    await waitText(b, '#board-log', 'A: ' + text);
    await waitText(a, '#board-log', 'A: ' + text);   // the publisher gets it too

    // Through the page's form.
    await b.fill('#board-input', 'from the form');
    await b.click('#board-send');
    await waitText(a, '#board-log', 'from the form');

    // The application's PublishListener refuses what is not a note.
    const refused = await run(a, () => JS.Engine.publish('board', 42));
    assert.equal(refused.ok, false);
    assert.equal(refused.code, 4030, JSON.stringify(refused));
    await a.context().close();
    await b.context().close();
  }));
}

test('publishing on a push-only channel rejects with 4031; an unknown one with 4040', withLogs(async () => {
  const a = await openConnected();
  const r = await run(a, () => JS.Engine.publish('clock', '00:00:00'));
  assert.equal(r.ok, false);
  assert.equal(r.code, 4031, JSON.stringify(r));
  assert.equal(typeof r.message, 'string');
  const u = await run(a, () => JS.Engine.publish('no-such-channel', 1));
  assert.equal(u.code, 4040, JSON.stringify(u));
  // The connection is still fine.
  assert.equal(await a.evaluate(() => JS.Engine.running), true);
  await a.context().close();
}));

for (const workStyle of ['websocket', 'stream']) {
  test(`${workStyle}: request(route) resolves with the action's result; an unknown route rejects with 4040`, withLogs(async () => {
    const a = await openConnected(`?workStyle=${workStyle}`);
    const sum = await run(a, (p) => JS.Engine.request('sum', p), { numbers: [1, 2, 3.5] });
    assert.deepEqual(sum, { ok: true, value: 6.5 });
    const before = Date.now();
    const now = await run(a, () => JS.Engine.request('time.now'));
    assert.equal(now.ok, true, JSON.stringify(now));
    assert.ok(Math.abs(now.value.time - before) < 60000, JSON.stringify(now));
    assert.match(now.value.text, /^\d\d:\d\d:\d\d$/);

    const unknown = await run(a, () => JS.Engine.request('no.such.route', {}));
    assert.equal(unknown.ok, false);
    assert.equal(unknown.code, 4040, JSON.stringify(unknown));
    // An action that throws: 5000 with its message.
    const bad = await run(a, () => JS.Engine.request('sum', { numbers: ['x'] }));
    assert.equal(bad.code, 5000, JSON.stringify(bad));
    assert.match(bad.message, /not a number/);

    // The page's buttons.
    await a.click('#time-now');
    await a.waitForFunction(() => /^\d\d:\d\d:\d\d$/.test(document.getElementById('time-result').textContent),
      null, { timeout: 5000 });
    await a.fill('#sum-input', '40 2');
    await a.click('#sum-send');
    await waitText(a, '#sum-result', '= 42');
    await a.context().close();
  }));
}

test('presence: page B arriving is a join on page A, closing B a leave', withLogs(async () => {
  const a = await openConnected('?name=alice');
  const aId = await a.evaluate(() => JS.Engine.getId());
  // A is in its own list (lobby.who, or its own join).
  await a.waitForSelector(`#lobby li[data-cid="${aId}"]`, { timeout: 5000 });

  const b = await openConnected('?name=bob');
  const bId = await b.evaluate(() => JS.Engine.getId());
  await a.waitForFunction((id) => window.comet4jEvents.some((e) => e.name === 'join' && e.cId === id),
    bId, { timeout: 5000 });
  const join = (await pageEvents(a)).find((e) => e.name === 'join' && e.cId === bId);
  assert.deepEqual(join, { name: 'join', channel: 'lobby', user: 'bob', cId: bId });
  await a.waitForSelector(`#lobby li[data-cid="${bId}"]`, { timeout: 5000 });
  assert.equal(await a.textContent(`#lobby li[data-cid="${bId}"]`), 'bob');
  // B sees A, who was there before it (lobby.who).
  await b.waitForSelector(`#lobby li[data-cid="${aId}"]`, { timeout: 5000 });
  assert.equal(await b.textContent(`#lobby li[data-cid="${aId}"]`), 'alice');

  await b.context().close();
  await a.waitForFunction((id) => window.comet4jEvents.some((e) => e.name === 'leave' && e.cId === id),
    bId, { timeout: 15000 });
  const leave = (await pageEvents(a)).find((e) => e.name === 'leave' && e.cId === bId);
  assert.deepEqual(leave, { name: 'leave', channel: 'lobby', user: 'bob', cId: bId });
  assert.equal(await a.$(`#lobby li[data-cid="${bId}"]`), null);
  await a.context().close();
}));
