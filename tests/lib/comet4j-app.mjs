// Builds tests/fixtures/comet4j-app (an application written for Comet4J
// 0.1.7) into a WAR with the JDK's javac and jar, from the jar Maven built,
// and runs Jetty 9.4 embedded (lib/java/JettyRun.java) for the javax smoke.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, supervise } from './tomcat.mjs';

export const APP_DIR = path.join(ROOT, 'tests/fixtures/comet4j-app');
export const APP_CONTEXT = '/comet4j-app';
const JAVA_LIB = '/usr/share/java';
const bin = (name) => (process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', name) : name);

/** The one built jar of a module's target/ (comet4j-native-*.jar), or an error saying how to build it. */
function builtJar(module, prefix) {
  const dir = path.join(ROOT, module, 'target');
  const jars = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) =>
    f.startsWith(prefix) && f.endsWith('.jar') && !/-(sources|javadoc|tests)\.jar$/.test(f)) : [];
  if (jars.length === 0) throw new Error(`no ${prefix}*.jar in ${dir}: run 'mvn -q install -DskipTests' in ${ROOT}`);
  return path.join(dir, jars.sort().pop());
}

function copyTree(from, to, filter) {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, e.name);
    const b = path.join(to, e.name);
    if (e.isDirectory()) copyTree(a, b, filter);
    else filter(a, b);
  }
}

/**
 * Builds the WAR: javax (Tomcat 9, Jetty 9) writes javax.servlet back into
 * the sources and takes comet4j-native-javax; params are more
 * context-params appended to the web.xml (for Jetty, which has no
 * context.xml overrides). Returns { war, dir } (dir: a temporary folder).
 */
export function buildComet4jApp({ javax = false, params = {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-app-'));
  const web = path.join(dir, 'webapp');
  const src = path.join(dir, 'src');
  const jar = javax ? builtJar('javax', 'comet4j-native-javax-') : builtJar('java', 'comet4j-native-');
  const api = path.join(JAVA_LIB, javax ? 'servlet-api.jar' : 'jakarta-servlet-api.jar');
  fs.mkdirSync(path.join(web, 'WEB-INF/lib'), { recursive: true });
  fs.mkdirSync(path.join(web, 'WEB-INF/classes'), { recursive: true });
  for (const f of ['index.html', 'connector.html']) fs.copyFileSync(path.join(APP_DIR, f), path.join(web, f));
  let xml = fs.readFileSync(path.join(APP_DIR, 'WEB-INF/web.xml'), 'utf8');
  const extra = Object.entries(params).map(([k, v]) =>
    `\t<context-param><param-name>${k}</param-name><param-value>${v}</param-value></context-param>\n`).join('');
  xml = xml.replace('</web-app>', `${extra}</web-app>`);
  fs.writeFileSync(path.join(web, 'WEB-INF/web.xml'), xml);
  fs.copyFileSync(jar, path.join(web, 'WEB-INF/lib', path.basename(jar)));
  const sources = [];
  copyTree(path.join(APP_DIR, 'src'), src, (a, b) => {
    let text = fs.readFileSync(a, 'utf8');
    if (javax) text = text.replaceAll('jakarta.servlet', 'javax.servlet');
    fs.writeFileSync(b, text);
    sources.push(b);
  });
  execFileSync(bin('javac'), ['-encoding', 'UTF-8', '--release', '11', '-nowarn', '-cp', `${jar}:${api}`,
    '-d', path.join(web, 'WEB-INF/classes'), ...sources], { stdio: 'inherit' });
  const war = path.join(dir, `${APP_CONTEXT.slice(1)}.war`);
  execFileSync(bin('jar'), ['cf', war, '-C', web, '.']);
  return { war, dir };
}

/**
 * Runs Jetty 9.4 embedded with war at APP_CONTEXT on a free loopback port
 * and waits until the application answers 200. Returns { httpPort, url,
 * log, logTail(), stop() }.
 */
export async function startJetty(war) {
  const jars = ['jetty9-server', 'jetty9-servlet', 'jetty9-webapp', 'jetty9-util', 'jetty9-http',
    'jetty9-io', 'jetty9-security', 'jetty9-xml', 'servlet-api'].map((n) => path.join(JAVA_LIB, `${n}.jar`));
  const missing = jars.filter((j) => !fs.existsSync(j));
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: install libjetty9-java (.ci/install)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-jetty-'));
  const classes = path.join(dir, 'classes');
  const cp = jars.join(':');
  execFileSync(bin('javac'), ['-nowarn', '-cp', cp, '-d', classes,
    path.join(ROOT, 'tests/lib/java/JettyRun.java')], { stdio: 'inherit' });
  const httpPort = await freePort();
  const log = path.join(dir, 'console.log');
  const out = fs.openSync(log, 'a');
  const child = spawn(bin('java'), [`-Djava.io.tmpdir=${dir}`, '-cp', `${classes}:${cp}`, 'JettyRun',
    String(httpPort), APP_CONTEXT, war], { cwd: dir, stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${httpPort}${APP_CONTEXT}/`;
  const server = await supervise(child, { name: 'Jetty 9', log, dir, url, ms: 60000 });
  return { dir, httpPort, url, log, logTail: server.logTail, stop: server.stop };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The server's journal (GET talk.do?cmd=journal): what its listeners heard, in order. */
export async function journal(base) {
  const res = await fetch(base + 'talk.do?cmd=journal');
  return res.json();
}

async function talk(base, text) {
  const res = await fetch(base + 'talk.do', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'cmd=talk&id=test&text=' + encodeURIComponent(text),
  });
  return res.text();
}

async function openTalk(browser, base, polls) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  if (polls) {
    // Each long-poll request, with when it left and when its answer came.
    page.on('request', (r) => { if (/cmd=poll|\/poll\?/.test(r.url())) polls.push({ r, t0: Date.now() }); });
    page.on('requestfinished', (r) => {
      const p = polls.find((x) => x.r === r);
      if (p) p.ms = Date.now() - p.t0;
    });
  }
  await page.goto(base);
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
  return { context, page };
}

async function openConnector(browser, base, query = '') {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(base + 'connector.html' + query);
  await page.waitForFunction(() => window.seen && window.seen.connect, null, { timeout: 15000 });
  return { context, page };
}

/**
 * The Comet4J application seen from Chromium (base: its URL, ending in /):
 * JS.Engine pages talk over JS.AJAX, long-polls are held Comet.Timeout
 * (5000) and answered [] with nothing lost, a JS.Connector alone connects
 * (lpool, timeout 5000) and gets messages, its stop drops it at once on the
 * server (BeforeDrop, BeforeRemove, Removed, Drop), a JS.Connector on SSE
 * has its stream ended after Comet.Timeout and comes back (a revival) with
 * every message in order, and the server's texts are in Chinese
 * (Comet.Language zh). logTail: the server's console.
 */
export async function checkComet4jApp(assert, browser, base, logTail) {
  // Two JS.Engine pages on lpool (Comet.WorkStyle), talking through JS.AJAX.
  const polls = [];
  const a = await openTalk(browser, base);
  const b = await openTalk(browser, base, polls);
  const cidA = await a.page.textContent('#cid');
  const cidB = await b.page.textContent('#cid');
  assert.match(cidA, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(await a.page.textContent('#ws'), 'lpool', 'Comet.WorkStyle lpool');
  await a.page.waitForFunction(() => talk.page.lines.indexOf('welcome:welcome') >= 0, null, { timeout: 10000 });
  await a.page.evaluate(() => send('hello 1'));
  await b.page.waitForFunction(() => talk.page.lines.indexOf('talk:hello 1') >= 0, null, { timeout: 10000 });
  await a.page.waitForFunction(() => /^ok /.test(talk.page.lastAnswer || ''), null, { timeout: 10000 });

  // Comet.Timeout 5000: an idle long-poll is held about 5 s, then answered
  // ([]) and the page polls again; what is sent later still arrives.
  await sleep(6500);
  const held = polls.filter((p) => p.ms >= 4500 && p.ms < 9000);
  assert.ok(held.length >= 1, 'a poll held Comet.Timeout: ' + JSON.stringify(polls.map((p) => p.ms)));
  await a.page.evaluate(() => send('hello 2'));
  await b.page.waitForFunction(() => talk.page.lines.indexOf('talk:hello 2') >= 0, null, { timeout: 10000 });

  // A JS.Connector alone, as Comet4J's connectorTest.html.
  const c = await openConnector(browser, base);
  const connect = await c.page.evaluate(() => window.seen.connect);
  assert.equal(connect.workStyle, 'lpool');
  assert.equal(connect.timeout, 5000, 'the connect event carries Comet.Timeout');
  assert.ok(connect.channels.includes('talker'));
  assert.match(await talk(base, 'hello 3'), /^ok [0-9]+$/);
  await c.page.waitForFunction(() => window.seen.messages.some((m) => m.channel === 'talker'
    && m.data.text === 'hello 3'), null, { timeout: 10000 });
  await c.page.evaluate(() => conn.stop());
  await c.page.waitForFunction(() => window.seen.stop, null, { timeout: 10000 });
  const end = Date.now() + 10000;
  let j = await journal(base);
  while (!j.includes('Drop ' + connect.cId) && Date.now() < end) {
    await sleep(200);
    j = await journal(base);
  }
  const i = j.indexOf('BeforeDrop ' + connect.cId);
  assert.ok(i >= 0, 'cmd=drop reached the server: ' + JSON.stringify(j));
  assert.deepEqual(j.slice(i, i + 4), ['BeforeDrop ' + connect.cId, 'BeforeRemove ' + connect.cId,
    'Removed ' + connect.cId, 'Drop ' + connect.cId], 'Comet4J\'s order: ' + JSON.stringify(j));

  // A JS.Connector on SSE: its stream is ended after Comet.Timeout, it comes
  // back (revival) and every message arrives once, in order.
  const s = await openConnector(browser, base, '?ws=stream');
  assert.equal((await s.page.evaluate(() => window.seen.connect)).workStyle, 'stream');
  for (let k = 0; k < 14; k++) {
    await talk(base, 'sse ' + k);
    await sleep(500);
  }
  await s.page.waitForFunction(() => window.seen.messages.filter((m) => /^sse /.test(m.data.text)).length >= 14,
    null, { timeout: 10000 });
  const texts = await s.page.evaluate(() => window.seen.messages.map((m) => m.data.text)
    .filter((t) => /^sse /.test(t)));
  assert.deepEqual(texts, Array.from({ length: 14 }, (_, k) => 'sse ' + k), 'none lost, none twice');
  assert.ok(await s.page.evaluate(() => window.seen.revivals) >= 1, 'the stream ended and came back');

  j = await journal(base);
  assert.match(j[0], /^CometContext INITIALIZED true 5000$/, JSON.stringify(j.slice(0, 3)));
  assert.ok(j.includes('Connect ' + cidA + ' lpool'));
  assert.ok(!j.includes('Dying ' + cidB), 'held polls are no loss: ' + JSON.stringify(j));
  const cidS = (await s.page.evaluate(() => window.seen.connect)).cId;
  assert.ok(!j.includes('Dying ' + cidS), 'no stream end is a loss: ' + JSON.stringify(j));
  assert.match(logTail(400), /初始化完毕/, 'Comet.Language zh: the start-up line in Chinese');
  for (const p of [a, b, c, s]) await p.context.close();
}
