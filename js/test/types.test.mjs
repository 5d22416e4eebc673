// The TypeScript declarations, comet4j.d.ts, checked with tsc
// (typescript, a devDependency: .ci/install runs npm ci here): the typed
// examples of example-ts/ compile with --strict as a page (the global JS),
// as an ES module and as CommonJS (node's resolution and a bundler's,
// through the package's own exports); the wrong uses of example-ts/wrong/
// fail, each on its line with its error; and every name of comet4j.js at
// run time is declared, and every declaration a name at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import JS from '../comet4j.js';

const JS_DIR = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = path.join(JS_DIR, 'example-ts');
const TSC = path.join(JS_DIR, 'node_modules', 'typescript', 'bin', 'tsc');

// tsc -p config: its exit status and its diagnostics, one per line.
function tsc(config) {
  assert.ok(fs.existsSync(TSC), `no ${TSC}: run npm ci in js/ (.ci/install does)`);
  const r = spawnSync(process.execPath, [TSC, '-p', config, '--pretty', 'false'],
    { cwd: path.dirname(config), encoding: 'utf8' });
  assert.equal(r.error, undefined, String(r.error));
  return { status: r.status, out: (r.stdout + r.stderr).trim() };
}

test('tsc: the typed page (example-ts/page.ts, a plain <script> page: the global JS) ' +
     'compiles, strict', () => {
  const r = tsc(path.join(EXAMPLES, 'tsconfig.json'));
  assert.equal(r.out, '');
  assert.equal(r.status, 0);
});

test('tsc: the example as an ES module and as CommonJS compiles with node\'s resolution ' +
     'of the package\'s exports, without the DOM\'s types', () => {
  const r = tsc(path.join(EXAMPLES, 'tsconfig.node.json'));
  assert.equal(r.out, '');
  assert.equal(r.status, 0);
});

test('tsc: the ES module example compiles with a bundler\'s resolution', () => {
  const r = tsc(path.join(EXAMPLES, 'tsconfig.bundler.json'));
  assert.equal(r.out, '');
  assert.equal(r.status, 0);
});

test('tsc: each wrong use fails to compile, on its line, with its error, and nothing else', () => {
  // A line of example-ts/wrong/ that ends with "// error TSnnnn" must have
  // that error, and no other line an error.
  const want = [];
  for (const f of fs.readdirSync(path.join(EXAMPLES, 'wrong')).sort()) {
    fs.readFileSync(path.join(EXAMPLES, 'wrong', f), 'utf8').split('\n').forEach((l, i) => {
      const m = / \/\/ error (TS\d+)$/.exec(l);
      if (m) want.push(`wrong/${f}:${i + 1}: ${m[1]}`);
    });
  }
  assert.ok(want.length >= 15, `the wrong uses: ${want.length}`);
  const r = tsc(path.join(EXAMPLES, 'tsconfig.wrong.json'));
  assert.notEqual(r.status, 0, r.out);
  const got = [];
  for (const l of r.out.split('\n')) {
    const m = /^(.+?)\((\d+),\d+\): error (TS\d+):/.exec(l);
    if (m) got.push(`${m[1]}:${m[2]}: ${m[3]}`);
  }
  assert.deepEqual(got.sort(), want.sort(), r.out);
});

// ---------------------------------------------------------------------
// Coverage: the names of comet4j.js at run time against the declarations.
// ---------------------------------------------------------------------

// The names of o a page sees: own and inherited (up to Object.prototype),
// without the private ones (_name; Comet4J's public _xhr is one).
function names(o, { statics = false } = {}) {
  const out = new Set();
  for (let p = o; p && p !== Object.prototype && p !== Function.prototype;
    p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) {
      if (n === 'constructor' || (n.startsWith('_') && n !== '_xhr')) continue;
      if (statics && ['length', 'name', 'prototype', 'arguments', 'caller'].includes(n)) continue;
      out.add(n);
    }
    if (statics) break;
  }
  return [...out].sort();
}

const lit = (v) => JSON.stringify(v);
const union = (list) => list.map(lit).join(' | ') || 'never';

test('every name of comet4j.js is declared, and every declaration is a name at run time', () => {
  const fn = () => {};
  const engineOptions = { retryMin: 1, retryMax: 2, handshakeTimeout: 3, openTimeout: 4,
    heartbeat: 5, deadBeats: 6, requestTimeout: 7, workers: 1, endpoints: [],
    WebSocket: class {} };
  const callbacks = { onFrame: fn, onAlive: fn, onClose: fn };
  // [what, the value at run time, the declared type, which way: both (every
  // name at run time is declared, and every declared name is there, but
  // for optional ones) or 'declared' (every declared name is there: the
  // transports have private members besides), statics (the names of a
  // class itself)]
  const checks = [
    ['JS', JS, 'typeof JS'],
    ['JS.Engine', JS.Engine, 'JS.CometEngine'],
    ['new JS.CometEngine()', new JS.CometEngine(), 'JS.CometEngine'],
    ['JS.Engine.connector', JS.Engine.connector, 'JS.Connector'],
    ['new JS.Connector(config)', new JS.Connector({ url: 'conn', ...engineOptions }),
      'JS.Connector'],
    ['JS.Connector', JS.Connector, 'typeof JS.Connector', 'both', true],
    ['new JS.XMLHttpRequest()', new JS.XMLHttpRequest(), 'JS.XMLHttpRequest'],
    ['JS.XMLHttpRequest', JS.XMLHttpRequest, 'typeof JS.XMLHttpRequest', 'both', true],
    ['new JS.Observable(config)', new JS.Observable({ events: ['a'] }), 'JS.Observable'],
    ['new JS.Event()', new JS.Event('a', {}), 'JS.Event'],
    ['new JS.Listener()', new JS.Listener(fn), 'JS.Listener'],
    ['new JS.DelayedTask()', new JS.DelayedTask(fn), 'JS.DelayedTask'],
    ['JS.Runtime', JS.Runtime, 'typeof JS.Runtime'],
    ['JS.Syntax', JS.Syntax, 'typeof JS.Syntax'],
    ['JS.DomEvent', JS.DomEvent, 'typeof JS.DomEvent'],
    ['JS.AJAX', JS.AJAX, 'typeof JS.AJAX'],
    ['JS.HTTPStatus (names)', Object.fromEntries(Object.entries(JS.HTTPStatus)
      .filter(([k]) => !/^\d+$/.test(k))), 'typeof JS.HTTPStatus'],
    ['JS.CODES', JS.CODES, 'typeof JS.CODES'],
    ['JS.Protocol', JS.Protocol, 'typeof JS.Protocol'],
    ['JS.Transports', JS.Transports, 'typeof JS.Transports'],
    ['new JS.Subscription()', new JS.Subscription('a'), 'JS.Subscription'],
    ['new JS.SubscriptionTable()', new JS.SubscriptionTable(), 'JS.SubscriptionTable'],
    ['JS.SubscriptionTable', JS.SubscriptionTable, 'typeof JS.SubscriptionTable', 'both', true],
    ['new JS.Commands()', new JS.Commands(), 'JS.Commands'],
    ['new JS.NodePicker()', new JS.NodePicker(), 'JS.NodePicker'],
    ['JS.NodePicker', JS.NodePicker, 'typeof JS.NodePicker', 'both', true],
  ];
  for (const [ws, T] of Object.entries(JS.Transports)) {
    checks.push([`JS.Transports.${ws}`, T, `typeof JS.Transports.${ws}`, 'declared', true]);
    checks.push([`new JS.Transports.${ws}()`, new T(callbacks, {}), 'JS.Transport', 'declared']);
  }
  const lines = ['// generated by js/test/types.test.mjs',
    // A declared optional member (an option a config gives) may be missing.
    'type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];'];
  const what = {};
  checks.forEach(([label, value, type, way = 'both', statics = false], i) => {
    const list = names(value, { statics });
    assert.ok(list.length, label);
    if (way === 'both') {
      what[lines.length + 1] = label + ': not declared';
      lines.push(`const _names${i}: (keyof ${type})[] = [${list.map(lit).join(', ')}];`);
    }
    {
      // An index signature's number keys and a class's prototype are not names.
      what[lines.length + 1] = label + ': declared, not there at run time';
      lines.push(`declare const _extra${i}: Exclude<RequiredKeys<${type}>, ` +
        `${union(list)} | number${statics ? ' | "prototype"' : ''}>;`);
      what[lines.length + 1] = label + ': declared, not there at run time';
      lines.push(`const _none${i}: never = _extra${i};`);
    }
  });
  // The declared literal types are the tables' values.
  const literal = [['JS.CODES', JS.CODES], ['JS.HTTPStatus', Object.fromEntries(
    Object.entries(JS.HTTPStatus).filter(([k]) => !/^\d+$/.test(k)))],
  ['JS.Protocol', { VERSION: JS.Protocol.VERSION }]];
  const c = new JS.Connector();
  literal.push(['(new JS.Connector())', { SYSCHANNEL: c.SYSCHANNEL, LLOOPSTYLE: c.LLOOPSTYLE,
    STREAMSTYLE: c.STREAMSTYLE, CMDTAG: c.CMDTAG }]);
  lines.push('type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;');
  let n = 0;
  for (const [obj, table] of literal) {
    for (const [k, v] of Object.entries(table)) {
      what[lines.length + 1] = `${obj}.${k} is ${lit(v)}`;
      const type = obj.startsWith('(') ? 'JS.Connector' : `typeof ${obj}`;
      lines.push(`const _lit${n++}: Same<${type}[${lit(k)}], ${lit(v)}> = true;`);
    }
  }
  assert.ok(n > 30, 'literal checks');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comet4j-types-'));
  try {
    fs.writeFileSync(path.join(dir, 'coverage.ts'), lines.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'es2020', lib: ['es2020'],
        types: [], noUnusedLocals: false },
      files: [path.join(JS_DIR, 'comet4j.d.ts'), 'coverage.ts'],
    }));
    const r = tsc(path.join(dir, 'tsconfig.json'));
    const wrong = r.out.split('\n').filter((l) => /^coverage\.ts\(\d+,/.test(l))
      .map((l) => `${what[/\((\d+),/.exec(l)[1]] ?? '?'}: ${l}`);
    assert.deepEqual(wrong, [], r.out);
    assert.equal(r.status, 0, r.out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const o of [c, JS.Engine]) o.stop();
});
