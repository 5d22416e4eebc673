// The stress suite's parts (tests/stress/README.md): the scale, tickets
// minted as any backend would (HS256 with the shared secret), clients of
// the three transports bound to 127.0.0.2, .3, ..., a raw WebSocket for
// the misbehaving ones, and what a process holds (RSS, open files) read
// from /proc for the leak checks.
//
// C4J_STRESS=full (make stress) runs each scenario at its full size and
// length; anything else (make test) a short version of the same scenario,
// with the same assertions.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { CometClient } from '../lib/comet-client.mjs';

export const FULL = process.env.C4J_STRESS === 'full';
/** n at full size, else short (both at least 1). */
export const scale = (full, short) => Math.max(1, FULL ? full : short);

export const SECRET = crypto.randomBytes(24).toString('hex');
export const API_KEY = crypto.randomBytes(24).toString('hex');

const b64u = (b) => Buffer.from(b).toString('base64url');

/** A new connection id, as the core makes them: 22 base64url characters. */
export const newId = () => crypto.randomBytes(16).toString('base64url').slice(0, 22);

/** An HS256 ticket for cid on channels (60 s, or ttl seconds). */
export function mint(cid, channels, { sub, ttl = 60, secret = SECRET } = {}) {
  const head = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims = { cid, exp: Math.floor(Date.now() / 1000) + ttl, ch: channels };
  if (sub) claims.sub = sub;
  const body = b64u(JSON.stringify(claims));
  const sig = crypto.createHmac('sha256', secret).update(head + '.' + body).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** The i-th client's source address: 127.0.0.2 and up, 5,000 a piece. */
export const sourceAddress = (i) => `127.0.0.${2 + Math.floor(i / 5000)}`;

/**
 * A CometClient (tests/lib/comet-client.mjs) attached straight to a node,
 * its ticket minted here instead of by a servlet's handshake: node.base,
 * channels, workStyle, the cId to keep across start()s, heartbeat (ms
 * between an SSE client's pings).
 */
export function nodeClient(node, channels, { workStyle = 'websocket', cId = newId(), sub, index = 0,
  heartbeat = 1000 } = {}) {
  const c = new CometClient(null, { workStyle, base: node.base });
  c.heartbeat = heartbeat; // an SSE client's pings (POST /cmd), under the node's --timeout
  c.localAddress = sourceAddress(index);
  c.mint = () => ({ cId: c.cId || cId, ticket: mint(c.cId || cId, channels, { sub }) });
  c.cId = cId;
  return c;
}

/** What a process holds now: { rss (bytes), fds }. */
export function footprint(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
  return { rss, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves once cond() (maybe async) is true, checked every 25 ms; throws after ms. */
export async function until(what, cond, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * A WebSocket by hand, for clients that misbehave: connect(port, target)
 * resolves after the 101 (or with { status } for a refusal); then
 * frame(opcode, payload, { mask, fin }) writes one frame, pause() stops
 * reading, and closed resolves with { code, reason } of the server's close
 * frame (or 1006 when the socket ends without one).
 */
export function rawSocket(port, target, { localAddress = '127.0.0.2' } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let closeResolve;
    const r = {
      socket: s,
      frames: [],
      closed: new Promise((res) => { closeResolve = res; }),
      frame(opcode, payload = Buffer.alloc(0), { mask = true, fin = true } = {}) {
        const p = Buffer.from(payload);
        const len = p.length;
        const head = [(fin ? 0x80 : 0) | opcode];
        const m = mask ? 0x80 : 0;
        if (len < 126) head.push(m | len);
        else if (len < 65536) head.push(m | 126, len >> 8, len & 255);
        else {
          head.push(m | 127, 0, 0, 0, 0);
          head.push((len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255);
        }
        const parts = [Buffer.from(head)];
        if (mask) {
          const key = crypto.randomBytes(4);
          parts.push(key);
          const q = Buffer.alloc(len);
          for (let i = 0; i < len; i++) q[i] = p[i] ^ key[i & 3];
          parts.push(q);
        } else parts.push(p);
        return s.write(Buffer.concat(parts));
      },
      pause() { s.pause(); },
      destroy() { s.destroy(); },
    };
    const parse = () => {
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1] & 127;
        let at = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); at = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); at = 10; }
        if (buf.length < at + len) return;
        const op = buf[0] & 15;
        const payload = buf.subarray(at, at + len);
        buf = buf.subarray(at + len);
        if (op === 8) {
          closeResolve({ code: len >= 2 ? payload.readUInt16BE(0) : 1005,
            reason: payload.subarray(2).toString() });
        } else r.frames.push({ op, text: op === 1 ? payload.toString() : null, len });
      }
    };
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        const status = Number(head.split(' ')[1]);
        if (status !== 101) {
          resolve({ status, head, body: buf.toString() });
          s.destroy();
          return;
        }
        upgraded = true;
        resolve(r);
      }
      parse();
    });
    s.on('error', (e) => { if (!upgraded) reject(e); });
    s.on('close', () => closeResolve({ code: 1006, reason: 'socket closed' }));
    s.on('connect', () => {
      s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n\r\n`);
    });
  });
}

/** POST /api/publish on a node; resolves with { status, body }. */
export async function publish(node, channel, data, { key = API_KEY } = {}) {
  const res = await fetch(node.base + '/api/publish', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + key },
    body: JSON.stringify({ channel, data }),
  });
  return { status: res.status, body: await res.text() };
}
