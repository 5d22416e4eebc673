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
