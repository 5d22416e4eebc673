// The bundled native library as a user's server sees it (issue 12):
// - self-contained: readelf -d of the jar's libraries (and comet4j-node)
//   lists only the C library family; with libuv1, libjansson4,
//   libhiredis0.14, libhttp-parser2.9 and libssl3 hidden for real (an empty
//   file bind-mounted over each .so in a private mount namespace, unshare
//   -m), Tomcat starts the example and Chromium gets pushed ticks, and
//   comet4j-node serves;
// - where it is extracted: Comet.NativeDir on a noexec tmpfs, or on a
//   read-only one, gives a warning naming it and the library comes from
//   java.io.tmpdir; with java.io.tmpdir noexec too, start-up fails naming
//   both, and the webapp does not start;
// - another platform (os.arch=sparcv9): start-up fails with the platform
//   message.
// The namespaces need root (CI runs as root); without it the tests skip,
// saying why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startTomcat, localhostLog, freePort, portOpen, waitFor, status } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';

const JAR_DIR = path.join(ROOT, 'java/target/classes/native');
const NODE_BIN = process.env.C4J_NODE || path.join(ROOT, 'native/build/comet4j-node');
const FAMILY = /^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-(x86-64|aarch64)\.so\.[12])$/;
// The runtime packages of the libraries the core is linked with.
const HIDDEN_PACKAGES = ['libuv1', 'libjansson4', 'libhiredis0.14', 'libhttp-parser2.9', 'libssl3'];

const root = process.getuid?.() === 0;
const canUnshare = root && spawnSync('unshare', ['-m', 'true']).status === 0;
const why = canUnshare ? false : 'needs root and unshare -m (a private mount namespace)';

let browser;
let scratch;
before(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-native-'));
  if (canUnshare) browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** NEEDED entries of an ELF file (readelf -d). */
function needed(file) {
  const out = execFileSync('readelf', ['-d', '-W', file], { encoding: 'utf8' });
  return [...out.matchAll(/\(NEEDED\).*\[(.+)\]/g)].map((m) => m[1]);
}

/** The shared objects (real files) of the installed packages to hide. */
function hiddenFiles() {
  const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  const files = [];
  for (const p of HIDDEN_PACKAGES) {
    const r = spawnSync('dpkg', ['-L', `${p}:${arch}`], { encoding: 'utf8' });
    if (r.status !== 0) continue; // not installed: hidden already
    for (const f of r.stdout.split('\n')) {
      if (!/\/lib[^/]*\.so(\.\d+)*$/.test(f) || /engines-|ossl-modules/.test(f)) continue;
      try {
        if (fs.lstatSync(f).isFile()) files.push(f);
      } catch { /* listed, not there */ }
    }
  }
  return files;
}

/** A shell line that bind-mounts an empty file over each file (within unshare -m). */
function hideLine(files) {
  const empty = path.join(scratch, 'empty');
  fs.writeFileSync(empty, '');
  return files.map((f) => `mount --bind '${empty}' '${f}'`).join(' && ');
}

/** ['unshare', '-m', 'sh', '-c', '<setup> && exec "$0" "$@"']: a wrap for startTomcat. */
const inNamespace = (setup) => ['unshare', '-m', 'sh', '-c', `${setup} && exec "$0" "$@"`];

/** Resolves true once a Tomcat log says the example failed to start. */
function failedToStart({ base, log }) {
  const text = (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '') + localhostLog(base, 400);
  return /Context \[\/webapp-example\] startup failed|One or more listeners failed to start/.test(text);
}

function allLogs(t) {
  return fs.readFileSync(t.log, 'utf8') + '\n' + localhostLog(t.base, 400);
}

/** Opens the example, waits for the WebSocket and two different clock ticks. */
async function pushReachesChromium(url) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
    await page.waitForFunction(() => /^\d\d:\d\d:\d\d$/.test(document.getElementById('clock').textContent),
      null, { timeout: 5000 });
    const first = await page.textContent('#clock');
    await page.waitForFunction((v) => document.getElementById('clock').textContent !== v, first,
      { timeout: 5000 });
  } finally {
    await context.close();
  }
}

test('readelf -d: the bundled libraries and comet4j-node need only the C library family', () => {
  const libs = ['linux-x86_64', 'linux-aarch64']
    .map((p) => path.join(JAR_DIR, p, 'libcomet4j.so'))
    .filter((f) => fs.existsSync(f));
  assert.ok(libs.some((f) => f.includes('linux-x86_64')), `no ${JAR_DIR}/linux-x86_64/libcomet4j.so: build first`);
  for (const f of [...libs, NODE_BIN]) {
    const n = needed(f);
    console.log(`# ${path.relative(ROOT, f)}: NEEDED ${n.join(', ')}`);
    assert.ok(n.includes('libc.so.6'), `${f}: ${n}`);
    assert.deepEqual(n.filter((x) => !FAMILY.test(x)), [], `${f} needs more than the C library family`);
  }
});

test('with libuv, jansson, hiredis, http-parser and libssl hidden, Tomcat starts and pushes to Chromium',
  { skip: why }, async () => {
    const files = hiddenFiles();
    assert.ok(files.length >= 4, `found only ${files} to hide`);
    // The namespace really hides them: each reads as empty there.
    const check = spawnSync('unshare', ['-m', 'sh', '-c',
      `${hideLine(files)} && wc -c ${files.map((f) => `'${f}'`).join(' ')}`], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    for (const f of files) assert.match(check.stdout, new RegExp(`^\\s*0 ${f.replace(/[.+]/g, '\\$&')}$`, 'm'));

    const tomcat = await startTomcat({ wrap: inNamespace(hideLine(files)) });
    try {
      await pushReachesChromium(tomcat.url);
      assert.match(allLogs(tomcat), /comet4j: started/);
    } catch (e) {
      e.message += `\n--- tomcat ---\n${tomcat.logTail(40)}\n--- localhost ---\n${localhostLog(tomcat.base, 40)}`;
      throw e;
    } finally {
      await tomcat.stop();
    }
  });

test('with the same libraries hidden, comet4j-node starts and answers', { skip: why }, async () => {
  const files = hiddenFiles();
  const port = await freePort();
  const secretFile = path.join(scratch, 'secret');
  fs.writeFileSync(secretFile, '0123456789abcdef-native-test\n');
  const log = path.join(scratch, 'node.log');
  const out = fs.openSync(log, 'w');
  const child = spawn('unshare', ['-m', 'sh', '-c', `${hideLine(files)} && exec "$0" "$@"`, NODE_BIN,
    '--host', '127.0.0.1', '--port', String(port), '--secret-file', secretFile],
  { stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  let exited = null;
  child.on('exit', (code, sig) => { exited = { code, sig }; });
  try {
    await waitFor(`comet4j-node on ${port}`, async () => {
      if (exited) throw new Error(`comet4j-node exited ${JSON.stringify(exited)}: ${fs.readFileSync(log, 'utf8')}`);
      return portOpen(port);
    }, 15000);
    const s = await status(`http://127.0.0.1:${port}/`);
    assert.ok(s >= 200 && s < 500, `GET / answered ${s}`);
  } finally {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

test('Comet.NativeDir on a noexec mount: a warning naming it, loaded from java.io.tmpdir, pushes',
  { skip: why }, async () => {
    const nx = path.join(scratch, 'noexec');
    fs.mkdirSync(nx);
    const tomcat = await startTomcat({
      wrap: inNamespace(`mount -t tmpfs -o noexec,size=64m tmpfs '${nx}'`),
      params: { 'Comet.NativeDir': nx },
    });
    try {
      await pushReachesChromium(tomcat.url);
      const logs = allLogs(tomcat);
      assert.match(logs, new RegExp(`comet4j: Comet\\.NativeDir=${nx} is on a mount with noexec \\(${nx}\\)`));
      assert.match(logs, /the native library was loaded from java\.io\.tmpdir=\S+ instead/);
    } finally {
      await tomcat.stop();
    }
  });

test('Comet.NativeDir on a read-only mount: a warning naming it, loaded from java.io.tmpdir',
  { skip: why }, async () => {
    const ro = path.join(scratch, 'readonly');
    fs.mkdirSync(ro);
    const tomcat = await startTomcat({
      wrap: inNamespace(`mount -t tmpfs -o ro,size=1m tmpfs '${ro}'`),
      params: { 'Comet.NativeDir': ro },
    });
    try {
      assert.equal(await status(tomcat.url), 200);
      const logs = allLogs(tomcat);
      assert.match(logs, new RegExp(`comet4j: Comet\\.NativeDir=${ro} is not writable`));
      assert.match(logs, /the native library was loaded from java\.io\.tmpdir=\S+ instead/);
    } finally {
      await tomcat.stop();
    }
  });

test('Comet.NativeDir and java.io.tmpdir both noexec: start-up fails naming both; the webapp does not start',
  { skip: why }, async () => {
    const nx = path.join(scratch, 'noexec2');
    const tmp = path.join(scratch, 'tmpdir');
    fs.mkdirSync(nx);
    fs.mkdirSync(tmp);
    const tomcat = await startTomcat({
      wrap: inNamespace(`mount -t tmpfs -o noexec tmpfs '${nx}' && mount -t tmpfs -o noexec tmpfs '${tmp}'`),
      params: { 'Comet.NativeDir': nx },
      env: { CATALINA_TMPDIR: tmp },
      ready: failedToStart,
    });
    try {
      const logs = allLogs(tomcat);
      assert.match(logs, new RegExp(`comet4j: start-up failed: comet4j: the native library cannot be extracted`
        + ` and loaded: Comet\\.NativeDir=${nx} is on a mount with noexec \\(${nx}\\)[^;]*; `
        + `java\\.io\\.tmpdir=${tmp} is on a mount with noexec`));
      assert.match(logs, /Set the context-param Comet\.NativeDir \(or the system property comet4j\.native\.dir\)/);
      assert.equal(await status(tomcat.url), 404, 'the example must not run');
    } finally {
      await tomcat.stop();
    }
  });

test('an unsupported platform (os.arch=sparcv9): start-up fails naming it and the supported ones', async () => {
  const tomcat = await startTomcat({
    env: { CATALINA_OPTS: `${process.env.CATALINA_OPTS || ''} -Dos.arch=sparcv9` },
    ready: failedToStart,
  });
  try {
    const logs = allLogs(tomcat);
    assert.match(logs, /comet4j: start-up failed: comet4j: no native library for this platform: found os\.name=Linux, os\.arch=sparcv9; supported: linux-x86_64 and linux-aarch64, with glibc 2\.34 or newer/);
    assert.match(logs, /no library is built for this processor architecture/);
    assert.equal(await status(tomcat.url), 404, 'the example must not run');
  } finally {
    await tomcat.stop();
  }
});
