// An in-process stand-in for CometServlet + the native port, for protocol
// edge cases the real server cannot easily be made to produce.
import http from 'node:http';
import { WebSocketServer } from 'ws';

export async function startFakeServer(opts = {}) {
  const srv = {
    handshakes: [],        // query strings of every GET /conn
    sockets: [],           // open server-side WebSockets, newest last
    frames: [],            // frames received from clients (parsed)
    // Behaviour knobs, changeable between requests:
    handshake: opts.handshake || ((q) => ({ status: 200 })),
    sendOpen: opts.sendOpen !== false,
    answerPing: opts.answerPing !== false,
    channels: ['clock', 'chat'],
    heartbeat: 0,
  };
  let n = 0;
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
    const cId = 'c' + (++n);
    const { port } = server.address();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(answer.body || JSON.stringify({
      v: 1, cId, channels: srv.channels, ticket: 'T.' + cId,
      endpoints: [`ws://127.0.0.1:${port}/ws`], workStyle: 'websocket',
      timeout: 60000, heartbeat: srv.heartbeat,
    }));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://x');
    const ticket = url.searchParams.get('ticket') || '';
    if (url.pathname !== '/ws' || !ticket.startsWith('T.')) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const cId = ticket.slice(2);
      ws.cId = cId;
      srv.sockets.push(ws);
      ws.on('message', (data) => {
        const f = JSON.parse(String(data));
        srv.frames.push(f);
        if (f.t === 'ping' && srv.answerPing) ws.send('{"t":"pong"}');
      });
      ws.on('close', () => { srv.sockets = srv.sockets.filter((s) => s !== ws); });
      if (srv.sendOpen) ws.send(JSON.stringify({ t: 'open', cId, channels: srv.channels }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  srv.base = `http://127.0.0.1:${server.address().port}`;
  srv.url = srv.base + '/conn';
  srv.send = (ch, data, time = Date.now()) => {
    for (const ws of srv.sockets) ws.send(JSON.stringify({ t: 'msg', ch, data, time }));
  };
  srv.raw = (text) => { for (const ws of srv.sockets) ws.send(text); };
  srv.close = async () => {
    for (const ws of srv.sockets) ws.terminate();
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
