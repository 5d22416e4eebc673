// The same client as an ES module of a front-end build (or node): the
// package's "import" entry, comet4j.mjs, typed by comet4j.d.ts. Compiled,
// never run, by test/types.test.mjs, with node's resolution
// (tsconfig.node.json, no DOM types) and a bundler's (tsconfig.bundler.json).
import JS, { Engine, CometEngine, Connector, CODES, Protocol, Transports } from 'comet4j-native';
import type { StopCause, WorkStyle, CommandError, EngineOptions } from 'comet4j-native';

const options: EngineOptions = { workStyle: 'websocket', retryMin: 250,
  endpoints: ['ws://localhost:4100/ws'] };
Engine.on('start', (cId, channels) => console.log(cId, channels.length));
Engine.on('stop', (cause: StopCause) => {
  if (cause === 'timeout') console.log('silent: it reconnects');
});
Engine.start('http://localhost:8080/app/conn', 'room=7', options);

// Another engine: its own listeners, options and connection.
const second = new CometEngine({ requestTimeout: 2000, heartbeat: 10000 });
second.on('orders', (data, time, engine) => console.log(data, time, engine === second));
second.start('conn');
second.subscribe('orders').then(
  () => second.request<number>('orders.count'),
  (err: CommandError) => (err.code === CODES.TOO_MANY ? 0 : Promise.reject(err)),
).then((n) => console.log('orders', n));

const conn = new Connector({ url: 'conn', workStyle: 'stream' });
conn.on('connect', (cId, channels, workStyle: WorkStyle, timeout) =>
  console.log(cId, channels, workStyle, timeout));
conn.on('message', (channel, data) => console.log(channel, data));
conn.start();
conn.stop();

// The default export is the same JS as the global of a plain script.
const same: boolean = JS.Engine === Engine && JS.Connector === Connector;
const frame = Protocol.decode('{"t":"msg","ch":"clock","data":1,"time":2}');
if (frame && frame.t === 'msg') console.log(frame.ch, frame.data, frame.time, same);
// A binary frame as the message it carries; a pub of bytes encoded both ways.
const bin = Protocol.decodeBinary(new Uint8Array([0, 2, 123, 125]));
if (bin) console.log(bin.ch, bin.data.byteLength);
const enc = Protocol.encode({ t: 'pub', id: 1, ch: 'audio', data: new Uint8Array([1]) });
console.log(enc.text, enc.bytes.byteLength, Protocol.encode(Protocol.ping()).length);
const fallback = JS.FALLBACK_ORDER.filter((w: WorkStyle) => Transports[w].supported());
console.log(Transports.lpool.selfWatch, Transports[fallback[0]].workStyle, JS.FALLBACK_ORDER);
console.log(JS.NO_RETRY_CODES[CODES.POLICY], JS.NodePicker.lost('closed:1006'));
