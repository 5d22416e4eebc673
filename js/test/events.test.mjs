// Listener registration and dispatch of JS.Engine (no network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import JS from '../comet4j.js';

test('the global engine and Comet4J helpers exist', () => {
  assert.ok(JS.Engine instanceof JS.CometEngine);
  assert.equal(JS.Engine.running, false);
  assert.equal(JS.Engine.getId(), '');
  assert.equal(typeof JS.on, 'function');
  assert.equal(typeof JS.un, 'function');
  assert.equal(typeof JS.AJAX.get, 'function');
  assert.equal(typeof JS.AJAX.post, 'function');
  assert.equal(JS.Engine.un, JS.Engine.removeListener);
});

test('on(name, fn) and on(map) register; fire passes the arguments', () => {
  const e = new JS.CometEngine();
  const got = [];
  e.on('a', (x, y) => got.push(['a', x, y]));
  e.on({ b: (x) => got.push(['b', x]), c: (x) => got.push(['c', x]) });
  e.fire('a', 1, 2);
  e.fire('b', 3);
  e.fire('c', 4);
  e.fire('none', 5);
  assert.deepEqual(got, [['a', 1, 2], ['b', 3], ['c', 4]]);
});

test('the same function added twice runs once; removeListener removes it', () => {
  const e = new JS.CometEngine();
  let n = 0;
  const f = () => n++;
  e.on('a', f).on('a', f);
  e.fire('a');
  assert.equal(n, 1);
  e.removeListener('a', f);
  e.fire('a');
  assert.equal(n, 1);
});

test('un(name) without a function removes every listener of that name', () => {
  const e = new JS.CometEngine();
  let n = 0;
  e.on('a', () => n++).on('a', () => n++).on('b', () => n++);
  e.un('a');
  e.fire('a');
  e.fire('b');
  assert.equal(n, 1);
});

test('changes during a dispatch do not disturb it', () => {
  const e = new JS.CometEngine();
  const got = [];
  const late = () => got.push('late');
  const second = () => got.push('second');
  e.on('a', () => { got.push('first'); e.un('a', second); e.on('a', late); });
  e.on('a', second);
  e.fire('a');
  assert.deepEqual(got, ['first', 'second']);   // the running dispatch kept its list
  got.length = 0;
  e.fire('a');
  assert.deepEqual(got, ['first', 'late']);     // the next one sees the change
});

test('a listener that throws does not stop the others', () => {
  const e = new JS.CometEngine();
  const saved = console.warn;
  const warned = [];
  console.warn = (...a) => warned.push(a);
  try {
    let n = 0;
    e.on('a', () => { throw new Error('boom'); });
    e.on('a', () => n++);
    e.fire('a');
    assert.equal(n, 1);
    assert.equal(warned.length, 1);
  } finally {
    console.warn = saved;
  }
});

test('listeners run with the engine as this', () => {
  const e = new JS.CometEngine();
  let self;
  e.on('a', function () { self = this; });
  e.fire('a');
  assert.equal(self, e);
});

test('start() without a url throws; stop() before start() does nothing', () => {
  const e = new JS.CometEngine();
  let stops = 0;
  e.on('stop', () => stops++);
  assert.throws(() => e.start(), /url/);
  e.stop();
  assert.equal(stops, 0);
});

test('JS.on / JS.un use addEventListener', () => {
  const calls = [];
  const el = {
    addEventListener: (n, f, c) => calls.push(['add', n, f, c]),
    removeEventListener: (n, f, c) => calls.push(['remove', n, f, c]),
  };
  const f = () => {};
  JS.on(el, 'click', f);
  JS.un(el, 'click', f);
  assert.deepEqual(calls, [['add', 'click', f, false], ['remove', 'click', f, false]]);
});
