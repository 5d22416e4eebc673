// The same Comet4J 0.1.7 application (tests/fixtures/comet4j-app, its
// javax.servlet code unchanged) with the javax jar: in Tomcat 9, and in
// Jetty 9.4 embedded (Debian's libjetty9-java, no service), seen from
// headless Chromium (lib/comet4j-app.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startTomcat9 } from '../lib/tomcat9.mjs';
import { freePort } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { buildComet4jApp, checkComet4jApp, startJetty, APP_CONTEXT } from '../lib/comet4j-app.mjs';

let browser;
const dirs = [];

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('Tomcat 9 (javax): the Comet4J 0.1.7 application runs unchanged', async () => {
  const app = buildComet4jApp({ javax: true });
  dirs.push(app.dir);
  const tomcat = await startTomcat9({ war: app.war, context: APP_CONTEXT });
  try {
    assert.match(tomcat.logTail(200), /Apache Tomcat\/9\./, 'the server is Tomcat 9');
    await checkComet4jApp(assert, browser, tomcat.url, (n) => tomcat.logTail(n));
  } catch (e) {
    e.message += `\n--- Tomcat 9 console ---\n${tomcat.logTail(60)}`;
    throw e;
  } finally {
    await tomcat.stop();
  }
});

test('Jetty 9.4 (javax): the Comet4J 0.1.7 application runs unchanged', async () => {
  // Jetty keeps no socket for the core (one port is Tomcat's): the native
  // port, given in the web.xml as any application would.
  const cometPort = await freePort();
  const app = buildComet4jApp({ javax: true, params: { 'Comet.Port': cometPort, 'Comet.Host': '127.0.0.1' } });
  dirs.push(app.dir);
  const jetty = await startJetty(app.war);
  try {
    assert.match(jetty.logTail(200), /JettyRun: 9\.4\./, 'the server is Jetty 9.4');
    await checkComet4jApp(assert, browser, jetty.url, (n) => jetty.logTail(n));
  } catch (e) {
    e.message += `\n--- Jetty console ---\n${jetty.logTail(60)}`;
    throw e;
  } finally {
    await jetty.stop();
  }
});
