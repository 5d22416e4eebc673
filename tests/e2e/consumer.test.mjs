// The release as a user's build sees it: `mvn deploy` of the parent,
// comet4j-native and comet4j-native-javax to a file repository, then
// tests/consumer (a separate application with its own pom.xml) built
// against org.comet4j:comet4j-native:<version> from that repository with an
// empty local repository, and run: an embedded Tomcat started from a main,
// no web.xml, as Spring Boot does, pushing to headless Chromium. Once with
// Tomcat 10.1 (jakarta) and once with Tomcat 9 (javax); comet4j registered
// in code (CometAppListener.register) and by the jar's initializer
// (Comet.Mapping), which does nothing without the parameter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, portOpen, status } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { buildConsumer, projectVersion, jarEntries, jarText, startPushApp } from '../lib/push-app.mjs';

const VERSION = projectVersion();
let dir;
let built;
let browser;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-consumer-'));
  built = await buildConsumer(dir);
  console.log(`# consumer: deploy and two application builds in ${built.seconds} s`);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  if (dir && !process.env.C4J_KEEP_BASE) fs.rmSync(dir, { recursive: true, force: true });
});

const sha1 = (f) => crypto.createHash('sha1').update(fs.readFileSync(f)).digest('hex');
const inRepo = (artifact, suffix) =>
  path.join(built.repo, 'org/comet4j', artifact, VERSION, `${artifact}-${VERSION}${suffix}`);

test('the version is a release, set once in the parent POM', () => {
  assert.doesNotMatch(VERSION, /SNAPSHOT/, 'a release version (issue 12): not a SNAPSHOT');
  assert.match(VERSION, /^\d+\.\d+\.\d+$/);
  // The modules name it only in <parent>; nothing else in them repeats it.
  for (const m of ['java', 'javax', 'webapp-example', 'webapp-example-javax']) {
    const pom = fs.readFileSync(path.join(ROOT, m, 'pom.xml'), 'utf8');
    assert.match(pom, new RegExp(`<parent>[\\s\\S]*<version>${VERSION}</version>[\\s\\S]*</parent>`), m);
    assert.equal(pom.split(VERSION).length - 1, 1, `${m}/pom.xml names ${VERSION} once`);
  }
});

test('mvn deploy: parent, comet4j-native and comet4j-native-javax with pom, jar, -sources, -javadoc and checksums', () => {
  const parentPom = inRepo('comet4j-parent', '.pom');
  assert.ok(fs.existsSync(parentPom), parentPom);
  assert.equal(fs.readFileSync(parentPom + '.sha1', 'utf8').trim().slice(0, 40), sha1(parentPom));
  const parent = fs.readFileSync(parentPom, 'utf8');
  // What Maven Central requires of a POM (the modules inherit url, licence, scm, developers).
  for (const [what, re] of [
    ['name', /<name>[^<]+<\/name>/], ['description', /<description>[^<]+<\/description>/],
    ['url', /<url>https:\/\/[^<]+<\/url>/],
    ['licence', /<licenses>\s*<license>\s*<name>[^<]+<\/name>\s*<url>[^<]+<\/url>/],
    ['scm', /<scm[^>]*>\s*<connection>scm:git:[^<]+<\/connection>[\s\S]*<url>[^<]+<\/url>[\s\S]*<\/scm>/],
    ['developers', /<developers>\s*<developer>[\s\S]*<name>[^<]+<\/name>[\s\S]*<\/developers>/],
  ]) {
    assert.match(parent, re, `comet4j-parent's POM: ${what}`);
  }
  // Debian's repository only in a profile that a machine without it never turns on.
  assert.match(parent, /<profile>\s*<id>debian-maven-repo<\/id>\s*<activation>\s*<file>/);

  for (const [artifact, api] of [['comet4j-native', 'jakarta'], ['comet4j-native-javax', 'javax']]) {
    for (const suffix of ['.pom', '.jar', '-sources.jar', '-javadoc.jar']) {
      const f = inRepo(artifact, suffix);
      assert.ok(fs.existsSync(f), f);
      assert.equal(fs.readFileSync(f + '.sha1', 'utf8').trim().slice(0, 40), sha1(f), `${f}.sha1`);
    }
    const pom = fs.readFileSync(inRepo(artifact, '.pom'), 'utf8');
    assert.match(pom, new RegExp(`<artifactId>comet4j-parent</artifactId>\\s*<version>${VERSION}</version>`));
    assert.match(pom, new RegExp(`<artifactId>${artifact}</artifactId>`));
    assert.match(pom, /<name>[^<]+<\/name>/, `${artifact}: name`);
    assert.match(pom, /<description>[^<]+<\/description>/, `${artifact}: description`);

    const jar = jarEntries(inRepo(artifact, '.jar'));
    for (const e of ['native/linux-x86_64/libcomet4j.so', 'META-INF/resources/comet4j.js',
      'org/comet4j/core/CometInitializer.class', 'org/comet4j/core/version.properties',
      `META-INF/services/${api}.servlet.ServletContainerInitializer`]) {
      assert.ok(jar.includes(e), `${artifact}.jar has ${e}`);
    }
    assert.equal(jarText(inRepo(artifact, '.jar'), `META-INF/services/${api}.servlet.ServletContainerInitializer`,
      dir).trim(), 'org.comet4j.core.CometInitializer');
    assert.match(jarText(inRepo(artifact, '.jar'), 'org/comet4j/core/version.properties', dir),
      new RegExp(`^version=${VERSION.replace(/\./g, '\\.')}$`, 'm'));

    const sources = jarEntries(inRepo(artifact, '-sources.jar'));
    assert.ok(sources.includes('org/comet4j/core/CometEngine.java'), `${artifact}-sources.jar`);
    assert.ok(!sources.some((e) => e.endsWith('.class') || e.endsWith('.so')), 'sources only');
    assert.match(jarText(inRepo(artifact, '-sources.jar'), 'org/comet4j/core/CometServlet.java', dir),
      new RegExp(`^import ${api}\\.servlet\\.http\\.HttpServlet;$`, 'm'));
    const javadoc = jarEntries(inRepo(artifact, '-javadoc.jar'));
    for (const e of ['index.html', 'org/comet4j/core/CometEngine.html', 'org/comet4j/core/CometAppListener.html']) {
      assert.ok(javadoc.includes(e), `${artifact}-javadoc.jar has ${e}`);
    }
  }
  // The examples are not release artifacts.
  assert.ok(!fs.existsSync(path.join(built.repo, 'org/comet4j/webapp-example')));
});

test('a separate build resolves org.comet4j:comet4j-native from that repository by its coordinates', () => {
  for (const [artifact, flavour] of [['comet4j-native', 'jakarta'], ['comet4j-native-javax', 'javax']]) {
    const local = path.join(built.m2, 'org/comet4j', artifact, VERSION);
    // The empty local repository got it from the file repository (id comet4j-release), checksums checked.
    const origin = fs.readFileSync(path.join(local, '_remote.repositories'), 'utf8');
    assert.match(origin, new RegExp(`^${artifact}-${VERSION}\\.jar>comet4j-release=$`, 'm'), origin);
    assert.equal(sha1(path.join(local, `${artifact}-${VERSION}.jar`)), sha1(inRepo(artifact, '.jar')));
    const parentOrigin = fs.readFileSync(path.join(built.m2, 'org/comet4j/comet4j-parent', VERSION,
      '_remote.repositories'), 'utf8');
    assert.match(parentOrigin, /\.pom>comet4j-release=/);
    // The application's class path is that jar.
    const manifest = jarText(built.jar[flavour], 'META-INF/MANIFEST.MF', dir).replace(/\r?\n /g, '');
    assert.ok(manifest.includes(path.join(local, `${artifact}-${VERSION}.jar`)), manifest);
  }
});

/** Opens the page, waits for the connection, the welcome and two ticks. */
async function pushesToChromium(app) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e));
    await page.goto(app.url);
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
    const cId = await page.getAttribute('#status', 'data-cid');
    assert.match(cId, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(await page.evaluate(() => JS.Engine.getConnector().workStyle), 'websocket');
    await page.waitForFunction((id) => document.getElementById('welcome').textContent === 'welcome ' + id,
      cId, { timeout: 5000 });
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('tick').textContent), null,
      { timeout: 5000 });
    const first = Number(await page.textContent('#tick'));
    await page.waitForFunction((v) => Number(document.getElementById('tick').textContent) > v, first,
      { timeout: 5000 });
  } finally {
    await context.close();
  }
}

for (const flavour of ['jakarta', 'javax']) {
  const tomcat = flavour === 'jakarta' ? /Apache Tomcat\/10\.1\./ : /Apache Tomcat\/9\./;
  for (const mode of ['code', 'param']) {
    const how = mode === 'code' ? 'CometAppListener.register from an initializer (Spring Boot style)'
      : 'no web.xml, Comet.Mapping=/conn: the jar\'s initializer';
    test(`${flavour}: embedded Tomcat from a main, ${how}: Chromium gets the welcome and the ticks`, async () => {
      const app = await startPushApp({ jar: built.jar[flavour], mode, dir });
      try {
        assert.match(app.logTail(400), tomcat);
        assert.match(app.logTail(400), new RegExp(`push-app: mode ${mode}, comet4j ${VERSION}, engine running: true`));
        if (mode === 'param') {
          assert.match(app.logTail(400), /CometServlet at \/conn registered \(Comet\.Mapping\)/);
        }
        assert.equal(await status(app.url + 'comet4j.js'), 200, 'comet4j.js from the jar');
        await pushesToChromium(app);
        assert.ok(await portOpen(app.cometPort), 'native port open while the app runs');
        await app.stop();
        assert.equal(await portOpen(app.cometPort), false, 'native port closed after SIGTERM');
      } catch (e) {
        e.message += `\n--- push-app (${flavour}, ${mode}) ---\n${app.logTail(60)}`;
        throw e;
      } finally {
        await app.stop();
      }
    });
  }

  test(`${flavour}: without Comet.Mapping the jar's initializer registers nothing`, async () => {
    const app = await startPushApp({ jar: built.jar[flavour], mode: 'none', dir });
    try {
      assert.match(app.logTail(400), /push-app: mode none, comet4j [^,]+, engine running: false/);
      assert.doesNotMatch(app.logTail(400), /comet4j: (started|CometAppListener)/);
      assert.equal(await status(app.url + 'conn?cmd=conn'), 404);
      assert.equal(await portOpen(app.cometPort), false);
      assert.equal(await status(app.url + 'comet4j.js'), 200, 'the jar is there all the same');
    } catch (e) {
      e.message += `\n--- push-app (${flavour}, none) ---\n${app.logTail(60)}`;
      throw e;
    } finally {
      await app.stop();
    }
  });
}
