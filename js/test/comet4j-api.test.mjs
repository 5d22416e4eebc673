// Comet4J 0.1.7's page API in comet4j.js (no network but the fake
// server's /echo): every name by reflection, then what JS.js,
// Observable.js, XMLHttpRequest.js and AJAX.js did, name by name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import JS from '../comet4j.js';
import { startFakeServer, sleep } from '../testlib/fake-server.mjs';

const SOURCE = fs.readFileSync(fileURLToPath(new URL('../comet4j.js', import.meta.url)), 'utf8');

// comet4j.js loaded as a page loads it, with a plain <script>: into a
// fresh global object (the page's window), which gets the global JS.
function asScript(globals = {}) {
  const window = vm.createContext({ console, setTimeout, clearTimeout, setInterval,
    clearInterval, ...globals });
  window.window = window;
  vm.runInContext(SOURCE, window, { filename: 'comet4j.js' });
  return window;
}

// ---------------------------------------------------------------------
// Comet4J 0.1.7's page API, written from its sources (comet4j-js/src:
// JS.js, Observable.js, XMLHttpRequest.js, AJAX.js, Connector.js,
// Engine.js) and its documentation (comet4j-js/docs): each object with
// its functions and the number of parameters Comet4J declared, its other
// members, and the events of each class. Comet4J's private methods
// (marked so in its source: Connector's startConnect, revivalConnect,
// retryRevivalConnect, decodeMessage, translateStreamData,
// dispatchServerEvent, doOnProgress, doOnLoad, doOnError, doOnTimeout;
// Engine's initEvent and lStore) are not part of it.
const RUNTIME = ['isOpera', 'isFirefox', 'isChrome', 'isWebKit', 'isSafari', 'isSafari2',
  'isSafari3', 'isSafari4', 'isIE', 'isIE7', 'isIE8', 'isIE6', 'isGecko', 'isGecko2',
  'isGecko3', 'isWindows', 'isMac', 'isAir', 'isLinux'];
const OBSERVABLE = { on: 4, fireEvent: 0, addEvent: 1, addEvents: 1, addListener: 4,
  addListeners: 3, removeListener: 3, clearListeners: 0, clearEvents: 0, removeEvent: 1,
  removeEvents: 1, hasEvent: 1, hasListener: 3, suspendEvents: 0, resumeEvents: 0 };
const SYNTAX = { log: 1, nameSpace: 0, apply: 3, override: 2, extend: 3, callBack: 3,
  isEmpty: 2, isArray: 1, isDate: 1, isObject: 1, isPrimitive: 1, isFunction: 1,
  isNumber: 1, isString: 1, isBoolean: 1, isElement: 1, isDefined: 1, toArray: 3 };
const COMET4J = {
  // JS.js
  JS: {
    functions: { log: 1, ns: 0, apply: 3, override: 2, extend: 3, callBack: 3, isEmpty: 2,
      isArray: 1, isDate: 1, isObject: 1, isPrimitive: 1, isFunction: 1, isNumber: 1,
      isString: 1, isBoolean: 1, isElement: 1, isDefined: 1, toArray: 3, on: 4, un: 4,
      DelayedTask: 3, Observable: 1, Event: 2, Listener: 3, XMLHttpRequest: 0,
      Connector: 0 },
    values: ['version', 'Runtime', 'Syntax', 'DomEvent', 'HTTPStatus', 'AJAX', 'Engine',
      ...RUNTIME],
  },
  'JS.Runtime': { values: RUNTIME },
  'JS.Syntax': { functions: SYNTAX },
  'JS.DomEvent': { functions: { on: 4, un: 4, stop: 1, stopPropagation: 1 } },
  'new JS.DelayedTask()': { functions: { delay: 4, cancel: 0 } },
  // Observable.js
  'JS.Observable.prototype': { functions: OBSERVABLE },
  'JS.Event.prototype': { functions: { fire: 0, addListener: 3, removeListener: 2,
    hasListener: 2, clearListeners: 0 } },
  'JS.Listener.prototype': { functions: { execute: 0, equal: 2, clear: 0 } },
  // XMLHttpRequest.js
  'JS.HTTPStatus': { values: ['200', '404', '500', 'OK', 'BADREQUEST', 'FORBIDDEN',
    'NOTFOUND', 'TIMEOUT', 'SERVERERROR'] },
  'JS.XMLHttpRequest.prototype': {
    functions: { ...OBSERVABLE, delayTimeout: 0, cancelTimeout: 0,
      createXmlHttpRequestObject: 0, doReadyStateChange: 0, onreadystatechange: 0, open: 5,
      send: 1, abort: 0, setRequestHeader: 2, getResponseHeader: 1,
      getAllResponseHeaders: 0, setTimeout: 1 },
    values: ['enableCache', 'timeout', 'isAbort', 'specialXHR', 'readyState', 'status',
      'statusText', 'responseText', 'responseXML'],
    events: ['readyStateChange', 'timeout', 'abort', 'error', 'load', 'progress'],
  },
  // AJAX.js
  'JS.AJAX': { functions: { post: 5, get: 5, getText: 5, getJson: 5 },
    values: ['dataFormatError', 'urlError'] },
  // Connector.js
  'JS.Connector.prototype': {
    functions: { ...OBSERVABLE, start: 2, stop: 1, getId: 0, perfectParam: 1 },
    values: ['version', 'SYSCHANNEL', 'LLOOPSTYLE', 'STREAMSTYLE', 'CMDTAG', 'retryCount',
      'retryDelay', 'currRetry', 'url', 'param', 'revivalDelay', 'cId', 'channels',
      'workStyle', 'emptyUrlError', 'runningError', 'dataFormatError', 'running', '_xhr',
      'lastReceiveMessage'],
    events: ['beforeConnect', 'connect', 'beforeStop', 'stop', 'message', 'revival'],
  },
  // Engine.js
  'JS.Engine': {
    functions: { ...OBSERVABLE, start: 2, stop: 1, getConnector: 0, getId: 0 },
    values: ['running', 'connector'],
  },
};
// Where this file takes more parameters than Comet4J declared.
const MORE = { 'JS.Engine.start': 3 };   // start(url, param, options)

function resolve(path) {
  if (path === 'new JS.DelayedTask()') return new JS.DelayedTask(() => {});
  return path.split('.').slice(1).reduce((o, k) => o[k], JS);
}

for (const [path, { functions = {}, values = [], events = [] }] of Object.entries(COMET4J)) {
  test(`Comet4J's ${path}: every name, with Comet4J's arity`, () => {
    const o = resolve(path);
    assert.ok(o, path);
    for (const [name, arity] of Object.entries(functions)) {
      assert.equal(typeof o[name], 'function', `${path}.${name}`);
      const want = MORE[`${path}.${name}`] ?? arity;
      assert.equal(o[name].length, want, `${path}.${name} takes ${want} parameters`);
    }
    for (const name of values) assert.ok(name in o, `${path}.${name}`);
    if (events.length) {
      const Cls = path === 'JS.XMLHttpRequest.prototype' ? JS.XMLHttpRequest : JS.Connector;
      const instance = new Cls();
      for (const ev of events) assert.ok(instance.hasEvent(ev), `${path}: event ${ev}`);
    }
  });
}

test('the classes are what Comet4J made them: Observables, built with JS.extend', () => {
  assert.ok(new JS.XMLHttpRequest() instanceof JS.Observable);
  assert.ok(new JS.Connector() instanceof JS.Observable);
  assert.equal(JS.XMLHttpRequest.superclass, JS.Observable.prototype);
  assert.equal(JS.Connector.superclass.constructor, JS.Observable);
  assert.ok(JS.Engine instanceof JS.Observable);
  assert.ok(JS.Engine.connector instanceof JS.Connector);
  assert.equal(JS.Engine.getConnector(), JS.Engine.connector);
  // Every Observable method is the engine's own (exact event names), none
  // an Observable's working on a table the engine does not have.
  for (const name of Object.keys(OBSERVABLE)) {
    assert.ok(Object.hasOwn(JS.CometEngine.prototype, name), name);
  }
  const c = new JS.Connector();
  assert.ok(c._xhr instanceof JS.XMLHttpRequest);
  assert.deepEqual([c.LLOOPSTYLE, c.STREAMSTYLE, c.SYSCHANNEL, c.CMDTAG],
    ['lpool', 'stream', 'c4j', 'cmd']);
  assert.deepEqual([c.retryCount, c.retryDelay, c.revivalDelay, c.running, c.cId, c.workStyle],
    [3, 1000, 100, false, '', '']);
  assert.deepEqual(c.channels, []);
  assert.equal(c.getId(), '');
});

// --- JS.js ---

test('a plain <script> makes the global JS; JS.Runtime reads the user agent', () => {
  const uas = {
    chromeWin: ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
      'Chrome/120.0 Safari/537.36', ['isChrome', 'isWebKit', 'isWindows']],
    firefoxLinux: ['Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
      ['isFirefox', 'isGecko', 'isLinux']],
    gecko3: ['Mozilla/5.0 (Windows; U; Windows NT 5.1; rv:1.9.2) Gecko/20100115 Firefox/3.6',
      ['isFirefox', 'isGecko', 'isGecko3', 'isWindows']],
    ie8: ['Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)', ['isIE', 'isIE8',
      'isWindows']],
    ie6: ['Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)', ['isIE', 'isIE6', 'isWindows']],
    ie9: ['Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)', ['isIE',
      'isWindows']],
    safari4: ['Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6; en) AppleWebKit/531.9 ' +
      '(KHTML, like Gecko) Version/4.0.3 Safari/531.9', ['isSafari', 'isSafari4', 'isWebKit',
      'isMac']],
    opera: ['Opera/9.80 (Windows NT 6.1; U; en) Presto/2.2.15 Version/10.00', ['isOpera',
      'isWindows']],
    air: ['Mozilla/5.0 (Windows; U; en) AppleWebKit/531.9 (KHTML, like Gecko) AdobeAIR/2.0',
      ['isAir', 'isWebKit', 'isWindows']],
  };
  for (const [name, [ua, set]] of Object.entries(uas)) {
    const window = asScript({ navigator: { userAgent: ua } });
    assert.equal(typeof window.JS, 'object', name);
    assert.equal(window.JS.Engine.getConnector() instanceof window.JS.Connector, true);
    for (const flag of RUNTIME) {
      assert.equal(window.JS.Runtime[flag], set.includes(flag), `${name}: ${flag}`);
      assert.equal(window.JS[flag], window.JS.Runtime[flag], `${name}: JS.${flag}`);
    }
  }
  // No navigator (node, a worker without one): every flag false.
  assert.ok(RUNTIME.every((f) => asScript().JS[f] === false));
});

test('JS.ns makes nested objects from the global object, keeps what exists', () => {
  const window = asScript();
  const made = vm.runInContext(`
    var a = JS.ns('app.model.user', 'app.view');
    app.model.user.x = 1;
    var again = JS.ns('app.model.user');
    var inJs = JS.ns('JS.plugins.chat');
    [a === app.view, again === app.model.user, again.x, inJs === JS.plugins.chat,
     JS.ns('JS.Observable') === JS.Observable, JS.ns() === undefined]`, window);
  assert.deepEqual([...made], [true, true, 1, true, true, true]);
});

test('JS.apply, JS.callBack, JS.toArray, JS.log', () => {
  assert.deepEqual(JS.apply({}, { a: 1, b: 2 }, { a: 0, c: 3 }), { a: 1, b: 2, c: 3 });
  assert.deepEqual(JS.apply({ a: 1 }, {}, { a: 0 }), { a: 0 }, 'defaults go on first');
  assert.deepEqual(JS.apply({ a: 1 }, null), { a: 1 });
  const scope = { k: 5 };
  assert.equal(JS.callBack(function (x, y) { return this.k + x + y; }, scope, [1, 2]), 8);
  assert.equal(JS.callBack('not a function'), undefined);
  assert.equal(JS.callBack(function () { return this; }), globalThis, 'no scope: the global object');
  (function () { assert.deepEqual(JS.toArray(arguments, 1), [2, 3]); }(1, 2, 3));
  assert.deepEqual(JS.toArray({ length: 3, 0: 'a', 1: 'b', 2: 'c' }, 0, 2), ['a', 'b']);
  const saved = console.log;
  const logged = [];
  console.log = (...a) => logged.push(a);
  try { JS.log('hello'); } finally { console.log = saved; }
  assert.deepEqual(logged, [['hello']]);
});

test('JS.isEmpty and the type tests', () => {
  for (const v of [null, undefined, [], '']) assert.equal(JS.isEmpty(v), true, String(v));
  assert.equal(JS.isEmpty('', true), false);
  for (const v of [0, 'x', [0], {}, false]) assert.equal(JS.isEmpty(v), false, String(v));
  const cases = {
    isArray: [[[]], [{}, 'a', null]],
    isDate: [[new Date()], [Date.now(), '2020']],
    isObject: [[{}, Object.create(null)], [[], null, () => {}, new Date(), 'x']],
    isPrimitive: [['a', 1, true], [null, {}, NaN]],
    isFunction: [[() => {}, async () => {}, function* g() {}], [{}, null]],
    isNumber: [[1, 0, -2.5], [NaN, Infinity, '1']],
    isString: [['', 'a'], [1, null]],
    isBoolean: [[true, false], [0, 'true']],
    isElement: [[{ tagName: 'DIV' }], [{}, null]],
    isDefined: [[null, 0], [undefined]],
  };
  for (const [fn, [yes, no]] of Object.entries(cases)) {
    yes.forEach((v, i) => assert.equal(JS[fn](v), true, `${fn}: yes #${i}`));
    no.forEach((v, i) => assert.equal(JS[fn](v), false, `${fn}: no #${i}`));
  }
  assert.equal(JS.Syntax.isEmpty, JS.isEmpty);
  assert.equal(JS.Syntax.nameSpace, JS.ns);
});

test('JS.extend(Super, overrides): constructor, superclass, supr, override, extend', () => {
  const Animal = function (name) { this.name = name; };
  Animal.prototype.speak = function () { return this.name + ' makes a sound'; };
  const Dog = JS.extend(Animal, {
    constructor: function (name) {
      Dog.superclass.constructor.call(this, name);
      this.kind = 'dog';
    },
    speak: function () { return Dog.superclass.speak.call(this) + ': woof'; },
  });
  const d = new Dog('Rex');
  assert.ok(d instanceof Dog && d instanceof Animal);
  assert.equal(d.constructor, Dog);
  assert.equal(Dog.superclass, Animal.prototype);
  assert.equal(d.supr(), Animal.prototype);
  assert.equal(d.superclass(), Animal.prototype);
  assert.equal(d.speak(), 'Rex makes a sound: woof');
  assert.equal(d.kind, 'dog');
  // No constructor of its own: one that calls the superclass with its arguments.
  const Puppy = JS.extend(Dog, { small: true });
  const p = new Puppy('Bit');
  assert.ok(p instanceof Puppy && p instanceof Dog);
  assert.equal(p.speak(), 'Bit makes a sound: woof');
  assert.equal(p.small, true);
  // Class.override, Class.extend, instance.override.
  Puppy.override({ speak() { return 'yip'; } });
  assert.equal(p.speak(), 'yip');
  const Tiny = Puppy.extend({ tiny: 1 });
  assert.ok(new Tiny('t') instanceof Puppy);
  p.override({ name: 'Bitsy' });
  assert.equal(p.name, 'Bitsy');
  assert.equal(Object.hasOwn(p, 'name'), true);
  // The three-argument form: the subclass given.
  function Cat(name) { Animal.call(this, name); }
  assert.equal(JS.extend(Cat, Animal, { speak() { return 'meow'; } }), Cat);
  assert.equal(new Cat('Tom').speak(), 'meow');
  assert.ok(new Cat('Tom') instanceof Animal);
  // A superclass whose prototype is a plain object gets its constructor back.
  const Base = function () {};
  Base.prototype = { hello() { return 'hi'; } };
  const Sub = JS.extend(Base, {});
  assert.equal(Sub.superclass.constructor, Base);
  assert.equal(new Sub().hello(), 'hi');
});

test('JS.override copies onto the prototype, toString too', () => {
  function K() {}
  JS.override(K, { a() { return 1; }, toString() { return 'K!'; } });
  assert.equal(new K().a(), 1);
  assert.equal(String(new K()), 'K!');
  JS.override(K, undefined);
  assert.equal(new K().a(), 1);
});

test('JS.DomEvent: on/un with and without a scope, stop, stopPropagation', () => {
  const added = [];
  const el = {
    addEventListener: (n, f) => added.push([n, f]),
    removeEventListener: (n, f) => { const i = added.findIndex((a) => a[0] === n && a[1] === f); if (i >= 0) added.splice(i, 1); },
  };
  const scope = { v: 7 };
  let seen;
  const fn = function (ev) { seen = [this, ev]; };
  JS.on(el, 'click', fn, scope);
  assert.equal(added.length, 1);
  assert.notEqual(added[0][1], fn, 'wrapped, to run with the scope');
  added[0][1]('E');
  assert.deepEqual(seen, [scope, 'E']);
  JS.un(el, 'click', fn, scope);
  assert.equal(added.length, 0, 'the wrapper is removed');
  JS.on(el, 'key', fn);
  assert.equal(added[0][1], fn, 'no scope: fn itself');
  JS.un(el, 'key', fn);
  assert.equal(added.length, 0);
  const attached = [];
  JS.DomEvent.on({ attachEvent: (n, f) => attached.push(n) }, 'load', fn);
  assert.deepEqual(attached, ['onload']);

  const e = { preventDefault() { this.p = true; }, stopPropagation() { this.s = true; } };
  JS.DomEvent.stop(e);
  assert.deepEqual([e.returnValue, e.p, e.s, e.cancelBubble], [false, true, true, true]);
  const old = {};
  JS.DomEvent.stopPropagation(old);
  assert.equal(old.cancelBubble, true);
});

test('JS.DelayedTask: one call after the delay; a new delay replaces the old; cancel', async () => {
  const calls = [];
  const scope = { id: 's' };
  const task = new JS.DelayedTask(function (...a) { calls.push([this.id, ...a]); }, scope, [1]);
  task.delay(30);
  task.delay(30);
  await sleep(80);
  assert.deepEqual(calls, [['s', 1]], 're-delayed: one call');
  task.delay(10, function (x) { calls.push(['new', this.id, x]); }, { id: 't' }, [2]);
  await sleep(40);
  assert.deepEqual(calls[1], ['new', 't', 2]);
  task.delay(10);   // the new fn, scope and args stay
  await sleep(40);
  assert.deepEqual(calls[2], ['new', 't', 2]);
  task.delay(20);
  task.cancel();
  task.cancel();
  await sleep(50);
  assert.equal(calls.length, 3, 'cancelled');
});

// --- Observable.js ---

test('JS.Observable: config, events and listeners from config, case-insensitive names', () => {
  const got = [];
  const o = new JS.Observable({
    answer: 42,
    events: ['Ready', 'done'],
    listeners: { READY: function (x) { got.push(['ready', x, this.answer]); } },
  });
  assert.equal(o.answer, 42);
  assert.equal(o.listeners, undefined, 'listeners config is consumed');
  assert.equal(o.hasEvent('ready'), true);
  assert.equal(o.hasEvent('DONE'), true);
  assert.equal(o.hasEvent('other'), false);
  assert.equal(o.fireEvent('rEaDy', 1), true);
  assert.deepEqual(got, [['ready', 1, 42]], 'this is the observable');
  assert.equal(o.fireEvent('done'), undefined, 'declared, no listener list: undefined');
  assert.equal(o.fireEvent('nothing'), undefined);
  assert.equal(new JS.Observable().fireEvent('x'), undefined);
});

test('JS.Observable: order, false stops the rest, scope, once per fn, removal', () => {
  const o = new JS.Observable();
  const got = [];
  const a = () => got.push('a');
  const b = () => { got.push('b'); return false; };
  const c = () => got.push('c');
  o.on('e', a);
  o.addListener('e', b);
  o.on('E', c);
  o.on('e', a);   // the same fn again: kept once
  assert.equal(o.fireEvent('e'), false);
  assert.deepEqual(got, ['a', 'b'], 'in the order added; b returned false');
  assert.equal(o.hasListener('e', b), true);
  assert.equal(o.hasListener('e', () => {}), false);
  assert.equal(o.hasListener('none', a), false);
  o.removeListener('E', b);
  got.length = 0;
  assert.equal(o.fireEvent('e'), true);
  assert.deepEqual(got, ['a', 'c']);
  o.un('e', a);
  got.length = 0;
  o.fireEvent('e');
  assert.deepEqual(got, ['c']);
  o.un('e');
  got.length = 0;
  assert.equal(o.fireEvent('e'), true, 'the event stays, with no listener');
  assert.deepEqual(got, []);

  const scope = { s: 1 };
  let self;
  o.on('s', function () { self = this; }, scope);
  o.fireEvent('s');
  assert.equal(self, scope);
  // on(map, scope) and Comet4J's on(map, fn, scope).
  const seen = [];
  o.on({ m1() { seen.push(this); } }, scope);
  o.on({ m2() { seen.push(this); } }, null, scope);
  o.addListeners({ m3() { seen.push(this); } }, scope);
  o.fireEvent('m1'); o.fireEvent('m2'); o.fireEvent('m3');
  assert.deepEqual(seen, [scope, scope, scope]);
  o.on('bad', 'not a function');
  assert.equal(o.fireEvent('bad'), undefined);
});

test('JS.Observable: removeEvent(s), clearListeners, clearEvents, addEvent(JS.Event)', () => {
  const o = new JS.Observable();
  let n = 0;
  o.on('a', () => n++);
  o.on('b', () => n++);
  o.on('c', () => n++);
  o.removeEvent('A');
  assert.equal(o.hasEvent('a'), false);
  assert.equal(o.fireEvent('a'), undefined);
  o.removeEvents(['b']);
  o.removeEvents('nothing');
  assert.equal(o.hasEvent('b'), false);
  o.clearListeners();
  assert.equal(o.hasEvent('c'), true, 'events stay');
  assert.equal(o.fireEvent('c'), true);
  assert.equal(n, 0);
  o.clearEvents();
  assert.equal(o.hasEvent('c'), false);
  const ev = new JS.Event('Custom', o);
  o.addEvent(ev);
  o.addEvents('x', 'y');
  assert.equal(o.events.custom, ev);
  assert.deepEqual([o.hasEvent('x'), o.hasEvent('y')], [true, true]);
  o.on('custom', () => n++);
  o.fireEvent('CUSTOM');
  assert.equal(n, 1);
  // Names that are Object.prototype's are events like others.
  o.on('constructor', () => n++);
  o.on('toString', () => n++);
  o.fireEvent('constructor');
  o.fireEvent('tostring');
  assert.equal(n, 3);
  // suspendEvents and resumeEvents do nothing, as in Comet4J.
  o.suspendEvents();
  o.fireEvent('custom');
  o.resumeEvents();
  assert.equal(n, 4);
});

test('JS.Observable: a dispatch keeps its list; a listener that throws does not stop the others', () => {
  const o = new JS.Observable();
  const got = [];
  const late = () => got.push('late');
  const second = () => got.push('second');
  o.on('a', () => { got.push('first'); o.un('a', second); o.on('a', late); });
  o.on('a', second);
  o.fireEvent('a');
  assert.deepEqual(got, ['first', 'second']);
  got.length = 0;
  o.fireEvent('a');
  assert.deepEqual(got, ['first', 'late']);

  const saved = console.warn;
  console.warn = () => {};
  try {
    const p = new JS.Observable();
    let ran = 0;
    p.on('x', () => { throw new Error('boom'); });
    p.on('x', () => ran++);
    assert.equal(p.fireEvent('x'), true);
    assert.equal(ran, 1);
  } finally {
    console.warn = saved;
  }
});

test('JS.Event and JS.Listener', () => {
  const caller = { c: 1 };
  const e = new JS.Event('Tick', caller);
  assert.equal(e.name, 'tick');
  assert.equal(e.caller, caller);
  const got = [];
  const f = function (x) { got.push([this, x]); };
  e.addListener(f);
  e.addListener(f);
  assert.equal(e.listeners.length, 1);
  assert.equal(e.hasListener(f), 0);
  assert.equal(e.hasListener(() => {}), -1);
  assert.equal(e.fire(9), true);
  assert.deepEqual(got, [[caller, 9]], 'the caller is the default scope');
  e.removeListener(f);
  assert.equal(e.listeners.length, 0);
  const g = () => false;
  e.addListener(g);
  assert.equal(e.fire(), false);
  const l = e.listeners[0];
  assert.ok(l instanceof JS.Listener);
  assert.equal(l.equal(g), true);
  assert.equal(l.equal(f), false);
  e.clearListeners();
  assert.equal(e.listeners.length, 0);
  assert.equal(l.handler, undefined, 'cleared');
  assert.equal(l.execute(), undefined);
  const m = new JS.Listener(function (a, b) { return [this, a, b]; }, caller, { once: true });
  assert.deepEqual(m.execute(1, 2), [caller, 1, 2]);
  assert.deepEqual(m.o, { once: true });
});

// --- XMLHttpRequest.js ---

// A stand-in for the browser's XMLHttpRequest, driven by the test.
function fakeXhr() {
  return {
    readyState: 0, status: 0, statusText: '', responseText: '', responseXML: null,
    opened: null, sent: undefined, headers: {}, aborted: 0,
    open(method, url, async) { this.opened = [method, url, async]; this.step(1); },
    send(body) { this.sent = body; },
    abort() { this.aborted++; this.status = 0; this.step(4); },
    setRequestHeader(k, v) { this.headers[k] = v; },
    getResponseHeader(k) { return k === 'X-A' ? 'a' : null; },
    getAllResponseHeaders() { return 'x-a: a\r\n'; },
    step(rs, status = this.status, text = this.responseText) {
      this.readyState = rs; this.status = status; this.responseText = text;
      this.onreadystatechange();
    },
  };
}

function recorder(xhr, names = ['readyStateChange', 'progress', 'load', 'error', 'timeout', 'abort']) {
  const got = [];
  for (const n of names) {
    xhr.on(n, (...a) => got.push(n === 'readyStateChange' ? [n, a[0], a[1], a[2] === xhr] :
      [n, a[0] === xhr, a[1] === xhr._xhr]));
  }
  return got;
}

test('JS.XMLHttpRequest: the events of a request, over the xhr given as specialXHR', () => {
  const real = fakeXhr();
  const xhr = new JS.XMLHttpRequest({ specialXHR: real, timeout: 0 });
  assert.equal(xhr._xhr, real);
  const got = recorder(xhr);
  let std = 0;
  xhr.onreadystatechange = () => std++;
  xhr.open('GET', 'conn?cmd=conn', true);
  assert.match(real.opened[1], /^conn\?cmd=conn&ram=0\.\d+/, 'no cache: ram=<random>');
  assert.equal(real.opened[2], true);
  xhr.setRequestHeader('X-B', 'b');
  xhr.send();
  assert.equal(real.sent, null);
  real.step(2, 200);
  real.step(3, 200, '<a');
  assert.equal(xhr.responseText, '<a');
  real.step(4, 200, '<ab>');
  assert.deepEqual(got, [
    ['readyStateChange', 1, 0, true],
    ['readyStateChange', 2, 200, true],
    ['readyStateChange', 3, 200, true], ['progress', true, true],
    ['readyStateChange', 4, 200, true], ['load', true, true],
  ]);
  assert.equal(std, 4, 'the standard onreadystatechange runs too');
  assert.deepEqual([xhr.readyState, xhr.status, xhr.responseText], [4, 200, '<ab>']);
  assert.equal(xhr.getResponseHeader('X-A'), 'a');
  assert.equal(xhr.getAllResponseHeaders(), 'x-a: a\r\n');
  assert.deepEqual(real.headers, { 'X-B': 'b' });
  // enableCache: the url as it is; async false is passed on.
  const cached = new JS.XMLHttpRequest({ specialXHR: fakeXhr(), enableCache: true, timeout: 0 });
  cached.open('POST', 'u', false);
  assert.deepEqual(cached._xhr.opened, ['POST', 'u', false]);
  cached.open('GET', '');
  assert.deepEqual(cached._xhr.opened, ['POST', 'u', false], 'no url: nothing');
});

test('JS.XMLHttpRequest: error, 408, abort, and the timeout of a request that hangs', async () => {
  for (const [status, want] of [[0, 'error'], [404, 'error'], [500, 'error'], [408, 'timeout'],
    [304, null]]) {
    const real = fakeXhr();
    const xhr = new JS.XMLHttpRequest({ specialXHR: real });
    const got = recorder(xhr, ['load', 'error', 'timeout']);
    xhr.open('GET', 'x');
    xhr.send('body');
    real.step(4, status);
    assert.deepEqual(got.map((g) => g[0]), want ? [want] : [], `status ${status}`);
  }
  const real = fakeXhr();
  const xhr = new JS.XMLHttpRequest({ specialXHR: real });
  const got = recorder(xhr, ['error', 'abort']);
  xhr.open('GET', 'x');
  xhr.send();
  xhr.abort();
  assert.equal(xhr.isAbort, true);
  assert.equal(real.aborted, 1);
  assert.deepEqual(got.map((g) => g[0]), ['error', 'abort']);
  xhr.send();
  assert.equal(xhr.isAbort, false);
  xhr.abort();

  const slow = fakeXhr();
  const hung = new JS.XMLHttpRequest({ specialXHR: slow });
  hung.setTimeout(40);
  assert.equal(hung.timeout, 40);
  const t = recorder(hung, ['timeout']);
  hung.open('GET', 'x');
  hung.send();
  await sleep(20);
  slow.step(2, 200);   // a change restarts the timeout
  await sleep(30);
  assert.equal(t.length, 0);
  await sleep(40);
  assert.deepEqual(t, [['timeout', true, true]]);
  slow.step(4, 200);
});

let srv;
before(async () => { srv = await startFakeServer(); });
after(async () => { await srv.close(); });

test('JS.XMLHttpRequest over fetch (no XMLHttpRequest here): a real request', async () => {
  const xhr = new JS.XMLHttpRequest();
  const got = recorder(xhr, ['readyStateChange', 'load']);
  const loaded = new Promise((r) => xhr.on('load', r));
  xhr.open('POST', srv.base + '/echo?a=1', true);
  xhr.setRequestHeader('Content-Type', 'text/plain');
  xhr.send('hello');
  await loaded;
  const echo = JSON.parse(xhr.responseText);
  assert.equal(echo.method, 'POST');
  assert.match(echo.query, /^\?a=1&ram=/);
  assert.equal(echo.body, 'hello');
  assert.equal(echo.type, 'text/plain');
  assert.equal(xhr.status, 200);
  assert.equal(xhr.getResponseHeader('content-type'), 'application/json');
  assert.match(xhr.getAllResponseHeaders(), /content-type: application\/json/);
  const states = got.filter((g) => g[0] === 'readyStateChange').map((g) => g[1]);
  assert.deepEqual([states[0], states[1], states.at(-1)], [1, 2, 4]);
  assert.ok(states.includes(3));
  // A network error: done with status 0, the error event.
  const bad = new JS.XMLHttpRequest();
  const failed = new Promise((r) => bad.on('error', r));
  bad.open('GET', 'http://127.0.0.1:1/nothing');
  bad.send();
  await failed;
  assert.equal(bad.status, 0);
  // Aborted in flight: one readyState 4 with status 0, then abort.
  const cut = new JS.XMLHttpRequest();
  const events = recorder(cut, ['error', 'abort', 'load']);
  cut.open('GET', srv.base + '/echo');
  cut.send();
  cut.abort();
  await sleep(50);
  assert.deepEqual(events.map((g) => g[0]), ['error', 'abort']);
});

// --- AJAX.js ---

test("JS.AJAX as Comet4J's pages call it: callback(xhr) with a scope; getText, getJson", async () => {
  const scope = { who: 'page' };
  const posted = await new Promise((r) => JS.AJAX.post(srv.base + '/echo', 'id=1&text=a%20b',
    function (xhr) { r([this, xhr.responseText, xhr.status, xhr.readyState]); }, scope));
  assert.equal(posted[0], scope);
  assert.deepEqual(JSON.parse(posted[1]).body, 'id=1&text=a%20b');
  assert.deepEqual(posted.slice(2), [200, 4]);
  // The same answer is a string to this client's pages.
  const both = await new Promise((r) => JS.AJAX.get(srv.base + '/echo', 'q=1',
    (answer, xhr) => r([answer, xhr])));
  assert.equal(both[0] == both[0].responseText, true);
  assert.equal(JSON.parse(both[0]).query, '?q=1', 'a GET puts param in the query');
  assert.equal(both[0].indexOf('"method":"GET"') > 0, true);
  assert.equal(both[0].getResponseHeader('content-type'), 'application/json');
  assert.equal(both[1].status, 200);

  const text = await new Promise((r) => JS.AJAX.getText(srv.base + '/echo', { a: 1 },
    function (t) { r([this, t]); }, scope));
  assert.equal(text[0], scope);
  assert.equal(typeof text[1], 'string');
  assert.equal(JSON.parse(text[1]).query, '?a=1');
  const json = await new Promise((r) => JS.AJAX.getJson(srv.base + '/echo', 'x=2', r));
  assert.equal(json.method, 'GET');
  assert.equal(json.query, '?x=2');

  assert.throws(() => JS.AJAX.get(undefined), new RegExp(JS.AJAX.urlError));
  assert.throws(() => JS.AJAX.post(42), /url/);
});

test('JS.AJAX.getJson: an answer that is not JSON is logged, never called back', async () => {
  const saved = console.warn;
  const warned = [];
  console.warn = (...a) => warned.push(a.join(' '));
  try {
    let called = false;
    JS.AJAX.getJson(srv.base + '/nothing-here', '', () => { called = true; });
    await sleep(100);
    assert.equal(called, false);
    assert.ok(warned.some((w) => w.includes(JS.AJAX.dataFormatError)));
  } finally {
    console.warn = saved;
  }
});

test('JS.AJAX with asyn false: a synchronous XMLHttpRequest, called back before it returns', () => {
  const made = [];
  class SyncXHR {
    constructor() { made.push(this); this.readyState = 0; }
    open(m, u, async) { this.args = [m, u, async]; }
    setRequestHeader() {}
    send() { this.readyState = 4; this.status = 200; this.responseText = 'done'; }
  }
  const window = asScript({ XMLHttpRequest: SyncXHR });
  const got = vm.runInContext(`var got = []; JS.AJAX.post('talk.do?cmd=talk', 'id=1',
    function (xhr) { got.push(xhr.responseText, xhr.status); }, null, false); got`, window);
  assert.deepEqual([...got], ['done', 200]);
  assert.deepEqual(made.at(-1).args, ['POST', 'talk.do?cmd=talk', false]);
});
