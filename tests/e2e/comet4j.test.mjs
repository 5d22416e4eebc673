// An application written for Comet4J 0.1.7 (tests/fixtures/comet4j-app: its
// web.xml names CometServletTomcat7, Comet.Timeout 5000, Comet.WorkStyle
// lpool; its Java code and pages Comet4J's API) in Tomcat 10.1 with the
// jakarta jar, seen from headless Chromium (lib/comet4j-app.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startTomcat, logOnFailure } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { buildComet4jApp, checkComet4jApp, APP_CONTEXT } from '../lib/comet4j-app.mjs';

let app;
let tomcat;
let browser;

before(async () => {
  app = buildComet4jApp();
  tomcat = await startTomcat({ war: app.war, context: APP_CONTEXT });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await tomcat?.stop();
  if (app) fs.rmSync(app.dir, { recursive: true, force: true });
});

test('Tomcat 10.1: a Comet4J 0.1.7 application runs with javax→jakarta as its only edit',
  logOnFailure(() => tomcat, async () => {
    await checkComet4jApp(assert, browser, tomcat.url, (n) => tomcat.logTail(n));
  }));
