// Smoke test of the javax.servlet build: webapp-example-javax (with
// comet4j-native-javax in WEB-INF/lib) in Tomcat 9, seen from headless
// Chromium: the page connects over the native port, the clock ticks, the
// count says 1, and stopping Tomcat closes the native port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTomcat9 } from '../lib/tomcat9.mjs';
import { portOpen, status } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';

let tomcat;
let browser;

before(async () => {
  tomcat = await startTomcat9();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await tomcat?.stop();
});

const CLOCK = /^\d\d:\d\d:\d\d$/;

test('Tomcat 9 (javax): the clock ticks, the count is 1, stop closes the native port', async () => {
  try {
    assert.match(tomcat.logTail(200), /Apache Tomcat\/9\./, 'the server is Tomcat 9');
    assert.equal(await status(tomcat.url + 'comet4j.js'), 200, 'comet4j.js from the jar');

    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e));
    await page.goto(tomcat.url);
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
    assert.equal(await page.evaluate(() => JS.Engine.getConnector().workStyle), 'websocket');

    await page.waitForFunction((re) => new RegExp(re).test(document.getElementById('clock').textContent),
      CLOCK.source, { timeout: 5000 });
    const first = await page.textContent('#clock');
    await page.waitForFunction((v) => document.getElementById('clock').textContent !== v, first,
      { timeout: 5000 });
    const second = await page.textContent('#clock');
    assert.match(second, CLOCK);
    assert.notEqual(second, first);

    await page.waitForFunction(() => document.getElementById('count').textContent === '1', null,
      { timeout: 5000 });
    await context.close();

    assert.ok(await portOpen(tomcat.cometPort), 'native port open while the app runs');
    await tomcat.stop();
    assert.equal(await portOpen(tomcat.cometPort), false, 'native port closed after stop');
  } catch (e) {
    e.message += `\n--- Tomcat 9 console ---\n${tomcat.logTail(60)}`;
    throw e;
  }
});
