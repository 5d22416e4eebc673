// A page that loads comet4j.js with a plain <script> (or from the jar:
// <script src="comet4j.js"></script>), written in TypeScript: a script
// file (no import or export) that uses the global JS. Compiled, never run,
// by test/types.test.mjs (tsconfig.json: strict, the DOM's types).

// --- the engine: start, events, channels ---
JS.Engine.on('start', function (cId, channels, engine) {
  console.log('connected as', cId, 'to', channels.join(', '), 'over',
    engine.getConnector().workStyle);
  this.subscribe('room.7').then(() => console.log('in room.7'));
});
JS.Engine.on('stop', (cause, cId, url) => {
  if (cause === 'refused' || cause === 'refused:origin') showMessage('not allowed here');
  else if (cause.startsWith('closed:')) console.log('closed', Number(cause.slice(7)), cId, url);
});
JS.Engine.on('recovered', (recovered, channel) => {
  if (!recovered) reloadStateOf(channel);   // messages were lost
});
JS.Engine.on('join', (channel, user, cId) => console.log(user ?? 'someone', 'in', channel, cId));

// A channel's data is the server's JSON: unknown until the page checks it.
interface Tick { now: string }
function isTick(v: unknown): v is Tick {
  return typeof v === 'object' && v !== null && typeof (v as Tick).now === 'string';
}
JS.Engine.on('clock', (data, time) => {
  if (isTick(data)) showMessage(data.now + ' (sent ' + new Date(time).toISOString() + ')');
});

// A message of bytes (the server's sendToAll(channel, byte[])) comes as a Uint8Array.
JS.Engine.on('audio', (data) => {
  if (data instanceof Uint8Array) console.log(data.length, data[0]);
});

// Several at once, with a scope (this), as Comet4J's pages do.
const view = { shown: 0 };
JS.Engine.on({
  start(cId) { this.shown++; console.log(cId); },
  chat(data) { this.shown++; console.log(String(data)); },
}, view);

JS.Engine.autoReconnect = true;
JS.Engine.config({ retryMin: 500, retryMax: 10000 });
JS.Engine.start('conn', { room: 7, user: 'ann' }, { workStyle: 'auto', requestTimeout: 5000 });

// --- talking back: Promises; the codes have names ---
JS.Engine.publish('board', { text: 'hi' }).catch((err: JS.CommandError) => {
  if (err.code === JS.CODES.NOT_WRITABLE) showMessage('read-only board');
});
// Bytes: an ArrayBuffer, a typed array or a DataView, one binary message.
const pcm: Promise<void> = JS.Engine.publish('audio', new Int16Array([0, 1, -1]));
JS.Engine.publish('audio', new DataView(new ArrayBuffer(4))).then(() => pcm);
JS.Engine.request<{ total: number }>('cart.add', { sku: 'A-1' }, { timeout: 3000 }).then(
  (cart) => showMessage('total ' + cart.total.toFixed(2)),
  (err: JS.CommandError) => {
    const code: JS.CommandErrorCode | number = err.code;
    if (code === JS.CODES.TIMEOUT || code === JS.CODES.LOST) showMessage('try again');
    else showMessage(err.message);
  });

// --- the engine's own JS.Connector: Comet4J's events ---
const own: JS.Connector = JS.Engine.getConnector();
own.on('beforeStop', (cause) => cause !== 'stop');   // false would veto a stop
own.on('message', (channel, data, time, conn) => console.log(channel, data, time, conn.cId));

// --- a JS.Connector alone, as Comet4J's connectorTest page ---
const conn = new JS.Connector({ url: 'conn', param: 'user=bob', retryCount: 5, retryDelay: 1000,
  workStyle: 'lpool', heartbeat: 20000 });
conn.on({
  connect(cId, channels, workStyle, timeout) {
    const style: JS.WorkStyle = workStyle;
    console.log(cId, channels, style, timeout, this.LLOOPSTYLE);
  },
  revival(url, cId) { console.log('back', url, cId); },
  stop(cause, cId, url, c) { console.log(cause, cId, url, c.running); },
});
conn.start();
conn._xhr.abort();   // cuts the connection; it comes back with a revival
window.addEventListener('beforeunload', () => conn.stop('leaving'));

// --- Comet4J's JS.js, Observable.js, XMLHttpRequest.js, AJAX.js ---
if (JS.isIE6 || JS.Runtime.isIE7) showMessage('an old browser');
const app = JS.ns('app.model');
app.user = JS.apply({ name: 'ann' }, { id: 7 }, { role: 'guest' });

const task = new JS.DelayedTask((n: number) => console.log('later', n), null, [1]);
task.delay(100);
task.cancel();

// An Observable with its events named: fireEvent and listeners check them.
const store = new JS.Observable<{ saved: [id: number, name: string] }>({ events: ['saved'] });
store.on('saved', (id, name) => console.log(id.toFixed(), name.toUpperCase()));
const heard: boolean | undefined = store.fireEvent('saved', 1, 'one');

const Dog = JS.extend(JS.Observable, {
  bark(): string { return 'woof'; },
});
const rex = new Dog();
console.log(rex.bark(), rex.supr() === JS.Observable.prototype, heard);

const button = document.createElement('button');
JS.on(button, 'click', function (ev) { ev.preventDefault(); this.shown++; }, view);
JS.DomEvent.on(button, 'focus', function () { this.blur(); });

const xhr = new JS.XMLHttpRequest({ timeout: 5000, enableCache: true });
xhr.on('load', (x) => console.log(x.status, x.responseText));
xhr.on('readyStateChange', (readyState, status) => console.log(readyState, status));
xhr.open('GET', 'status');
xhr.send();

JS.AJAX.get('stats', { full: true }, function (answer, request) {
  if (answer.status === JS.HTTPStatus.OK) console.log(JSON.parse(String(answer)), request.status);
});
JS.AJAX.getJson('stats', null, (json) => console.log(json));
JS.AJAX.getText('ping', 'a=1', function (text) { this.shown = text.length; }, view);

// --- the page's own helpers ---
function showMessage(text: string): void {
  document.title = text;
}
function reloadStateOf(channel: string): void {
  console.log('reload', channel);
}
