// The one table of codes (JS.CODES) and the two sets derived from it:
// every code of docs/protocol.md has a name, a name means one code, and
// the sets hold exactly the codes the engine treats as "do not retry" and
// "the node is lost".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import JS from '../comet4j.js';

const { CODES, NO_RETRY_CODES, NODE_LOST_CODES } = JS;
const codesOf = (set) => Object.keys(set).map(Number).sort((a, b) => a - b);

test('each code has one name: no value appears twice', () => {
  const values = Object.values(CODES);
  assert.ok(values.length >= 20, `only ${values.length} codes`);
  assert.equal(new Set(values).size, values.length);
  for (const [name, code] of Object.entries(CODES)) {
    assert.match(name, /^[A-Z][A-Z_]*$/, name);
    assert.ok(Number.isInteger(code) && code >= 1000 && code < 6000, `${name}: ${code}`);
  }
});

test('the names the engine relies on have their protocol values', () => {
  assert.equal(CODES.NORMAL, 1000);
  assert.equal(CODES.LOST, 1006);
  assert.equal(CODES.TIMEOUT, 4080);
  assert.equal(CODES.BAD_COMMAND, 4000);
  assert.equal(CODES.DROPPED, 4003);
  assert.equal(CODES.REPLACED, 4004);
});

test('every close code and command error code of docs/protocol.md is in the table', () => {
  const doc = fs.readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  // The close code tables (sections 5 and 6): rows "| 4001 | slow consumer ... |".
  const closes = [...doc.matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1]));
  assert.ok(closes.length >= 12, `found ${closes.length} close codes in the doc`);
  // Section 7's error codes: "Error codes: 4000 bad command, 4030 ..., 4290 too many".
  const section7 = doc.slice(doc.indexOf('Error codes:'), doc.indexOf('Subscriptions made at run time'));
  const errors = [...section7.matchAll(/\b([45]\d{3})\b/g)].map((m) => Number(m[1]));
  assert.ok(errors.includes(4290) && errors.includes(5030), 'section 7 read');
  const known = new Set(Object.values(CODES));
  for (const code of [...closes, ...errors]) assert.ok(known.has(code), `${code} has no name`);
});

test('the no-retry set: refusals and decisions of the server, nothing else', () => {
  assert.deepEqual(codesOf(NO_RETRY_CODES), [1002, 1003, 1007, 1008, 4003, 4004]);
  assert.equal(NO_RETRY_CODES[CODES.DROPPED], true);
  // A normal close, an idle timeout or a slow consumer are retried.
  for (const name of ['NORMAL', 'GOING_AWAY', 'LOST', 'SLOW_CONSUMER', 'IDLE']) {
    assert.equal(NO_RETRY_CODES[CODES[name]], undefined, name);
  }
});

test('the node-lost set: failures of the node, not normal closes', () => {
  assert.deepEqual(codesOf(NODE_LOST_CODES), [1001, 1006, 1011, 1012, 1013, 1014]);
  for (const name of ['NORMAL', 'SLOW_CONSUMER', 'IDLE', 'DROPPED', 'REPLACED']) {
    assert.equal(NODE_LOST_CODES[CODES[name]], undefined, name);
  }
  // No code is both: a code the engine does not retry cannot also send it
  // to another node.
  for (const code of codesOf(NO_RETRY_CODES)) assert.equal(NODE_LOST_CODES[code], undefined, code);
});

test('the table and the sets are frozen: a page cannot change what the engine does', () => {
  assert.throws(() => { CODES.LOST = 1000; }, TypeError);
  assert.throws(() => { NO_RETRY_CODES[1000] = true; }, TypeError);
  assert.throws(() => { delete NODE_LOST_CODES[1006]; }, TypeError);
  assert.equal(CODES.LOST, 1006);
});

test('a command of a stopped engine and a bad one reject with the table\'s codes', async () => {
  const e = new JS.CometEngine();
  await assert.rejects(e.request('x'), (err) => err.code === CODES.LOST);
  await assert.rejects(e.subscribe(''), (err) => err.code === CODES.BAD_COMMAND);
});
