// The frame codec: docs/protocol.md's frames in, objects out, junk rejected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import JS from '../comet4j.js';

const P = JS.Protocol;

test('encode gives one JSON object', () => {
  assert.equal(P.encode(P.ping()), '{"t":"ping"}');
});

test('decode accepts the server frames', () => {
  assert.deepEqual(P.decode('{"t":"open","cId":"abc","channels":["a"]}'),
    { t: 'open', cId: 'abc', channels: ['a'] });
  assert.deepEqual(P.decode('{"t":"msg","ch":"clock","data":{"x":[1,2]},"time":5}'),
    { t: 'msg', ch: 'clock', data: { x: [1, 2] }, time: 5 });
  assert.deepEqual(P.decode('{"t":"pong"}'), { t: 'pong' });
  // Unknown types pass: newer servers may send frames this client ignores.
  assert.deepEqual(P.decode('{"t":"later","z":1}'), { t: 'later', z: 1 });
});

test('decode keeps any JSON value as data, including null and strings', () => {
  assert.equal(P.decode('{"t":"msg","ch":"c","data":null}').data, null);
  assert.equal(P.decode('{"t":"msg","ch":"c","data":"\\u00e9t\\u00e9"}').data, 'été');
  assert.equal(P.decode('{"t":"msg","ch":"c","data":0}').data, 0);
});

test('decode rejects what is not a frame', () => {
  for (const bad of ['', 'not json', '[]', '[{"t":"msg"}]', 'null', '42', '"t"',
    '{}', '{"t":1}', '{"t":"msg","data":1}', '{"t":"msg","ch":5}', '{"t":"open"']) {
    assert.equal(P.decode(bad), null, bad);
  }
});

test('decodeHandshake takes the servlet answer', () => {
  const h = P.decodeHandshake(JSON.stringify({
    v: 1, cId: 'id', channels: ['a', 'b'], ticket: 'x.y.z',
    endpoints: ['ws://h:4100/ws'], workStyle: 'websocket', timeout: 60000, heartbeat: 25000,
  }));
  assert.deepEqual(h, { cId: 'id', channels: ['a', 'b'], ticket: 'x.y.z',
    endpoints: ['ws://h:4100/ws'], stream: [], lpool: [], cmd: [],
    workStyle: 'websocket', heartbeat: 25000, timeout: 60000, connExpires: 0 });
});

test('decodeHandshake takes the v2 fields: stream, lpool, cmd, connExpires', () => {
  const h = P.decodeHandshake(JSON.stringify({
    v: 1, cId: 'id', channels: [], ticket: 't', endpoints: ['ws://h:4100/ws'],
    stream: ['http://h:4100/sse'], lpool: ['http://h:4100/poll'], cmd: ['http://h:4100/cmd'],
    workStyle: 'auto', timeout: 60000, heartbeat: 25000, connExpires: 5000,
  }));
  assert.deepEqual(h.stream, ['http://h:4100/sse']);
  assert.deepEqual(h.lpool, ['http://h:4100/poll']);
  assert.deepEqual(h.cmd, ['http://h:4100/cmd']);
  assert.equal(h.workStyle, 'auto');
  assert.equal(h.connExpires, 5000);
  assert.deepEqual(P.urlsOf(h, 'websocket'), ['ws://h:4100/ws']);
  assert.deepEqual(P.urlsOf(h, 'lpool'), ['http://h:4100/poll']);
  // Long-polling alone is enough to attach.
  assert.ok(P.decodeHandshake('{"ticket":"t","lpool":["http://h/poll"]}'));
});

test('decode takes parsed frames (long-poll batches) and recovered frames', () => {
  assert.deepEqual(P.decode({ t: 'msg', ch: 'c', e: 'E', o: 3, data: 1 }),
    { t: 'msg', ch: 'c', e: 'E', o: 3, data: 1 });
  assert.deepEqual(P.decode('{"t":"recovered","ch":"c","recovered":false}'),
    { t: 'recovered', ch: 'c', recovered: false });
  assert.equal(P.decode({ t: 'recovered', recovered: true }), null);
  assert.equal(P.decode([{ t: 'msg' }]), null);
  assert.equal(P.decode(null), null);
});

test('since is URL-encoded JSON of channel -> [epoch, offset], empty when nothing to resume', () => {
  assert.equal(P.encodeSince({}), '');
  const s = P.encodeSince({ clock: ['Xk2p9aQe', 41], 'a b': ['E', 1] });
  assert.equal(s, encodeURIComponent('{"clock":["Xk2p9aQe",41],"a b":["E",1]}'));
  assert.deepEqual(JSON.parse(decodeURIComponent(s)), { clock: ['Xk2p9aQe', 41], 'a b': ['E', 1] });
  assert.ok(!/[{}"\[\]: ]/.test(s), 'nothing left unescaped in a query');
});

test('the poll hold follows the contract: min(25000, timeout/2)', () => {
  assert.equal(P.pollHold({ timeout: 60000 }), 25000);
  assert.equal(P.pollHold({ timeout: 4000 }), 2000);
  assert.equal(P.pollHold({ timeout: 0 }), 25000);
});

test('decodeHandshake fills defaults and rejects answers it cannot use', () => {
  const h = P.decodeHandshake('{"ticket":"t","endpoints":["ws://h/ws"]}');
  assert.equal(h.workStyle, 'auto');
  assert.deepEqual(h.channels, []);
  assert.equal(h.heartbeat, 0);
  for (const bad of ['', '<html>', '{"error":{"code":4030}}', '{"ticket":"t"}',
    '{"ticket":"t","endpoints":[]}', '{"ticket":5,"endpoints":["ws://h"]}',
    '{"ticket":"t","endpoints":[3]}']) {
    assert.equal(P.decodeHandshake(bad), null, bad);
  }
});

test('{workerIndex}: a URL stands for one per worker, 0 without a count', () => {
  assert.deepEqual(P.expandWorkers(['ws://h:41{workerIndex}/ws', 'ws://k/ws'], 4),
    ['ws://h:410/ws', 'ws://h:411/ws', 'ws://h:412/ws', 'ws://h:413/ws', 'ws://k/ws']);
  assert.deepEqual(P.expandWorkers(['http://h{workerIndex}:8{workerIndex}/p'], 2),
    ['http://h0:80/p', 'http://h1:81/p']);
  for (const none of [undefined, 0, -3, 'x', NaN]) {
    assert.deepEqual(P.expandWorkers(['ws://h:41{workerIndex}/ws'], none), ['ws://h:410/ws'], String(none));
  }
  // Every list of a handshake, with its workers count; the page's wins.
  const text = JSON.stringify({ ticket: 't', workers: 2, endpoints: ['ws://h:5{workerIndex}/ws'],
    lpool: ['http://h:5{workerIndex}/poll'], cmd: ['http://h:5{workerIndex}/cmd'] });
  const h = P.decodeHandshake(text);
  assert.deepEqual(h.endpoints, ['ws://h:50/ws', 'ws://h:51/ws']);
  assert.deepEqual(h.cmd, ['http://h:50/cmd', 'http://h:51/cmd']);
  assert.equal(h.workers, undefined, 'nothing left to expand later');
  assert.deepEqual(P.decodeHandshake(text, { workers: 3 }).lpool,
    ['http://h:50/poll', 'http://h:51/poll', 'http://h:52/poll']);
});

test('the page\'s endpoints: the four lists as CometServlet derives them from Comet.PublicUrl', () => {
  assert.deepEqual(P.fromEndpoints(['ws://a:4100/ws', 'wss://b.example/push/', 'ws://c:41{workerIndex}']), {
    endpoints: ['ws://a:4100/ws', 'wss://b.example/push/ws', 'ws://c:41{workerIndex}/ws'],
    stream: ['http://a:4100/sse', 'https://b.example/push/sse', 'http://c:41{workerIndex}/sse'],
    lpool: ['http://a:4100/poll', 'https://b.example/push/poll', 'http://c:41{workerIndex}/poll'],
    cmd: ['http://a:4100/cmd', 'https://b.example/push/cmd', 'http://c:41{workerIndex}/cmd'],
  });
  const h = P.decodeHandshake('{"ticket":"t","endpoints":["ws://tomcat/ws"]}',
    { endpoints: ['ws://n:41{workerIndex}/ws'], workers: 2 });
  assert.deepEqual(h.endpoints, ['ws://n:410/ws', 'ws://n:411/ws']);
  assert.deepEqual(h.stream, ['http://n:410/sse', 'http://n:411/sse']);
  // An empty or absent option leaves the handshake's lists.
  assert.deepEqual(P.decodeHandshake('{"ticket":"t","endpoints":["ws://tomcat/ws"]}',
    { endpoints: [] }).endpoints, ['ws://tomcat/ws']);
});

test('a node is named the same in every list', () => {
  assert.equal(P.nodeOf('ws://h:4100/ws'), 'h:4100');
  assert.equal(P.nodeOf('http://h:4100/sse'), 'h:4100');
  assert.equal(P.nodeOf('https://b.example/push/cmd'), 'b.example/push');
  assert.equal(P.nodeOf('wss://b.example/push/ws'), 'b.example/push');
  assert.notEqual(P.nodeOf('ws://h:4100/ws'), P.nodeOf('ws://h:4101/ws'));
});
