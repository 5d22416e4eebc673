// JS.NodePicker alone: the random choice among a list's nodes, avoiding the
// nodes that failed, going back to the node of a normal close, moving off
// a lost one. Randomness is the test's (a function like Math.random), so
// each choice is known; balancing.test.mjs drives the same through the
// engine against fake nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import JS from '../comet4j.js';

const { NodePicker, CODES, NODE_LOST_CODES } = JS;
const WS = ['ws://a:1/ws', 'ws://b:1/ws', 'ws://c:1/ws'];
const SSE = ['http://a:1/sse', 'http://b:1/sse', 'http://c:1/sse'];

// A picker whose random() returns the given values in turn (the last one
// once they run out).
function picker(...values) {
  let i = 0;
  return new NodePicker(() => values[Math.min(i++, values.length - 1)]);
}

test('pick: random() chooses the index; current names the node, not the URL', () => {
  assert.equal(picker(0).pick(WS), 0);
  assert.equal(picker(0.5).pick(WS), 1);
  assert.equal(picker(0.999).pick(WS), 2);
  const p = picker(0.5);
  p.pick(WS);
  assert.equal(p.current, 'b:1');
  // The same index of another list is the same node.
  assert.equal(JS.Protocol.nodeOf(SSE[1]), p.current);
});

test('an avoided node is not picked while another is left', () => {
  const p = picker(0);
  p.avoid('a:1');
  assert.equal(p.lastFailed, 'a:1');
  for (let k = 0; k < 3; k++) assert.notEqual(p.pick(WS), 0);
  p.avoid('b:1');
  assert.equal(p.pick(SSE), 2, 'avoided across lists: only c is left');
  assert.equal(p.current, 'c:1');
});

test('every node avoided: the memory is cleared, and the last to fail is still left out', () => {
  const p = picker(0.5);
  p.avoid('a:1');
  p.avoid('c:1');
  p.avoid('b:1');
  // Among all three, random() would take b (the middle one); b failed last,
  // so the choice is between a and c, and the middle value takes c.
  assert.equal(p.pick(WS), 2);
  assert.deepEqual(Object.keys(p.avoided), [], 'forgotten');
  // Next time b is a choice again.
  const q = picker(0.5);
  q.avoid('a:1');
  q.avoid('b:1');
  q.avoid('c:1');
  assert.equal(q.pick(WS), 1, 'between a and b (c failed last): b');
  assert.equal(q.pick(WS), 1, 'then all three again: b in the middle');
});

test('a single node that failed is still the one picked', () => {
  const p = picker(0.3);
  p.avoid('a:1');
  assert.equal(p.pick(['ws://a:1/ws']), 0);
  assert.equal(p.current, 'a:1');
});

test('closed after a normal close: the next pick goes back to the same node, once', () => {
  for (const cause of ['closed:' + CODES.NORMAL, 'closed:' + CODES.IDLE,
    'closed:' + CODES.SLOW_CONSUMER, 'closed:' + CODES.DROPPED, 'stop']) {
    const p = picker(0.999, 0.999, 0);   // random alone would pick c, then a
    p.pick(WS);
    p.stay = '';
    p.current = 'b:1';
    p.closed(cause);
    assert.equal(p.stay, 'b:1', cause);
    assert.equal(p.pick(WS), 1, `${cause}: stays on b`);
    assert.equal(p.pick(WS), 2, `${cause}: the stay is used once`);
    assert.deepEqual(Object.keys(p.avoided), [], `${cause}: nothing avoided`);
  }
});

test('closed after a node loss: the node is avoided and the next pick moves off it', () => {
  const lost = ['timeout', ...Object.keys(NODE_LOST_CODES).map((c) => 'closed:' + c)];
  assert.ok(lost.includes('closed:1006') && lost.includes('closed:1001'));
  for (const cause of lost) {
    const p = picker(0.5, 0.5);   // random alone would pick b
    assert.equal(p.pick(WS), 1);
    p.closed(cause);
    assert.equal(p.avoided['b:1'], true, cause);
    assert.equal(p.lastFailed, 'b:1', cause);
    assert.equal(p.stay, '', cause);
    assert.notEqual(p.pick(WS), 1, `${cause}: moved off b`);
  }
});

test('NodePicker.lost: timeout and the node-lost codes; never a normal close', () => {
  assert.equal(NodePicker.lost('timeout'), true);
  assert.equal(NodePicker.lost('closed:' + CODES.LOST), true);
  assert.equal(NodePicker.lost('closed:' + CODES.BAD_GATEWAY), true);
  for (const cause of ['closed:1000', 'closed:4001', 'closed:4002', 'closed:4004', 'stop',
    'refused', 'error', 'http:502', 'closed:']) {
    assert.equal(NodePicker.lost(cause), false, cause);
  }
});

test('a stay on a node no longer listed falls back to a random pick', () => {
  const p = picker(0);
  p.stay = 'gone:1';
  assert.equal(p.pick(WS), 0);
  assert.equal(p.stay, '');
});

test('reset forgets the avoided nodes, the last failure, the stay', () => {
  const p = picker(0);
  p.avoid('a:1');
  p.stay = 'b:1';
  p.reset();
  assert.deepEqual(Object.keys(p.avoided), []);
  assert.equal(p.lastFailed, '');
  assert.equal(p.stay, '');
  assert.equal(p.pick(WS), 0);
});

test('with Math.random the picks are spread over every node', () => {
  const p = new NodePicker();
  const urls = ['ws://a:1/ws', 'ws://b:1/ws', 'ws://c:1/ws', 'ws://d:1/ws'];
  const used = [0, 0, 0, 0];
  for (let k = 0; k < 400; k++) used[p.pick(urls)]++;
  assert.ok(used.every((n) => n >= 40), `picks per node: ${used}`);
});
