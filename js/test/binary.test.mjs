// Messages of bytes (docs/protocol.md section 11): the codec (binary frames,
// "b64", base64 of every length and its refusals), then the engine against
// the fake server on each transport: a broadcast of bytes reaches the
// channel's listeners (and the connector's message event) as a Uint8Array,
// replayed from the history on resume too, and publish(channel, bytes)
// goes as a binary message on WebSocket and with "b64" over /cmd. The same
// against the real server: tests/e2e/binary.test.mjs.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import JS from '../comet4j.js';
import { startFakeServer, next, until, wire } from '../testlib/fake-server.mjs';

const P = JS.Protocol;
const bytesOf = (n, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + seed) & 255);
const ab = (buf) => buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);

// --- the codec ---

test('base64 of every padding, and of every byte value', () => {
  for (const n of [0, 1, 2, 3, 4, 5, 256, 1000]) {
    const b = bytesOf(n, n);
    const text = P.encode({ t: 'pub', id: 1, ch: 'c', data: b }).text;
    const b64 = JSON.parse(text).b64;
    assert.equal(b64, Buffer.from(b).toString('base64'), `length ${n}`);
    const f = P.decode({ t: 'msg', ch: 'c', time: 1, b64 });
    assert.ok(f.data instanceof Uint8Array);
    assert.deepEqual(Buffer.from(f.data), Buffer.from(b), `length ${n}`);
    assert.equal('b64' in f, false);
  }
});

test('decode: a frame with b64 that is not base64, or with data too, is dropped', () => {
  for (const b64 of ['A', 'AAA', 'A*==', 'A=AA', '====', 'AA=A', 7, null]) {
    assert.equal(P.decode({ t: 'msg', ch: 'c', b64 }), null, String(b64));
  }
  assert.equal(P.decode({ t: 'msg', ch: 'c', b64: 'AA==', data: 1 }), null);
  // Other frames keep what they have.
  assert.deepEqual(P.decode('{"t":"msg","ch":"c","data":[1]}').data, [1]);
});

test('decodeBinary: the head and the bytes of a binary frame; anything else is null', () => {
  const bytes = Buffer.from([0, 255, 10, 34]);
  const w = wire({ t: 'msg', ch: 'clock', e: 'E1234567', o: 9, time: 5, data: bytes }, true).binary;
  const f = P.decodeBinary(ab(w));
  assert.deepEqual({ ...f, data: Buffer.from(f.data) },
                   { t: 'msg', ch: 'clock', e: 'E1234567', o: 9, time: 5, data: bytes });
  assert.ok(f.data instanceof Uint8Array);
  const head = Buffer.from('{"t":"msg","ch":"c"}');
  const frame = (h) => ab(Buffer.concat([Buffer.from([h.length >> 8, h.length & 255]), h, bytes]));
  assert.equal(P.decodeBinary(frame(Buffer.from('{"t":"ack","id":1}'))), null, 'only msg frames');
  assert.equal(P.decodeBinary(frame(Buffer.from('{"t":"msg","ch":"c","data":1}'))), null);
  assert.equal(P.decodeBinary(frame(Buffer.from('[1]'))), null);
  assert.equal(P.decodeBinary(frame(Buffer.from('{"t":"msg",'))), null);
  assert.equal(P.decodeBinary(ab(Buffer.from([0, 200, 1]))), null, 'a head longer than the frame');
  assert.equal(P.decodeBinary(ab(Buffer.from([0]))), null);
  assert.equal(P.decodeBinary('text'), null);
  assert.ok(P.decodeBinary(frame(head)).data.length === 4);
});

test('encode: a pub of bytes is {text, bytes}; every other frame is text', () => {
  const data = new Uint16Array([0x0102, 0xfffe]);  // any view: its bytes as they are in memory
  const e = P.encode({ t: 'pub', id: 3, ch: 'room', data });
  assert.equal(typeof e, 'object');
  const raw = Buffer.from(e.bytes);
  const n = raw[0] << 8 | raw[1];
  assert.deepEqual(JSON.parse(raw.subarray(2, 2 + n).toString()), { t: 'pub', id: 3, ch: 'room' });
  assert.deepEqual(raw.subarray(2 + n), Buffer.from(data.buffer));
  assert.deepEqual(JSON.parse(e.text), { t: 'pub', id: 3, ch: 'room', b64: Buffer.from(data.buffer).toString('base64') });
  assert.equal(typeof P.encode({ t: 'pub', id: 1, ch: 'x', data: [1, 2] }), 'string');
  assert.equal(typeof P.encode({ t: 'req', id: 1, route: 'x', params: new Uint8Array(2) }), 'string');
});

// --- the engine, on each transport ---

let srv;
let engines = [];
function engine(opts = {}) {
  const e = new JS.CometEngine({ WebSocket, retryMin: 20, retryMax: 60, ...opts });
  engines.push(e);
  return e;
}
beforeEach(async () => {
  srv = await startFakeServer({ v2: true });
  engines = [];
});
afterEach(async () => {
  for (const e of engines) e.stop();
  await srv.close();
});

for (const workStyle of ['websocket', 'stream', 'lpool']) {
  test(`${workStyle}: a broadcast of bytes reaches the listeners as a Uint8Array, JSON ones as before`, async () => {
    const e = engine({ workStyle });
    e.start(srv.url);
    await next(e, 'start');
    assert.equal(e.getConnector().workStyle, workStyle);
    const heard = [];
    e.getConnector().on('message', (ch, data) => heard.push([ch, data]));
    const got = [];
    e.on('clock', (data, time) => got.push([data, time]));
    const bytes = Buffer.from(bytesOf(300, 1));
    srv.broadcast('clock', bytes, 77);
    srv.broadcast('clock', { json: true }, 78);
    srv.broadcast('clock', Buffer.alloc(0), 79);
    await until('three messages', () => got.length === 3);
    assert.ok(got[0][0] instanceof Uint8Array, typeof got[0][0]);
    assert.deepEqual(Buffer.from(got[0][0]), bytes);
    assert.equal(got[0][1], 77);
    assert.deepEqual(got[1], [{ json: true }, 78]);
    assert.ok(got[2][0] instanceof Uint8Array && got[2][0].length === 0);
    assert.ok(heard[0][1] instanceof Uint8Array, 'the connector hears bytes too');
  });

  test(`${workStyle}: bytes missed while away come back on resume, in order`, async () => {
    const e = engine({ workStyle });
    e.start(srv.url);
    await next(e, 'start');
    const got = [];
    e.on('clock', (data) => got.push(data));
    srv.broadcast('clock', Buffer.from([1]));
    await until('the first', () => got.length === 1);
    for (const c of srv.conns.slice()) c.close();       // the network drops
    srv.broadcast('clock', Buffer.from([2, 2]));
    srv.broadcast('clock', 'three');
    srv.broadcast('clock', Buffer.from([4]));
    await until('all four', () => got.length === 4, 5000);
    assert.deepEqual(got.map((d) => (d instanceof Uint8Array ? [...d] : d)), [[1], [2, 2], 'three', [4]]);
  });

  test(`${workStyle}: publish(channel, bytes) sends them and the ack resolves`, async () => {
    const e = engine({ workStyle });
    e.start(srv.url);
    await next(e, 'start');
    const got = [];
    e.on('board', (data) => got.push(data));
    const data = bytesOf(70, 5);
    const sent = data.slice();
    const done = e.publish('board', data);
    data[0] = 99;  // copied at publish: later changes do not go
    assert.equal(await done, undefined);
    const f = srv.frames.find((x) => x.t === 'pub');
    assert.ok(f.data instanceof Buffer, JSON.stringify(f));
    assert.deepEqual(f.data, Buffer.from(sent));
    assert.equal(f.binary === true, workStyle === 'websocket', 'binary on WebSocket, b64 over /cmd');
    if (workStyle !== 'websocket') assert.equal(f.b64, Buffer.from(sent).toString('base64'));
    // The fake server broadcasts what was published: bytes again.
    await until('the broadcast', () => got.length === 1);
    assert.deepEqual(Buffer.from(got[0]), Buffer.from(sent));
    // An ArrayBuffer is bytes too.
    await e.publish('board', ab(Buffer.from([7, 7])));
    await until('the second', () => got.length === 2);
    assert.deepEqual([...got[1]], [7, 7]);
  });
}

test('websocket: a binary frame that is no message is dropped with a warning; the engine goes on', async () => {
  const warned = [];
  const saved = console.warn;
  console.warn = (...a) => warned.push(a.join(' '));
  try {
    const e = engine({ workStyle: 'websocket' });
    e.start(srv.url);
    await next(e, 'start');
    for (const ws of srv.sockets) ws.send(Buffer.from([0, 99, 1, 2]));
    const got = next(e, 'clock');
    srv.broadcast('clock', 'after');
    assert.equal((await got)[0], 'after');
    assert.ok(warned.some((w) => w.includes('malformed')), warned.join('\n'));
  } finally {
    console.warn = saved;
  }
});
