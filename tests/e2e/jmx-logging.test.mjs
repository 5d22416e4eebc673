// The engine's MBean and comet4j's log lines in a real Tomcat 10.1 started
// with com.sun.management.jmxremote on a free loopback port: the MBean is
// read through the RMI connector as jconsole reads it (lib/java/EngineJmx.java),
// its operations reach a page in Chromium, a redeploy leaves one MBean,
// and the start and stop lines land in catalina's log through the logger
// org.comet4j (a handler of its own, added to logging.properties, gets
// them), not in localhost's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTomcat, freePort, waitFor, logOnFailure, CONTEXT } from '../lib/tomcat.mjs';
import { launchBrowser, pageEvents } from '../lib/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const NAME = `org.comet4j:type=Engine,context=${CONTEXT}`;

let tomcat;
let browser;
let jmxPort;
let classes;

/** EngineJmx's output lines (compiled once with the JDK's javac). */
function jmx(...args) {
  if (!classes) {
    classes = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-jmx-'));
    execFileSync('javac', ['-d', classes, path.join(here, '..', 'lib', 'java', 'EngineJmx.java')]);
  }
  return execFileSync('java', ['-cp', classes, 'EngineJmx', String(jmxPort), ...args])
    .toString().trim().split('\n').filter(Boolean);
}

function attrs() {
  return Object.fromEntries(jmx('attrs', NAME).map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
}

/** The text of the newest logs/PREFIX*.log of the base ('' when none). */
function logOf(prefix) {
  const dir = path.join(tomcat.base, 'logs');
  return fs.readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.log'))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
}

before(async () => {
  jmxPort = await freePort();
  tomcat = await startTomcat({
    env: {
      CATALINA_OPTS: [`-Dcom.sun.management.jmxremote.port=${jmxPort}`,
        `-Dcom.sun.management.jmxremote.rmi.port=${jmxPort}`, '-Dcom.sun.management.jmxremote.host=127.0.0.1',
        '-Djava.rmi.server.hostname=127.0.0.1', '-Dcom.sun.management.jmxremote.authenticate=false',
        '-Dcom.sun.management.jmxremote.ssl=false'].join(' '),
      // A handler that only the logger org.comet4j feeds: what reaches it came through that logger.
      C4J_LOGGING: ['handlers = 1catalina.org.apache.juli.AsyncFileHandler, 2localhost.org.apache.juli.AsyncFileHandler,'
        + ' 3comet4j.org.apache.juli.FileHandler, java.util.logging.ConsoleHandler',
      '3comet4j.org.apache.juli.FileHandler.level = FINE',
      '3comet4j.org.apache.juli.FileHandler.directory = ${catalina.base}/logs',
      '3comet4j.org.apache.juli.FileHandler.prefix = comet4j.',
      '3comet4j.org.apache.juli.FileHandler.bufferSize = -1',
      'org.comet4j.handlers = 3comet4j.org.apache.juli.FileHandler',
      'org.comet4j.useParentHandlers = true', // JULI's default is false once a logger has handlers
      ].join('\n'),
    },
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await tomcat?.stop();
  if (classes) fs.rmSync(classes, { recursive: true, force: true });
});

test('the MBean through JMX: figures, sendToAll and drop reach a page, one MBean across a redeploy',
  logOnFailure(() => tomcat, async () => {
    assert.deepEqual(jmx('names'), [NAME]);
    const page = await (await browser.newContext()).newPage();
    await page.goto(tomcat.url);
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
    const cId = (await pageEvents(page)).find((e) => e.name === 'start').cId;

    await waitFor('the MBean to count the page', async () => Number(attrs().ConnectionCount) >= 1, 10000);
    const a = attrs();
    assert.equal(a.Running, 'true');
    assert.ok(Number(a.conns) >= 1 && Number(a.accepted) >= 1, JSON.stringify(a));
    assert.match(a.Channels, /(^|,)clock=\d+/, 'the registered channels with their subscribers');
    for (const k of ['messagesOut', 'bytesOut', 'slowConsumers', 'originsRefused']) {
      assert.match(a[k] ?? '', /^\d+$/, `getStats()'s ${k} is an attribute`);
    }

    // sendToAll through JMX: the page shows it (its clock element).
    jmx('invoke', NAME, 'sendToAll', 'clock', 'sent through JMX');
    await page.waitForFunction(() => document.getElementById('clock').textContent === 'sent through JMX',
      null, { timeout: 10000 });

    // drop through JMX: the page sees its close (4003, not retried).
    assert.deepEqual(jmx('invoke', NAME, 'drop', cId), ['true']);
    await page.waitForSelector('#status[data-state="stopped"]', { timeout: 10000 });
    const stop = (await pageEvents(page)).find((e) => e.name === 'stop');
    assert.equal(stop.cause, 'closed:4003');

    // A redeploy: the old MBean goes with its engine, the new one is alone.
    await tomcat.undeploy();
    await waitFor('the MBean to go', async () => jmx('names').length === 0, 10000);
    const leaks = fs.readFileSync(tomcat.log, 'utf8').split('\n').filter((l) => /failed to stop it|memory leak/i.test(l));
    assert.deepEqual(leaks, [], 'nothing of the undeployed application left behind');
    await tomcat.deploy();
    assert.deepEqual(jmx('names'), [NAME]);
    assert.equal(attrs().Running, 'true');
  }));

test('start and stop lines: catalina log, logger org.comet4j; none in localhost log',
  logOnFailure(() => tomcat, async () => {
    // The first test undeployed and deployed: two starts, one stop.
    await waitFor('the lines to be written', async () => (logOf('comet4j.').match(/comet4j: started/g) ?? []).length >= 2,
      10000);
    const catalina = logOf('catalina.');
    const own = logOf('comet4j.');
    const localhost = logOf('localhost.');
    for (const line of ['comet4j: started', 'comet4j: stopped', 'Initialization completely']) {
      assert.ok(catalina.includes(line), `${line} in catalina's log`);
      assert.ok(own.includes(line), `${line} through the logger org.comet4j`);
      assert.ok(!localhost.includes(line), `${line} not in localhost's log`);
    }
  }));
