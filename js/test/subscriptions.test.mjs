// JS.Subscription and JS.SubscriptionTable alone: a channel's resume
// position (epoch, offset) and state, the rules by which the server's
// positions and broadcasts move it, the since parameter built from the
// records, the message-id window, and what subscribe/unsubscribe answers
// do to a record. transports.test.mjs and commands.test.mjs check the
// same through the engine (the since of a reconnect, replays, dedupe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import JS from '../comet4j.js';

const { Subscription, SubscriptionTable } = JS;
const since = (t) => {
  const s = t.since();
  return s === '' ? null : JSON.parse(decodeURIComponent(s));
};
const at = (r) => [r.epoch, r.offset];

test('a new record has no position and is subscribing; one the server made is placed', () => {
  const r = new Subscription('room');
  assert.equal(r.channel, 'room');
  assert.equal(r.state, 'subscribing');
  assert.equal(r.positioned(), false);
  assert.equal(r.placed, false);
  assert.equal(new Subscription('room', 'subscribed').placed, true);
});

test('take: the first position is taken; the open frame\'s never replaces the page\'s own', () => {
  const r = new Subscription('c');
  assert.equal(r.take('E1', 5, false), true);
  assert.deepEqual(at(r), ['E1', 5]);
  assert.equal(r.placed, true);
  // The open frame (newer false) after a reconnect: the page's is the last delivered.
  assert.equal(r.take('E1', 9, false), false);
  assert.equal(r.take('E2', 0, false), false);
  assert.deepEqual(at(r), ['E1', 5]);
});

test('take newer (a sub\'s ack): further on in the same epoch wins; another epoch replaces', () => {
  const r = new Subscription('c');
  r.take('E1', 5, true);
  assert.equal(r.take('E1', 3, true), false, 'the page is further on');
  assert.equal(r.take('E1', 5, true), false);
  assert.deepEqual(at(r), ['E1', 5]);
  assert.equal(r.take('E1', 7, true), true);
  assert.deepEqual(at(r), ['E1', 7]);
  assert.equal(r.take('E2', 1, true), true, 'the history restarted');
  assert.deepEqual(at(r), ['E2', 1]);
});

test('advance: at or below the position in its epoch is a duplicate; another epoch starts again', () => {
  const r = new Subscription('c');
  assert.equal(r.advance('E1', 4), true);
  assert.equal(r.advance('E1', 4), false);
  assert.equal(r.advance('E1', 2), false);
  assert.deepEqual(at(r), ['E1', 4], 'a duplicate does not move it back');
  assert.equal(r.advance('E1', 6), true, 'a gap is still fresh');
  assert.equal(r.advance('E2', 1), true);
  assert.deepEqual(at(r), ['E2', 1]);
});

test('since: only records with a position, as URL-encoded JSON; empty when none has one', () => {
  const t = new SubscriptionTable();
  assert.equal(t.since(), '');
  t.ensure('waiting');   // subscribing, no position yet
  assert.equal(t.since(), '');
  t.take({ clock: ['Xk2p9aQe', 41], 'room.7': ['pQ3x_a9Z', 0] }, false);
  assert.deepEqual(since(t), { clock: ['Xk2p9aQe', 41], 'room.7': ['pQ3x_a9Z', 0] });
  assert.ok(!/[{}"\[\]]/.test(t.since()), 'URL-encoded');
  assert.equal(t.get('clock').state, 'subscribed');
});

test('take skips what is not channel -> [epoch, offset]', () => {
  const t = new SubscriptionTable();
  for (const pos of [null, undefined, 'x', [['a', 1]], 7]) t.take(pos, true);
  t.take({ a: ['E', '1'], b: [1, 2], c: ['E'], d: 'E', e: ['E', 1, 2], ok: ['E', 3] }, true);
  assert.deepEqual(Object.keys(t.records), ['ok']);
});

test('fresh: broadcasts move their channel on, duplicates are dropped, sendTo frames pass', () => {
  const t = new SubscriptionTable();
  assert.equal(t.fresh({ t: 'msg', ch: 'c', e: 'E', o: 1 }), true);
  assert.equal(t.fresh({ t: 'msg', ch: 'c', e: 'E', o: 2 }), true);
  assert.equal(t.fresh({ t: 'msg', ch: 'c', e: 'E', o: 2 }), false);
  assert.deepEqual(since(t), { c: ['E', 2] });
  // A frame without a position (sendTo) is delivered and makes no record.
  assert.equal(t.fresh({ t: 'msg', ch: 'direct', data: 1 }), true);
  assert.equal(t.get('direct'), undefined);
});

test('fresh: a message id seen once is not delivered again, but its copy\'s offset is taken', () => {
  const t = new SubscriptionTable();
  assert.equal(t.fresh({ t: 'msg', ch: 'c', u: 'n1.1' }), true, 'delivered during an outage');
  assert.equal(t.fresh({ t: 'msg', ch: 'c', u: 'n1.1', e: 'E', o: 7 }), false, 'its copy');
  assert.deepEqual(since(t), { c: ['E', 7] });
  // The window keeps the last IDS_KEPT ids: an id older than that is new again.
  for (let i = 0; i < SubscriptionTable.IDS_KEPT; i++) t.fresh({ t: 'msg', ch: 'c', u: 'x.' + i });
  assert.equal(t.ids.length, SubscriptionTable.IDS_KEPT);
  assert.equal(t.fresh({ t: 'msg', ch: 'c', u: 'n1.1' }), true);
  assert.equal(t.fresh({ t: 'msg', ch: 'c', u: 'x.' + (SubscriptionTable.IDS_KEPT - 1) }), false);
});

test('channels named like Object.prototype members are channels like any other', () => {
  const t = new SubscriptionTable();
  t.take({ constructor: ['E', 3], toString: ['F', 1], hasOwnProperty: ['G', 2] }, false);
  assert.deepEqual(since(t), { constructor: ['E', 3], toString: ['F', 1], hasOwnProperty: ['G', 2] });
  assert.equal(t.fresh({ t: 'msg', ch: 'constructor', e: 'E', o: 3 }), false);
  assert.equal(t.get('valueOf'), undefined);
});

test('subscribe: subscribing until the ack, which brings the position', () => {
  const t = new SubscriptionTable();
  const sub = { t: 'sub', ch: 'room', id: 1 };
  t.commandMade(sub);
  assert.equal(t.get('room').state, 'subscribing');
  assert.equal(t.since(), '', 'nothing to resume before the ack');
  t.commandDone(sub, { t: 'ack', id: 1, pos: { room: ['Eroom', 2] } });
  assert.equal(t.get('room').state, 'subscribed');
  assert.deepEqual(since(t), { room: ['Eroom', 2] });
});

test('subscribe refused, timed out or lost: a record the server never placed goes', () => {
  const t = new SubscriptionTable();
  const sub = { t: 'sub', ch: 'room', id: 1 };
  t.commandMade(sub);
  t.commandDone(sub, null);
  assert.equal(t.get('room'), undefined);
  assert.equal(t.since(), '');
});

test('a failed subscribe leaves a placed record as it was, with its position', () => {
  const t = new SubscriptionTable();
  t.take({ room: ['E', 5] }, false);
  const again = { t: 'sub', ch: 'room', id: 1 };
  t.commandMade(again);
  assert.equal(t.get('room').state, 'subscribing');
  t.commandDone(again, null);
  assert.equal(t.get('room').state, 'subscribed');
  assert.deepEqual(since(t), { room: ['E', 5] });
  // Acked without a position (no history): placed all the same.
  const nohist = { t: 'sub', ch: 'quiet', id: 2 };
  t.commandMade(nohist);
  t.commandDone(nohist, { t: 'ack', id: 2, pos: {} });
  assert.equal(t.get('quiet').placed, true);
  const dup = { t: 'sub', ch: 'quiet', id: 3 };
  t.commandMade(dup);
  t.commandDone(dup, null);
  assert.equal(t.get('quiet').state, 'subscribed', 'still subscribed');
});

test('unsubscribe: the position counts until the ack, which removes the record; a failure keeps it', () => {
  const t = new SubscriptionTable();
  t.take({ room: ['E', 5] }, false);
  const unsub = { t: 'unsub', ch: 'room', id: 1 };
  t.commandMade(unsub);
  assert.equal(t.get('room').state, 'unsubscribing');
  assert.deepEqual(since(t), { room: ['E', 5] }, 'the server may still hold it');
  t.commandDone(unsub, null);
  assert.equal(t.get('room').state, 'subscribed');
  assert.deepEqual(since(t), { room: ['E', 5] });
  const again = { t: 'unsub', ch: 'room', id: 2 };
  t.commandMade(again);
  t.commandDone(again, { t: 'ack', id: 2 });
  assert.equal(t.get('room'), undefined);
  assert.equal(t.since(), '');
});

test('publish and request answers leave the records alone; reset forgets everything', () => {
  const t = new SubscriptionTable();
  t.take({ room: ['E', 5] }, false);
  t.fresh({ t: 'msg', ch: 'room', u: 'n.1' });
  for (const f of [{ t: 'pub', ch: 'room', id: 1 }, { t: 'req', route: 'room', id: 2 }]) {
    t.commandMade(f);
    t.commandDone(f, null);
    t.commandDone(f, { t: 'ack', id: f.id, pos: { room: ['OTHER', 1] } });
  }
  assert.deepEqual(since(t), { room: ['E', 5] });
  assert.equal(t.get('room').state, 'subscribed');
  t.reset();
  assert.equal(t.since(), '');
  assert.deepEqual(t.ids, []);
});
