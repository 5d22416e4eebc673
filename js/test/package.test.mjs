// js/ as the npm package comet4j-native: package.json (publishable, no
// dependencies, the release's version), its entries (the ES module
// comet4j.mjs, CommonJS and the plain script comet4j.js, the same file
// the jar serves at <context>/comet4j.js), and the packed tarball as a
// front-end project installs it: node imports and requires it, tsc finds
// its declarations (a page's "types", a module's import).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import JS from '../comet4j.js';

const JS_DIR = fileURLToPath(new URL('..', import.meta.url));
const ROOT = path.dirname(JS_DIR);
const PKG = JSON.parse(fs.readFileSync(path.join(JS_DIR, 'package.json'), 'utf8'));
const require = createRequire(path.join(JS_DIR, 'package.json'));
const FILES = ['README.md', 'comet4j.d.ts', 'comet4j.js', 'comet4j.mjs', 'package.json'];

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  assert.equal(r.error, undefined, `${cmd}: ${r.error}`);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// Every path an entry of package.json names.
function targets(exp) {
  if (typeof exp === 'string') return [exp];
  return Object.values(exp).flatMap(targets);
}

test('package.json: publishable, no dependencies, entries for import, require, the script',
  () => {
  assert.equal(PKG.name, 'comet4j-native');
  assert.equal(PKG.private, undefined, 'not private: it is published');
  assert.equal(PKG.license, 'Apache-2.0');
  assert.match(fs.readFileSync(path.join(ROOT, 'pom.xml'), 'utf8'),
    /<name>Apache License, Version 2\.0<\/name>/, 'the licence of the jar');
  for (const k of ['dependencies', 'peerDependencies', 'optionalDependencies',
    'bundleDependencies']) {
    assert.equal(PKG[k], undefined, `no ${k}`);
  }
  assert.deepEqual(Object.keys(PKG.devDependencies).sort(), ['typescript', 'ws']);
  assert.equal(PKG.type, undefined, 'comet4j.js is CommonJS to node (type would make it ESM)');
  assert.deepEqual(PKG.exports['.'], { types: './comet4j.d.ts', import: './comet4j.mjs',
    require: './comet4j.js', default: './comet4j.js' });
  assert.equal(PKG.exports['./comet4j.js'].default, './comet4j.js', 'the plain script');
  assert.equal(PKG.main, './comet4j.js');
  assert.equal(PKG.types, './comet4j.d.ts');
  const named = [PKG.main, PKG.module, PKG.types, PKG.unpkg, PKG.jsdelivr,
    ...targets(PKG.exports)];
  for (const t of named) {
    assert.ok(fs.existsSync(path.join(JS_DIR, t)), t);
    assert.ok(FILES.includes(t.replace(/^\.\//, '')), `${t} is in the package`);
  }
  for (const f of PKG.files) assert.ok(fs.existsSync(path.join(JS_DIR, f)), f);
});

test('one version: package.json\'s and the lock\'s are the root pom.xml\'s and JS.version', () => {
  const pom = fs.readFileSync(path.join(ROOT, 'pom.xml'), 'utf8');
  const version = /<artifactId>comet4j-parent<\/artifactId>\s*<version>([^<]+)<\/version>/
    .exec(pom)[1];
  const lock = JSON.parse(fs.readFileSync(path.join(JS_DIR, 'package-lock.json'), 'utf8'));
  assert.deepEqual([PKG.version, lock.version, lock.packages[''].version, JS.version],
    [version, version, version, version]);
  assert.equal(lock.name, PKG.name);
});

test('the ES module entry: JS as the default export, every name of JS as a named one', async () => {
  // The package by its own name, as node resolves it (exports, "import").
  const mod = await import('comet4j-native');
  assert.equal(mod.default, JS);
  assert.equal(require('comet4j-native'), JS, 'require: the same module');
  assert.deepEqual(Object.keys(mod).filter((k) => k !== 'default').sort(),
    Object.keys(JS).sort());
  for (const k of Object.keys(JS)) assert.equal(mod[k], JS[k], k);
  assert.equal((await import('comet4j-native/comet4j.js')).default, JS);
});

test('the plain script is the file the jar serves at <context>/comet4j.js', () => {
  assert.equal(require.resolve('comet4j-native/comet4j.js'), path.join(JS_DIR, 'comet4j.js'));
  assert.equal(require.resolve('comet4j-native'), path.join(JS_DIR, 'comet4j.js'));
  const pom = fs.readFileSync(path.join(ROOT, 'java', 'pom.xml'), 'utf8');
  assert.match(pom, new RegExp('<directory>\\.\\./js</directory>\\s*' +
    '<includes><include>comet4j\\.js</include></includes>\\s*' +
    '<targetPath>META-INF/resources</targetPath>'));
});

test('comet4j.mjs loaded where comet4j.js is an ES module too (a browser without a ' +
     'bundler): the global JS it defines', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comet4j-esm-'));
  try {
    for (const f of ['comet4j.js', 'comet4j.mjs']) {
      fs.copyFileSync(path.join(JS_DIR, f), path.join(dir, f));
    }
    // type module: node loads comet4j.js as a module, with no module.exports.
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}');
    assert.equal(globalThis.JS, undefined);
    const mod = await import(pathToFileURL(path.join(dir, 'comet4j.mjs')).href);
    try {
      assert.equal(typeof mod.default.Engine.start, 'function');
      assert.equal(mod.default, globalThis.JS, 'the global of a plain script');
      assert.notEqual(mod.default, JS, 'its own copy');
      assert.deepEqual(Object.keys(mod).filter((k) => k !== 'default').sort(),
        Object.keys(JS).sort());
      assert.equal(mod.Engine, mod.default.Engine);
    } finally {
      delete globalThis.JS;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('npm pack: the tarball, installed in a front-end project: node imports and requires it, ' +
     'tsc types a page (its "types") and a module against it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comet4j-pack-'));
  try {
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], JS_DIR));
    assert.deepEqual(packed[0].files.map((f) => f.path).sort(), FILES);
    const tgz = path.join(dir, packed[0].filename);
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '0.0.0', private: true }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', tgz], app);
    const installed = path.join(app, 'node_modules', 'comet4j-native');
    assert.equal(fs.readFileSync(path.join(installed, 'comet4j.js'), 'utf8'),
      fs.readFileSync(path.join(JS_DIR, 'comet4j.js'), 'utf8'));
    assert.equal(run(process.execPath, ['--input-type=module', '-e',
      "import JS, { Engine } from 'comet4j-native'; import { createRequire } from 'node:module';" +
      "const r = createRequire(import.meta.url); console.log(JS === r('comet4j-native') && " +
      "Engine === JS.Engine && r('comet4j-native/comet4j.js') === JS && JS.version)"], app).trim(),
    PKG.version);
    // The examples, against the installed package: a page that names it in
    // "types" (the global JS), and the modules that import it.
    const ex = path.join(JS_DIR, 'example-ts');
    for (const f of ['page.ts', 'module.mts', 'require.cts', 'node-globals.d.ts']) {
      fs.copyFileSync(path.join(ex, f), path.join(app, f));
    }
    const base = { strict: true, noEmit: true, target: 'es2020', moduleDetection: 'auto' };
    fs.writeFileSync(path.join(app, 'tsconfig.page.json'), JSON.stringify({
      compilerOptions: { ...base, lib: ['es2020', 'dom'], types: ['comet4j-native'] },
      files: ['page.ts'] }));
    fs.writeFileSync(path.join(app, 'tsconfig.node.json'), JSON.stringify({
      compilerOptions: { ...base, lib: ['es2020'], types: [], module: 'nodenext',
        moduleResolution: 'nodenext' },
      files: ['node-globals.d.ts', 'module.mts', 'require.cts'] }));
    const tsc = path.join(JS_DIR, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const c of ['tsconfig.page.json', 'tsconfig.node.json']) {
      assert.equal(run(process.execPath, [tsc, '-p', c, '--pretty', 'false'], app), '', c);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
