/*
 * ws-peer.cjs - bench/peers.sh's server for node's `ws` (npm): the usual
 * broadcast of a ws application.  A WebSocket on any path gets
 * {"t":"open"} when it opens (what bench/wsbench waits for); POST /pub
 * sends its body as one text message to every open client
 * (wss.clients, client.send), then answers 200.
 *
 *   NODE_PATH=tests/node_modules node bench/peers/ws-peer.cjs PORT
 */
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2]);
const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/pub') {
    res.writeHead(404).end();
    return;
  }
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    const text = Buffer.concat(parts).toString('utf8');
    for (const c of wss.clients) c.send(text);
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('sent\n');
  });
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => ws.send('{"t":"open"}'));
server.listen(port, '127.0.0.1', () => console.log(`ready pid=${process.pid}`));
