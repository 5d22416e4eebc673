// JS.Commands alone: ids, the queue and the pending table, answers matched
// by id, TIMEOUT (4080) after a command's time, LOST (1006) when it cannot
// be sent, its POST fails, or the connection goes; each command settles
// once. commands.test.mjs drives the same through the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import JS from '../comet4j.js';
import { sleep } from '../testlib/fake-server.mjs';

const { Commands, CODES } = JS;

// A Commands whose settled hook records each call, and a send function
// that records what it was given and answers as told.
function table() {
  const calls = [];
  const c = new Commands((frame, answer) => calls.push([frame.t, frame.id, answer]));
  return { c, calls };
}
function sender(result = true) {
  const sent = [];
  const send = (text, failed) => {
    sent.push({ text, failed });
    return result;
  };
  return { send, sent };
}
async function outcome(promise) {
  try {
    return { value: await promise };
  } catch (e) {
    assert.ok(e instanceof Error);
    return { code: e.code, message: e.message };
  }
}

test('make gives ids from 1 per table and waits for send or wait', () => {
  const { c } = table();
  const a = c.make({ t: 'req', route: 'x' }, 'req x', 1000);
  const b = c.make({ t: 'pub', ch: 'y', data: 1 }, 'pub y', 1000);
  assert.equal(a.id, 1);
  assert.equal(b.frame.id, 2);
  const other = new Commands();
  const first = other.make({ t: 'req', route: 'x' }, 'x', 1000);
  assert.equal(first.id, 1);
  other.settle(first, undefined);
  assert.deepEqual(c.pending, {}, 'not pending before it is sent');
  assert.deepEqual(c.queue, []);
  for (const cmd of [a, b]) c.settle(cmd, undefined);   // clears the timers
});

test('send puts the encoded frame on the wire; its answer settles it once', async () => {
  const { c, calls } = table();
  const { send, sent } = sender();
  const cmd = c.make({ t: 'req', route: 'sum', params: [1] }, 'req sum', 1000);
  c.send(cmd, send);
  assert.deepEqual(JSON.parse(sent[0].text), { t: 'req', route: 'sum', params: [1], id: 1 });
  assert.equal(c.pending[1], cmd);
  const res = { t: 'res', id: 1, result: { n: 2 } };
  assert.equal(c.answer(res), true);
  assert.equal(c.answer({ t: 'res', id: 1, result: 'again' }), false, 'answered already');
  assert.deepEqual(await outcome(cmd.promise), { value: { n: 2 } });
  assert.deepEqual(c.pending, {});
  assert.deepEqual(calls, [['req', 1, res]]);
  assert.equal(c.answer({ t: 'res', id: 7 }), false, 'not ours');
});

test('ack resolves with undefined; err rejects with the server\'s code, or BAD_COMMAND', async () => {
  const { c, calls } = table();
  const { send } = sender();
  const [a, b, d] = [1, 2, 3].map(() => c.make({ t: 'sub', ch: 'room' }, 'sub room', 1000));
  for (const cmd of [a, b, d]) c.send(cmd, send);
  const ack = { t: 'ack', id: 1, pos: {} };
  c.answer(ack);
  c.answer({ t: 'err', id: 2, code: CODES.REFUSED, message: 'refused' });
  c.answer({ t: 'err', id: 3 });
  assert.deepEqual(await outcome(a.promise), { value: undefined });
  assert.deepEqual(await outcome(b.promise), { code: 4030, message: 'refused' });
  assert.deepEqual(await outcome(d.promise), { code: CODES.BAD_COMMAND, message: 'error 4000' });
  assert.deepEqual(calls, [['sub', 1, ack], ['sub', 2, null], ['sub', 3, null]]);
});

test('no answer within its time: TIMEOUT; a late answer changes nothing', async () => {
  const { c, calls } = table();
  const cmd = c.make({ t: 'req', route: 'slow' }, 'req slow', 40);
  c.send(cmd, sender().send);
  const t0 = Date.now();
  const r = await outcome(cmd.promise);
  assert.ok(Date.now() - t0 >= 30, 'not before its time');
  assert.deepEqual(r, { code: CODES.TIMEOUT, message: 'req slow: no answer within 40 ms' });
  assert.deepEqual(c.pending, {});
  assert.equal(c.answer({ t: 'res', id: cmd.id, result: 'late' }), false);
  assert.equal(calls.length, 1);
});

test('an answer clears the timer: the command does not time out after it', async () => {
  const { c, calls } = table();
  const cmd = c.make({ t: 'req', route: 'x' }, 'req x', 30);
  c.send(cmd, sender().send);
  c.answer({ t: 'res', id: cmd.id, result: 1 });
  await sleep(60);
  assert.deepEqual(await outcome(cmd.promise), { value: 1 });
  assert.equal(calls.length, 1);
});

test('a send that cannot go, or a POST that fails, rejects with LOST at once', async () => {
  const { c } = table();
  const notSent = c.make({ t: 'pub', ch: 'b', data: 1 }, 'pub b', 5000);
  c.send(notSent, sender(false).send);
  assert.deepEqual(await outcome(notSent.promise),
    { code: CODES.LOST, message: 'command not sent: connection lost' });
  assert.deepEqual(c.pending, {});

  const { send, sent } = sender();
  const refused = c.make({ t: 'pub', ch: 'b', data: 1 }, 'pub b', 5000);
  const dropped = c.make({ t: 'pub', ch: 'b', data: 2 }, 'pub b', 5000);
  c.send(refused, send);
  c.send(dropped, send);
  sent[0].failed(401);
  sent[1].failed(0);
  assert.deepEqual(await outcome(refused.promise), { code: 1006, message: 'command not delivered (http:401)' });
  assert.deepEqual(await outcome(dropped.promise), { code: 1006, message: 'command not delivered (network error)' });
  assert.deepEqual(c.pending, {});
});

test('wait keeps commands until flush sends them, oldest first', () => {
  const { c } = table();
  const cmds = ['a', 'b', 'c'].map((ch) => c.make({ t: 'sub', ch }, 'sub ' + ch, 1000));
  for (const cmd of cmds) c.wait(cmd);
  assert.equal(c.queue.length, 3);
  const { send, sent } = sender();
  c.flush(send);
  assert.deepEqual(sent.map((s) => JSON.parse(s.text).ch), ['a', 'b', 'c']);
  assert.deepEqual(c.queue, []);
  assert.deepEqual(Object.keys(c.pending), ['1', '2', '3']);
  for (const cmd of cmds) cmd.promise.catch(() => {});
  c.rejectAll('done', true);
});

test('rejectAll: LOST for the sent ones; the queued ones too only when asked', async () => {
  const { c, calls } = table();
  const sent = c.make({ t: 'req', route: 'x' }, 'req x', 60);
  const queued = c.make({ t: 'req', route: 'y' }, 'req y', 60);
  c.send(sent, sender().send);
  c.wait(queued);
  c.rejectAll('connection lost (closed:1006) before the answer', false);
  assert.deepEqual(await outcome(sent.promise),
    { code: CODES.LOST, message: 'connection lost (closed:1006) before the answer' });
  assert.deepEqual(c.queue, [queued], 'a command never sent waits for the next connection');
  c.rejectAll('stopped before the answer', true);
  assert.deepEqual(await outcome(queued.promise), { code: CODES.LOST, message: 'stopped before the answer' });
  assert.deepEqual(c.queue, []);
  // Their timers are gone: nothing settles a second time.
  await sleep(90);
  assert.deepEqual(calls.map((k) => k[1]), [1, 2]);
});
