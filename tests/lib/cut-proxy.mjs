// A TCP proxy in front of the native port, to cut the network for real.
//
// Chromium's context.setOffline(true) fails new requests but leaves an open
// WebSocket or fetch stream alone (checked with Chromium 156: both kept
// delivering), so it cannot stand for a lost network on its own. Pages get
// this proxy's address from the handshake (Comet.PublicUrl), and cut()
// destroys every proxied connection (both sides see the TCP connection
// end, the core as a lost transport: dying), then refuses new ones until
// restore().
import net from 'node:net';

export async function startCutProxy(port = 0) {
  const pairs = new Set();
  let down = false;
  const proxy = {
    target: 0,          // the native port; set once Tomcat has picked it
    accepted: 0,
    server: net.createServer((client) => {
      proxy.accepted++;
      if (down || !proxy.target) { client.destroy(); return; }
      const upstream = net.connect({ host: '127.0.0.1', port: proxy.target });
      const pair = { client, upstream };
      pairs.add(pair);
      const end = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
    }),
    /** Ends every connection through the proxy and refuses new ones. */
    cut() {
      down = true;
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    /** Lets connections through again. */
    restore() { down = false; },
    get open() { return pairs.size; },
    close() {
      proxy.cut();
      return new Promise((r) => proxy.server.close(r));
    },
  };
  await new Promise((r) => proxy.server.listen(port, '127.0.0.1', r));
  proxy.port = proxy.server.address().port;
  return proxy;
}
