// One port on Tomcat 9 with the javax jar (webapp-example-javax, no
// Comet.Port): the same takeover of Tomcat's sockets as on 10.1 (the class
// and field names are the same), seen from Chromium for WebSocket and
// long-polling through Tomcat 9's own port only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTomcat9 } from '../lib/tomcat9.mjs';
import { launchBrowser } from '../lib/browser.mjs';

let tomcat;
let browser;

before(async () => {
  tomcat = await startTomcat9({ cometPort: 'none' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await tomcat?.stop();
});

for (const workStyle of ['websocket', 'lpool']) {
  test(`Tomcat 9 (javax), one port, ${workStyle}: the clock ticks through Tomcat's port only`, async () => {
    try {
      assert.match(tomcat.logTail(200), /Apache Tomcat\/9\./);
      const context = await browser.newContext();
      const page = await context.newPage();
      const others = [];
      const own = `127.0.0.1:${tomcat.httpPort}/`;
      page.on('request', (r) => { if (!r.url().includes(own)) others.push(r.url()); });
      page.on('websocket', (ws) => { if (!ws.url().includes(own)) others.push(ws.url()); });
      await page.goto(tomcat.url + '?workStyle=' + workStyle);
      await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
      assert.equal(await page.evaluate(() => JS.Engine.getConnector().workStyle), workStyle);
      const first = await page.textContent('#clock');
      await page.waitForFunction((v) => document.getElementById('clock').textContent !== v, first,
        { timeout: 5000 });
      assert.deepEqual(others, []);
      await context.close();
    } catch (e) {
      e.message += `\n--- Tomcat 9 log ---\n${tomcat.logTail(80)}`;
      throw e;
    }
  });
}
