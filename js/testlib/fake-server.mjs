// An in-process stand-in for CometServlet + the native port, for protocol
// edge cases the real server cannot easily be made to produce. It speaks
// docs/protocol.md: WebSocket (/ws), SSE
// (/sse), long-polling (/poll), commands (/cmd), broadcasts with an epoch
// and offset, since and recovered, and section 7's commands (sub, unsub,
// pub, req answered with ack, res or err) and presence frames, and
// messages of bytes (section 11): binary frames on WebSocket, "b64" on SSE
// and long-poll, a page's binary pub.
import http from 'node:http';
import { WebSocketServer } from 'ws';

// A frame as it goes on the wire: a message of bytes (its data a Buffer or
// a Uint8Array) as {binary} (u16 n, the JSON head, the bytes) on WebSocket
// or as its JSON form with "b64" elsewhere; any other frame as JSON text.
export function wire(f, websocket) {
  if (f.t !== 'msg' || !(f.data instanceof Uint8Array)) return { text: JSON.stringify(f) };
  const { data, ...head } = f;
  if (!websocket) return { text: JSON.stringify({ ...head, b64: Buffer.from(data).toString('base64') }) };
  const h = Buffer.from(JSON.stringify(head));
  return { binary: Buffer.concat([Buffer.from([h.length >> 8, h.length & 255]), h, Buffer.from(data)]) };
}

// A page's binary message as the frame it carries (its data a Buffer), or
// null.
export function unwire(buf) {
  if (buf.length < 2) return null;
  const n = buf[0] << 8 | buf[1];
  if (n > buf.length - 2) return null;
  try {
    const f = JSON.parse(buf.subarray(2, 2 + n).toString());
    return { ...f, data: Buffer.from(buf.subarray(2 + n)), binary: true };
  } catch (e) {
    return null;
  }
}

export async function startFakeServer(opts = {}) {
  const srv = {
    handshakes: [],        // query strings of every GET /conn
    drops: [],             // query strings of every /conn?cmd=drop (Comet4J's drop)
    requests: [],          // {path, query} of every request to the native paths
    sockets: [],           // open server-side WebSockets, newest last
    conns: [],             // every attached connection (all transports), newest last
    frames: [],            // frames received from clients (parsed), any transport
    cmdTypes: [],          // Content-Type of every POST /cmd
    // Behaviour knobs, changeable between requests:
    handshake: opts.handshake || ((q) => ({ status: 200 })),
    sendOpen: opts.sendOpen !== false,
    answerPing: opts.answerPing !== false,
    channels: ['clock', 'chat'],
    heartbeat: 0,
    timeout: 60000,
    workStyle: 'websocket',  // the handshake's workStyle
    v2: opts.v2 === true,    // announce stream/lpool/cmd URLs in the handshake
    block: { websocket: false, stream: false, lpool: false },  // refuse (401/503)
    hang: { stream: false, lpool: false },  // accept but never answer
    sseBeat: 0,              // ms between SSE comment lines (0: none)
    pollHold: 300,           // ms a poll waits for frames before []
    historySize: 100,        // broadcasts kept per channel for since
    revive: false,           // a handshake with cId=<known id> keeps the id
    // Balancing: the http bases of the nodes the handshake lists (each
    // base gives /ws, /sse, /poll and /cmd URLs; a base may hold
    // {workerIndex}), instead of this server alone, and the `workers` count
    // it announces (0: none).
    nodes: null,
    workers: 0,
    // Section 7. Channels a page may subscribe to (besides `channels`),
    // publish to, and actions by route: (params, frame) -> result (a throw
    // answers 5000 with its message).
    subscribable: ['room'],
    writable: ['board'],
    routes: {},
    refuse: [],              // channels whose sub is refused (4030)
    mute: false,             // commands get no answer at all
    delay: 0,                // ms before each answer
    // Where HTTP transports get answers: 'conn' (over the stream or the
    // poll, as frames addressed to the connection) or 'reply' (in the
    // POST /cmd answer).
    answerVia: 'conn',
    subs: {},                // cId -> channels subscribed at run time
  };
  let n = 0;
  let tickets = 0;
  const history = {};        // channel -> {epoch, next, frames: []}
  const polls = new Map();   // ticket -> poll connection
  // Tickets of poll connections closed by the server: a poll that was
  // between two requests when its connection closed must not attach again
  // with the same ticket (a core answers it 401).
  const cutPolls = new Set();

  function channelHistory(ch) {
    if (!history[ch]) history[ch] = { epoch: 'E' + ch.slice(0, 7), next: 1, frames: [] };
    return history[ch];
  }

  // Frames sent right after open: the resume replay and recovered frames.
  function resumeFrames(sinceText) {
    if (!sinceText) return [];
    const since = JSON.parse(sinceText);
    const out = [];
    for (const ch of Object.keys(since)) {
      const [epoch, offset] = since[ch];
      const h = history[ch];
      let ok = false;
      if (h && h.epoch === epoch) {
        const missed = h.frames.filter((f) => f.o > offset);
        const first = h.frames.length ? h.frames[0].o : h.next;
        if (offset + 1 >= first) {
          out.push(...missed);
          ok = true;
        }
      }
      out.push({ t: 'recovered', ch, recovered: ok });
    }
    return out;
  }

  // One attached connection, whatever carries it: send(frame), close().
  function attach(conn, ticket, sinceText) {
    conn.cId = ticket.split('.')[1];
    conn.ticket = ticket;
    srv.conns.push(conn);
    if (srv.sendOpen) {
      // Where each channel with a history stands now, as the core says it.
      const pos = {};
      for (const ch of Object.keys(history)) pos[ch] = [history[ch].epoch, history[ch].next - 1];
      conn.send({ t: 'open', cId: conn.cId, channels: srv.channels, pos });
    }
    for (const f of resumeFrames(sinceText)) conn.send(f);
  }
  function detach(conn) {
    srv.conns = srv.conns.filter((c) => c !== conn);
  }
  function validTicket(url) {
    const ticket = url.searchParams.get('ticket') || '';
    return ticket.startsWith('T.') ? ticket : null;
  }
  // The answer to a section 7 command, or null (not a command).
  function answer(f, cId) {
    const err = (code, message) => ({ t: 'err', id: f.id, code, message });
    const known = (ch) => srv.channels.includes(ch) || srv.subscribable.includes(ch) ||
      srv.writable.includes(ch);
    if (f.t === 'sub') {
      if (!known(f.ch)) return err(4040, 'unknown channel');
      if (srv.refuse.includes(f.ch)) return err(4030, 'refused');
      (srv.subs[cId] ||= []).push(f.ch);
      const h = channelHistory(f.ch);
      return { t: 'ack', id: f.id, pos: { [f.ch]: [h.epoch, h.next - 1] } };
    }
    if (f.t === 'unsub') {
      srv.subs[cId] = (srv.subs[cId] || []).filter((c) => c !== f.ch);
      return { t: 'ack', id: f.id };
    }
    if (f.t === 'pub') {
      if (!known(f.ch)) return err(4040, 'unknown channel');
      if (!srv.writable.includes(f.ch)) return err(4031, 'channel not writable');
      setImmediate(() => srv.broadcast(f.ch, f.data));
      return { t: 'ack', id: f.id };
    }
    if (f.t === 'req') {
      const fn = srv.routes[f.route];
      if (!fn) return err(4040, 'unknown route');
      try {
        return { t: 'res', id: f.id, result: fn(f.params, f) };
      } catch (e) {
        return err(5000, e.message);
      }
    }
    if (typeof f.id === 'number') return err(4000, 'bad command');
    return null;
  }
  // Replies for the POST /cmd answer; other answers go over conn.
  function handleCmd(frames, conn) {
    const replies = [];
    for (const f of [].concat(frames)) {
      // A pub of bytes over /cmd: "b64" (section 11).
      if (f.t === 'pub' && typeof f.b64 === 'string') f.data = Buffer.from(f.b64, 'base64');
      srv.frames.push(f);
      if (f.t === 'ping' && srv.answerPing) replies.push({ t: 'pong' });
      if (f.t === 'ping' || srv.mute) continue;
      const a = answer(f, conn && conn.cId);
      if (!a) continue;
      if (srv.answerVia === 'reply' && !srv.delay) replies.push(a);
      else if (conn) setTimeout(() => conn.send(a), srv.delay);
    }
    return replies;
  }
  const CORS = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = (opts.files || {})[url.pathname];
    if (file) {
      // Static files, to load a page and comet4j.js from the same origin.
      res.writeHead(200, { 'Content-Type': file.type });
      res.end(file.body);
      return;
    }
    if (url.pathname === '/echo') {
      // For JS.AJAX: answers with what it was sent.
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, query: url.search, body,
          type: req.headers['content-type'] || '' }));
      });
      return;
    }
    if (['/sse', '/poll', '/cmd'].includes(url.pathname)) {
      srv.requests.push({ path: url.pathname, query: url.search });
      const ticket = validTicket(url);
      if (!ticket) {
        res.writeHead(401, { ...CORS, 'Content-Type': 'text/plain' }).end('ticket missing');
        return;
      }
      if (url.pathname === '/cmd') {
        let body = '';
        srv.cmdTypes.push(req.headers['content-type'] || '');
        req.on('data', (c) => { body += c; });
        req.on('end', () => {
          res.writeHead(200, { ...CORS, 'Content-Type': 'application/json' });
          res.end(JSON.stringify(handleCmd(JSON.parse(body),
            srv.conns.find((c) => c.ticket === ticket))));
        });
        return;
      }
      if (url.pathname === '/sse') {
        if (srv.block.stream) { res.writeHead(503, CORS).end('blocked'); return; }
        if (srv.hang.stream) return;
        res.writeHead(200, { ...CORS, 'Content-Type': 'text/event-stream' });
        res.flushHeaders();
        const conn = {
          kind: 'stream', res,
          send: (f) => res.write('data: ' + wire(f, false).text + '\n\n'),
          raw: (text) => res.write(text),
          close: () => res.destroy(),
        };
        const beat = srv.sseBeat > 0 ? setInterval(() => {
          if (srv.sseBeat > 0) res.write(':\n\n');
        }, srv.sseBeat) : null;
        res.on('close', () => { clearInterval(beat); detach(conn); });
        attach(conn, ticket, url.searchParams.get('since'));
        return;
      }
      // /poll
      if (srv.block.lpool) { res.writeHead(503, CORS).end('blocked'); return; }
      if (srv.hang.lpool) return;
      if (cutPolls.has(ticket)) { res.writeHead(401, CORS).end('closed'); return; }
      let conn = polls.get(ticket);
      const fresh = !conn;
      if (fresh) {
        conn = {
          kind: 'lpool', queue: [], pending: null, hold: null,
          flush() {
            if (!this.pending || (!this.queue.length && !this.due)) return;
            const r = this.pending;
            clearTimeout(this.hold);
            this.pending = null;
            this.due = false;
            r.writeHead(200, { ...CORS, 'Content-Type': 'application/json', Connection: 'close' });
            r.end('[' + this.queue.splice(0).map((f) => wire(f, false).text).join(',') + ']');
          },
          send(f) { this.queue.push(f); setImmediate(() => this.flush()); },
          raw(text) {
            if (!this.pending) return;
            const r = this.pending;
            this.pending = null;
            r.writeHead(200, CORS).end(text);
          },
          close() {
            if (this.pending) this.pending.destroy();
            polls.delete(ticket);
            cutPolls.add(ticket);
            detach(this);
          },
        };
        polls.set(ticket, conn);
      }
      conn.pending = res;
      conn.hold = setTimeout(() => { conn.due = true; conn.flush(); }, srv.pollHold);
      res.on('close', () => { if (conn.pending === res) { conn.pending = null; clearTimeout(conn.hold); } });
      if (fresh) attach(conn, ticket, url.searchParams.get('since'));
      conn.flush();
      return;
    }
    if (url.pathname === '/conn' && url.searchParams.get('cmd') === 'drop') {
      srv.drops.push(url.search);
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('');
      return;
    }
    if (url.pathname !== '/conn' || url.searchParams.get('cmd') !== 'conn') {
      res.writeHead(404).end();
      return;
    }
    srv.handshakes.push(url.search);
    const answer = srv.handshake(url.searchParams, req);
    if (answer.hang) return;   // never answers: the client's timeout case
    if (answer.status !== 200) {
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(answer.body || '{"error":{"code":4030,"message":"connection refused"}}');
      return;
    }
    const old = url.searchParams.get('cId');
    const cId = srv.revive && old ? old : 'c' + (++n);
    const { port } = server.address();
    const base = `http://127.0.0.1:${port}`;
    const hs = {
      v: 1, cId, channels: srv.channels, ticket: `T.${cId}.${++tickets}`,
      endpoints: [`ws://127.0.0.1:${port}/ws`], workStyle: srv.workStyle,
      timeout: srv.timeout, heartbeat: srv.heartbeat,
    };
    if (srv.v2) {
      Object.assign(hs, { stream: [base + '/sse'], lpool: [base + '/poll'], cmd: [base + '/cmd'],
        connExpires: 5000 });
    }
    if (srv.nodes) {
      Object.assign(hs, {
        endpoints: srv.nodes.map((b) => b.replace(/^http/, 'ws') + '/ws'),
        stream: srv.nodes.map((b) => b + '/sse'),
        lpool: srv.nodes.map((b) => b + '/poll'),
        cmd: srv.nodes.map((b) => b + '/cmd'),
      });
    }
    if (srv.workers) hs.workers = srv.workers;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(answer.body || JSON.stringify(hs));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://x');
    srv.requests.push({ path: url.pathname, query: url.search });
    const ticket = validTicket(url);
    if (url.pathname !== '/ws' || !ticket || srv.block.websocket) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = {
        kind: 'websocket', ws,
        send: (f) => { const w = wire(f, true); ws.send(w.binary || w.text); },
        raw: (text) => ws.send(text),
        close: (code, reason) => (code ? ws.close(code, reason) : ws.terminate()),
      };
      ws.cId = ticket.split('.')[1];
      srv.sockets.push(ws);
      ws.on('message', (data, isBinary) => {
        const f = isBinary ? unwire(data) : JSON.parse(String(data));
        if (!f) {
          conn.send({ t: 'err', code: 4000, message: 'bad binary message' });
          return;
        }
        if (f.t === 'ping') {
          srv.frames.push(f);
          if (srv.answerPing) ws.send('{"t":"pong"}');
        } else {
          for (const r of handleCmd(f, conn)) conn.send(r);
        }
      });
      ws.on('close', () => {
        srv.sockets = srv.sockets.filter((s) => s !== ws);
        detach(conn);
      });
      attach(conn, ticket, url.searchParams.get('since'));
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port || 0, '127.0.0.1', resolve);
  });
  srv.base = `http://127.0.0.1:${server.address().port}`;
  srv.url = srv.base + '/conn';
  // A v1 message (no epoch, no offset) to every connection.
  srv.send = (ch, data, time = Date.now()) => {
    for (const c of srv.conns) c.send({ t: 'msg', ch, data, time });
  };
  // A broadcast: numbered, kept in the channel's history.
  srv.broadcast = (ch, data, time = Date.now()) => {
    const h = channelHistory(ch);
    const f = { t: 'msg', ch, e: h.epoch, o: h.next++, data, time };
    h.frames.push(f);
    if (h.frames.length > srv.historySize) h.frames.shift();
    for (const c of srv.conns) c.send(f);
    return f;
  };
  // Sends a frame object as it is (a duplicate, a recovered frame...).
  srv.frame = (f) => { for (const c of srv.conns) c.send(f); };
  // A new epoch for a channel: what an engine restart looks like.
  srv.restartHistory = (ch) => { delete history[ch]; history[ch] = { epoch: 'N' + ch.slice(0, 7), next: 1, frames: [] }; };
  srv.raw = (text) => { for (const c of srv.conns) c.raw(text); };
  // Presence: a join or leave frame to every connection.
  srv.presence = (t, ch, cId, user) => srv.frame({ t, ch, cId, user });
  srv.close = async () => {
    for (const ws of srv.sockets) ws.terminate();
    for (const c of srv.conns.slice()) c.close();
    wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return srv;
}

// Resolves with the arguments of the next `name` event of engine.
export function next(engine, name, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { engine.un(name, fn); reject(new Error(`no '${name}' within ${ms} ms`)); }, ms);
    function fn(...args) { clearTimeout(t); engine.un(name, fn); resolve(args); }
    engine.on(name, fn);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls cond every 5 ms until true; throws after ms.
export async function until(what, cond, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(5);
  }
}
