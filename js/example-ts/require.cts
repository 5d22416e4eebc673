// The same client from CommonJS (node, an older build): the package's
// "require" entry, comet4j.js itself, typed by comet4j.d.ts.
import JS = require('comet4j-native');
import plain = require('comet4j-native/comet4j.js');

const engine: JS.CometEngine = plain.Engine;
engine.on('start', (cId: string) => console.log(cId));
JS.Engine.start('conn', { user: 'ann' });
JS.Engine.stop('done');
const lost: JS.CloseCode = JS.CODES.LOST;
console.log(lost, JS.version);
