// Many node clients on the three transports against the real native port
// (tests/lib/comet-client.mjs), with tickets from the real handshake:
// everyone gets the same sequence; a client that stops reading is closed
// with 4001 and the others are not held up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTomcat, logOnFailure } from '../lib/tomcat.mjs';
import { CometClient, publishLines, eventually } from '../lib/comet-client.mjs';

let tomcat;
let clients = [];

before(async () => {
  tomcat = await startTomcat();
});
after(async () => {
  for (const c of clients) c.stop();
  await tomcat?.stop();
});

// Failures carry the end of Tomcat's logs; every test cleans up after itself.
const withLogs = (fn) => logOnFailure(() => tomcat, fn, () => {
  for (const c of clients) c.stop();
  clients = [];
});

const STYLES = ['websocket', 'stream', 'lpool'];

/** n clients, round-robin over the transports, started `batch` at a time. */
async function startClients(n, batch = 50) {
  const made = Array.from({ length: n }, (_, i) =>
    new CometClient(tomcat.url + 'conn', { workStyle: STYLES[i % 3] }));
  clients.push(...made);
  for (let i = 0; i < n; i += batch) {
    await Promise.all(made.slice(i, i + batch).map((c) => c.start()));
  }
  return made;
}

const tagged = (c, tag) => c.messages('chat').filter((d) => d.text.startsWith(tag)).map((d) => d.text);

// (c)
test('1,000 clients over websocket, stream and lpool get the same sequence', withLogs(async () => {
  const all = await startClients(1000);
  assert.equal(all.filter((c) => c.open).length, 1000);
  const tag = `c${Date.now()}-`;
  const sent = [];
  for (let k = 0; k < 3; k++) {
    const batch = Array.from({ length: 50 }, (_, i) => `${tag}${k * 50 + i + 1}`);
    sent.push(...batch);
    await publishLines(tomcat.url, batch);
  }
  // On a timeout, say who is behind: transport, lines, closed or not.
  const behind = () => {
    const late = all.filter((c) => tagged(c, tag).length < sent.length);
    const by = {};
    for (const c of late) {
      const k = `${c.workStyle}${c.closed ? ' closed ' + c.closed.code : ''}`;
      by[k] = (by[k] || 0) + 1;
    }
    return `${late.length} behind: ${JSON.stringify(by)}; e.g. ` + late.slice(0, 3).map((c) =>
      `${c.workStyle} has ${tagged(c, tag).length}, last offset ${JSON.stringify(c.positions.chat)}, dropped as already seen ${c.duplicates}`).join('; ');
  };
  await eventually('every client to have all 150 lines',
    () => all.every((c) => tagged(c, tag).length >= sent.length), 30000).catch((e) => {
    throw new Error(e.message + ': ' + behind());
  });
  await new Promise((r) => setTimeout(r, 300));
  for (const c of all) {
    assert.deepEqual(tagged(c, tag), sent, `${c.workStyle} ${c.cId}`);
    assert.equal(c.duplicates, 0, `${c.workStyle} ${c.cId}: the server sent a broadcast twice`);
    assert.equal(c.closed, null, `${c.workStyle} ${c.cId} closed`);
  }
}));

// (d)
test('a WebSocket that stops reading is closed with 4001; the others get everything', withLogs(async () => {
  const others = await startClients(6);
  const [stalled] = await startClients(1);   // a websocket
  assert.equal(stalled.workStyle, 'websocket');
  stalled.ws.pause();   // stops reading: the kernel buffers fill, then the core's queue
  const tag = `d${Date.now()}-`;
  const pad = 'x'.repeat(450);
  const sent = [];
  // 16 rounds of 1,000 lines of ~520 bytes on the wire, each below
  // Comet.MaxQueue (1 MiB) for a client that reads and read by the others
  // before the next: 8 MB, more than the loopback buffers (the sender's
  // tcp_wmem, 4 MB at most, and a receive buffer that does not grow while
  // nobody reads) plus the core's 1 MiB queue.
  for (let k = 0; k < 16; k++) {
    const batch = Array.from({ length: 1000 }, (_, i) => `${tag}${k * 1000 + i + 1} ${pad}`);
    sent.push(...batch);
    await publishLines(tomcat.url, batch);
    await eventually(`round ${k + 1} to reach the reading clients`,
      () => others.every((c) => tagged(c, tag).length >= sent.length || c.closed), 20000);
  }
  for (const c of others) {
    const got = tagged(c, tag);
    assert.equal(c.closed, null, `${c.workStyle} ${c.cId} closed: ${JSON.stringify(c.closed)}`);
    assert.equal(got.length, sent.length, `${c.workStyle} ${c.cId}: ${got.length} of ${sent.length}`);
    assert.deepEqual(got, sent, `${c.workStyle} ${c.cId}`);
  }
  const closed = new Promise((r) => (stalled.closed ? r() : stalled.once('closed', r)));
  stalled.ws.resume();
  await Promise.race([closed, new Promise((_, j) => setTimeout(() => j(new Error(`no close within 15 s of reading again (the stalled client has ${tagged(stalled, tag).length} of ${sent.length} lines, readyState ${stalled.ws?.readyState})`)), 15000))]);
  assert.equal(stalled.closed.code, 4001, JSON.stringify(stalled.closed));
  assert.ok(tagged(stalled, tag).length < sent.length, 'the stalled client missed lines');
}));
