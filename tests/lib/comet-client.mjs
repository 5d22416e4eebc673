// A node client of comet4j-native for tests that need many clients (one
// browser each would not do): the real handshake (CometServlet, GET
// conn?cmd=conn) for a ticket, then one of the three transports against the
// real native port. It keeps what comet4j.js keeps: the position per
// channel and no duplicates by offset, and it can resume (since, cId).
//
//   const c = new CometClient(tomcat.url + 'conn', { workStyle: 'stream' });
//   await c.start();                 // resolves on the open frame
//   c.messages('chat')               // data of every chat message, in order
//   c.stop();
import http from 'node:http';
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';

/** GET <conn>?cmd=conn[&extra]: the handshake answer (throws unless 200). */
export async function handshake(connUrl, query = {}) {
  const q = new URLSearchParams({ cmd: 'conn', ...query });
  const res = await fetch(connUrl + '?' + q);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`handshake: ${res.status} ${text}`);
  return JSON.parse(text);
}

function withTicket(url, ticket, since) {
  let u = url + (url.includes('?') ? '&' : '?') + 'ticket=' + encodeURIComponent(ticket);
  if (since) u += '&since=' + encodeURIComponent(JSON.stringify(since));
  return u;
}

export class CometClient extends EventEmitter {
  /**
   * base: a node to attach to instead of the handshake's first URL
   * (http://host:port; /ws, /sse, /poll and /cmd are appended), e.g. one
   * comet4j-node of a cluster (any node accepts a ticket signed with the
   * shared secret). It may be changed between start()s: a page moving to
   * another node.
   */
  constructor(connUrl, { workStyle = 'websocket', query = {}, base = null } = {}) {
    super();
    this.connUrl = connUrl;
    this.workStyle = workStyle;
    this.query = query;
    this.base = base;
    this.cId = '';
    this.positions = {};    // channel -> [epoch, offset]
    this.frames = [];       // every frame delivered, after dedupe
    this.duplicates = 0;    // frames dropped as already delivered
    this.ids = new Set();   // message ids ("u") delivered
    this.recovered = [];    // {ch, recovered, lost}: lost, a live notice's count
    this.closed = null;     // {code, reason} once the transport ended
    this.open = false;
    this._stopped = false;
  }

  /** Handshake (naming the old id when resuming), attach, wait for open. */
  async start({ resume = false, timeout = 15000 } = {}) {
    const query = { ...this.query };
    if (resume && this.cId) query.cId = this.cId;
    // A ticket minted by the test itself (tests/stress/lib.mjs), or the servlet's handshake.
    this.hs = this.mint ? this.mint() : await handshake(this.connUrl, query);
    this.cId = this.hs.cId;
    this.closed = null;
    this.open = false;
    this._stopped = false;
    const since = resume && Object.keys(this.positions).length ? this.positions : null;
    const opened = new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.workStyle}: no open frame within ${timeout} ms`)), timeout);
      this.once('open', () => { clearTimeout(t); resolve(); });
      // A poll that continues a parked one is quiet: no open frame (docs/protocol.md section 6).
      this.once('polled', () => { clearTimeout(t); this.open = true; resolve(); });
      this.once('closed', (code, reason) => {
        clearTimeout(t);
        if (!this.open) reject(new Error(`${this.workStyle}: closed ${code} ${reason} before open`));
      });
    });
    if (this.workStyle === 'websocket') this._ws(since);
    else if (this.workStyle === 'stream') this._sse(since);
    else this._poll(since);
    await opened;
    return this;
  }

  /** Data of every message of a channel, in delivery order. */
  messages(ch) {
    return this.frames.filter((f) => f.t === 'msg' && f.ch === ch).map((f) => f.data);
  }

  /** The URL of one of the handshake's lists (endpoints, stream, lpool, cmd), or this.base's. */
  _url(list) {
    if (this.base) {
      const suffix = { endpoints: '/ws', stream: '/sse', lpool: '/poll', cmd: '/cmd' }[list];
      return (list === 'endpoints' ? this.base.replace(/^http/, 'ws') : this.base) + suffix;
    }
    return this.hs[list][0];
  }

  _frame(f) {
    if (f.t === 'open') {
      this.open = true;
      if (f.cId) this.cId = f.cId;
      // Where each channel stands, for a client that has no message yet.
      for (const [ch, p] of Object.entries(f.pos || {})) {
        if (!this.positions[ch]) this.positions[ch] = p;
      }
      this.emit('open', f);
      return;
    }
    if (f.t === 'recovered') this.recovered.push({ ch: f.ch, recovered: f.recovered, lost: f.lost });
    // As comet4j.js does: by offset, and by message id (a broadcast its
    // node delivered while cut from Redis, and its copy with an offset).
    let seen = false;
    if (f.t === 'msg' && typeof f.u === 'string') {
      seen = this.ids.has(f.u);
      this.ids.add(f.u);
    }
    if (f.t === 'msg' && typeof f.e === 'string' && typeof f.o === 'number') {
      const pos = this.positions[f.ch];
      if (pos && pos[0] === f.e && f.o <= pos[1]) seen = true;
      else this.positions[f.ch] = [f.e, f.o];
    }
    if (seen) {
      this.duplicates++;
      return;
    }
    this.frames.push(f);
    this.emit('frame', f);
  }

  _closed(code, reason) {
    clearInterval(this._pinger);
    if (this.closed) return;
    this.closed = { code, reason };
    this.open = false;
    this.emit('closed', code, reason);
  }

  _ws(since) {
    // Plain frames (no permessage-deflate, which ws offers by default): these
    // clients are many in one process and measure the core's own queues and
    // fan-out; e2e/deflate.test.mjs and native/test/test-deflate.c test it.
    const opts = { perMessageDeflate: false };
    if (this.localAddress) opts.localAddress = this.localAddress;
    const ws = new WebSocket(withTicket(this._url('endpoints'), this.hs.ticket, since), opts);
    this.ws = ws;
    ws.on('message', (data) => this._frame(JSON.parse(String(data))));
    ws.on('close', (code, reason) => this._closed(code, String(reason)));
    ws.on('unexpected-response', (req, res) => { this._closed(1006, 'http:' + res.statusCode); req.destroy(); });
    ws.on('error', () => this._closed(1006, 'error'));
  }

  _sse(since) {
    const req = http.get(withTicket(this._url('stream'), this.hs.ticket, since),
      { agent: false, headers: { Accept: 'text/event-stream' }, localAddress: this.localAddress }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          this._closed(1006, 'http:' + res.statusCode);
          return;
        }
        res.setEncoding('utf8');
        // As comet4j.js does: an SSE stream lives on the page's pings (POST /cmd).
        const every = (this.hs && this.hs.heartbeat) || this.heartbeat || 1000;
        clearInterval(this._pinger);
        this._pinger = setInterval(() => {
          this.command([{ t: 'ping' }]).catch(() => {});
        }, every);
        let buf = '';
        let data = [];
        res.on('data', (chunk) => {
          buf += chunk;
          const lines = buf.split(/\r\n|\r|\n/);
          buf = lines.pop();
          for (const line of lines) {
            if (line === '') {
              if (data.length) this._frame(JSON.parse(data.join('\n')));
              data = [];
            } else if (line.startsWith('data:')) {
              data.push(line.slice(line[5] === ' ' ? 6 : 5));
            } else if (line.startsWith(':')) {
              this.emit('heartbeat');
            }
          }
        });
        res.on('end', () => this._closed(1006, 'end of stream'));
        res.on('error', () => this._closed(1006, 'error'));
      });
    req.on('error', () => this._closed(1006, 'error'));
    this.req = req;
  }

  _poll(since) {
    if (this._stopped) return;
    const req = http.get(withTicket(this._url('lpool'), this.hs.ticket, since),
      { agent: false, localAddress: this.localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        if (this._stopped) return;
        if (res.statusCode !== 200) {
          this._closed(1006, 'http:' + res.statusCode);
          return;
        }
        for (const f of JSON.parse(body)) this._frame(f);
        this.emit('polled');
        // Every poll says where it is, as comet4j.js does: a broadcast
        // published while this poll re-attached is replayed, not lost.
        this._poll(Object.keys(this.positions).length ? this.positions : null);
      });
      res.on('error', () => this._closed(1006, 'error'));
    });
    req.on('error', () => { if (!this._stopped) this._closed(1006, 'error'); });
    this.req = req;
  }

  /** POST frames to the cmd URL; resolves with the reply frames. */
  async command(frames) {
    const res = await fetch(withTicket(this._url('cmd'), this.hs.ticket), {
      method: 'POST', body: JSON.stringify(frames), headers: { 'Content-Type': 'text/plain' } });
    return JSON.parse(await res.text());
  }

  /**
   * Sends client frames (section 7): over the WebSocket when that is the
   * transport, else by POST /cmd. Answers arrive as frames (and, for
   * POST /cmd, whatever its reply holds is delivered as frames too).
   */
  async send(...frames) {
    if (this.workStyle === 'websocket') {
      if (!this.ws) throw new Error('send: no WebSocket');
      for (const f of frames) this.ws.send(JSON.stringify(f));
      return [];
    }
    const reply = await this.command(frames);
    if (Array.isArray(reply)) for (const f of reply) if (f && f.t) this._frame(f);
    return reply;
  }

  /** Ends the transport from this side (a WebSocket with 1000). */
  stop() {
    this._stopped = true;
    clearInterval(this._pinger);
    if (this.ws) { try { this.ws.close(1000); } catch { /* closing */ } this.ws = null; }
    if (this.req) { this.req.destroy(); this.req = null; }
    this.open = false;
  }

  /** Cuts the transport without a goodbye (a network loss, to the server). */
  cut() {
    this._stopped = true;
    clearInterval(this._pinger);
    if (this.ws) { this.ws.terminate(); this.ws = null; }
    if (this.req) { this.req.destroy(); this.req = null; }
    this.open = false;
  }
}

/** POST /chat with one message per line, in order; resolves on 200. */
export async function publishLines(appUrl, lines, { name = 'test', to } = {}) {
  const body = new URLSearchParams({ name, text: lines.join('\n') });
  if (to) body.set('to', to);
  const res = await fetch(appUrl + 'chat', { method: 'POST', body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /chat: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** Resolves once cond() is true (checked every 20 ms); throws after ms. */
export async function eventually(what, cond, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    if (cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
