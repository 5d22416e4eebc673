// Stress: run-time subscriptions racing a long-poll's hops.  Long-poll
// pages in a real Tomcat (webapp-example, the core with two workers) toggle
// their subscription to "board" over POST /cmd (the application's Commands
// decide, the core applies) while chat lines keep every poll hopping, each
// next poll landing on either worker.  Invariant: every command is
// answered once; a page whose last command was a sub hears the next board
// message once, a page whose last was an unsub does not hear it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTomcat } from '../lib/tomcat.mjs';
import { CometClient, publishLines, eventually } from '../lib/comet-client.mjs';
import { scale, sleep } from './lib.mjs';

let tomcat;
const clients = [];

before(async () => { tomcat = await startTomcat(); });
after(async () => {
  for (const c of clients) c.stop();
  await tomcat?.stop();
});

const acks = (c, id) => c.frames.filter((f) => f.t === 'ack' && f.id === id).length;
const boardOf = (c, tag) => c.messages('board').filter((d) => d && d.text === tag).length;

test('subscribe and unsubscribe while each poll hops between workers: each once, in order', async () => {
  const n = scale(200, 24);
  const k = scale(20, 8);
  for (let i = 0; i < n; i++) {
    const c = new CometClient(tomcat.url + 'conn', { workStyle: 'lpool' });
    c.localAddress = '127.0.0.2';
    clients.push(c);
  }
  await Promise.all(clients.map((c) => c.start()));
  // Chat lines all along: every page's poll is answered and comes back.
  let chatting = true;
  const chatter = (async () => {
    for (let i = 0; chatting; i++) {
      await publishLines(tomcat.url, [`hop ${i}`]);
      await sleep(5);
    }
  })();
  // Commands 1..k: unsub, sub, unsub, ...; odd pages send one more, so
  // that half end subscribed and half not.
  const last = (i) => k + (i % 2);
  const subscribedAtEnd = (i) => last(i) % 2 === 0;
  await Promise.all(clients.map(async (c, i) => {
    for (let id = 1; id <= last(i); id++) {
      // Right as a poll was answered: the command reaches the core while
      // the next poll attaches, on either worker.
      await new Promise((r) => c.once('polled', r));
      await c.send({ t: id % 2 ? 'unsub' : 'sub', id, ch: 'board' });
    }
  }));
  chatting = false;
  await chatter;
  await eventually('every command answered', () => clients.every((c, i) => {
    for (let id = 1; id <= last(i); id++) if (acks(c, id) < 1) return false;
    return true;
  }), 30000).catch((e) => {
    const late = clients.map((c, i) => [c, i]).filter(([c, i]) =>
      Array.from({ length: last(i) }, (_, j) => acks(c, j + 1)).some((x) => x < 1));
    throw new Error(`${e.message}: ${late.length} pages miss acks, e.g. ` + late.slice(0, 3).map(([c, i]) =>
      `${c.cId}: ${Array.from({ length: last(i) }, (_, j) => acks(c, j + 1)).join(',')}`).join('; '));
  });
  for (const [i, c] of clients.entries()) {
    for (let id = 1; id <= last(i); id++) assert.equal(acks(c, id), 1, `${c.cId}: command ${id} answered ${acks(c, id)} times`);
  }
  // One board message from a page that is subscribed to it.
  const tag = `board-${Date.now()}`;
  const writer = new CometClient(tomcat.url + 'conn', { workStyle: 'lpool' });
  clients.push(writer);
  await writer.start();
  const [answer] = await writer.send({ t: 'pub', id: 1, ch: 'board', data: { text: tag } });
  assert.equal(answer?.t ?? 'ack', 'ack', JSON.stringify(answer));
  await eventually('the board message to reach every subscribed page',
    () => clients.slice(0, n).every((c, i) => !subscribedAtEnd(i) || boardOf(c, tag) >= 1), 20000);
  await sleep(500); // room for a copy, or for a page that should not hear it
  for (const [i, c] of clients.slice(0, n).entries()) {
    assert.equal(boardOf(c, tag), subscribedAtEnd(i) ? 1 : 0,
      `${c.cId}: last command ${subscribedAtEnd(i) ? 'sub' : 'unsub'}, heard the board message ${boardOf(c, tag)} times`);
    assert.equal(c.closed, null, `${c.cId} closed: ${JSON.stringify(c.closed)}`);
  }
});
