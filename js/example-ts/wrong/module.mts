// Wrong uses from an ES module (see page.ts).
import JS, { Engine, Protocol } from 'comet4j-native';

// A misspelt named export.
import { Connecter } from 'comet4j-native';   // error TS2724
// join's user is null for an anonymous page.
Engine.on('join', (channel, user) => user.length);   // error TS18047
// request's result is unknown unless the page says what it expects.
Engine.request('cart.total').then((total) => total.toFixed());   // error TS18046
// A scope given: this is the scope, not the engine.
JS.Engine.on('start', function () { this.getId(); }, { id: 1 });   // error TS2339
// decodeBinary takes bytes (a binary frame), not a frame's text.
Protocol.decodeBinary('{"t":"msg"}');   // error TS2345
// A channel's bytes are a Uint8Array only once checked.
Engine.on('audio', (data) => data.byteLength);   // error TS18046
console.log(Connecter);
