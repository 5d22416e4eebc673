// Wrong uses of the page API, each of which must fail to compile: the line
// ends with the error test/types.test.mjs expects there (and no other
// line may have one). A script file, as a page's: JS is the global.
{
  // A misspelt event of a JS.Connector (its events are a fixed set).
  new JS.Connector().on('conect', () => {});   // error TS2769
  // An engine listener with the wrong argument type (cId is a string).
  JS.Engine.on('start', (cId: number) => cId);   // error TS2769
  // A channel's data is unknown: it must be checked before use.
  JS.Engine.on('clock', (data) => data.toUpperCase());   // error TS18046
  // A misspelt option, and a work style that does not exist.
  JS.Engine.start('conn', {}, { retrymin: 100 });   // error TS2561
  JS.Engine.start('conn', {}, { workStyle: 'ws' });   // error TS2322
  // A misspelt code name.
  JS.Engine.request('t').catch((e: JS.CommandError) => e.code === JS.CODES.TIMOUT);   // error TS2551
  // Not a stop cause of the engine's.
  const cause: JS.EngineStopCause = 'closed';   // error TS2322
  // A command's channel is a string.
  JS.Engine.subscribe(7);   // error TS2345
  // connect's workStyle is one of three; 'auto' is never in use.
  new JS.Connector().on('connect', (cId, channels, ws) => ws === 'auto');   // error TS2367
  // An Observable's declared events: the arguments of fireEvent are checked.
  new JS.Observable<{ saved: [id: number] }>().fireEvent('saved', 'one');   // error TS2345
  // CODES is read-only.
  JS.CODES.LOST = 1000;   // error TS2540
  // Comet4J's AJAX: the callback's answer has no such field.
  JS.AJAX.get('stats', null, (answer) => answer.body);   // error TS2339
  console.log(cause);
}
