// Undeploy and redeploy webapp-example in one running Tomcat: the native
// port closes with the application, comes back on the same port, and pages
// (the one that stayed open, and a new one) get messages again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startTomcat, portOpen, localhostLog } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';

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

function clockTicks(page, timeout) {
  return page.evaluate(() => document.getElementById('clock').textContent).then((v) =>
    page.waitForFunction((old) => {
      const now = document.getElementById('clock').textContent;
      return now !== old && /^\d\d:\d\d:\d\d$/.test(now);
    }, v, { timeout }));
}

test('undeploy, redeploy: same native port, messages flow again', async () => {
  try {
    const page = await (await browser.newContext()).newPage();
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(new URL(ws.url())));
    await page.goto(tomcat.url);
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
    await clockTicks(page, 5000);
    assert.equal(Number(sockets[0].port), tomcat.cometPort);
    assert.equal(await portOpen(tomcat.cometPort), true);

    await tomcat.undeploy();   // waits for 404 and a refused native port
    await page.waitForSelector('#status[data-state="stopped"]', { timeout: 10000 });
    const stopCause = await page.evaluate(() =>
      window.comet4jEvents.filter((e) => e.name === 'stop')[0].cause);
    assert.equal(stopCause, 'closed:1001', 'server stopping (docs/protocol.md)');

    // Nothing of the application may outlive it (Tomcat names leaked threads).
    const leaks = fs.readFileSync(tomcat.log, 'utf8').split('\n')
      .filter((l) => /failed to stop it|memory leak/i.test(l));
    assert.deepEqual(leaks, [], 'threads or resources left behind by the undeployed app');

    await tomcat.deploy();
    assert.equal(await portOpen(tomcat.cometPort), true, 'native port open again after redeploy');

    // The page that stayed open reconnects by itself (backoff is capped at
    // 10 s) and its clock ticks again, over the same port.
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 30000 });
    await clockTicks(page, 5000);
    assert.equal(Number(sockets.at(-1).port), tomcat.cometPort);

    const fresh = await (await browser.newContext()).newPage();
    await fresh.goto(tomcat.url);
    await fresh.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
    await clockTicks(fresh, 5000);
  } catch (e) {
    e.message += `\n--- tomcat console ---\n${tomcat.logTail(60)}` +
      `\n--- localhost log ---\n${localhostLog(tomcat.base, 40)}`;
    throw e;
  }
});
