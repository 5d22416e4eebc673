// TLS on the native port (docs/protocol.md section 13): webapp-example in
// Tomcat with Comet.Port, Comet.TlsCert and Comet.TlsKey (an ECDSA P-256
// certificate made with openssl for 127.0.0.1) and an https connector
// (JSSE, keytool's self-signed certificate). The page is https; the
// handshake hands it wss:// and https:// endpoints on the native port,
// never ws:// or http://, and Chromium (--ignore-certificate-errors) gets
// pushed ticks and a chat line over each transport through the core's own
// TLS. Plain HTTP on the native port gets the core's 400.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startTomcat, logOnFailure } from '../lib/tomcat.mjs';
import { launchBrowser } from '../lib/browser.mjs';

let tomcat;
let browser;
let dir;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-native-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  tomcat = await startTomcat({ https: true, params: { 'Comet.TlsCert': cert, 'Comet.TlsKey': key } });
  browser = await launchBrowser({ ignoreCertificateErrors: true });
});
after(async () => {
  await browser?.close();
  await tomcat?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const withLogs = (fn) => logOnFailure(() => tomcat, fn);
const native = () => `127.0.0.1:${tomcat.cometPort}`;

/** GET url over https trusting any certificate: { status, body }. */
function get(url) {
  return new Promise((resolve, reject) => {
    https.get(url, { agent: false, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

test('the handshake of an https page gives wss:// and https:// endpoints on the native port', withLogs(async () => {
  const r = await get(tomcat.httpsUrl + 'conn?cmd=conn');
  assert.equal(r.status, 200, r.body);
  const hs = JSON.parse(r.body);
  assert.deepEqual(hs.endpoints, [`wss://${native()}/ws`]);
  assert.deepEqual(hs.stream, [`https://${native()}/sse`]);
  assert.deepEqual(hs.lpool, [`https://${native()}/poll`]);
  assert.deepEqual(hs.cmd, [`https://${native()}/cmd`]);
}));

test('plain HTTP on the native port is answered 400, saying it speaks TLS', withLogs(async () => {
  const answer = await new Promise((resolve, reject) => {
    const s = net.connect(tomcat.cometPort, '127.0.0.1', () => s.write('GET /ws HTTP/1.1\r\nHost: x\r\n\r\n'));
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d) => { got += d; });
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(answer, /this port speaks TLS/);
}));

for (const workStyle of ['websocket', 'stream', 'lpool']) {
  test(`${workStyle} from an https page over the native port's TLS: push arrives, a chat line crosses pages`,
    withLogs(async () => {
      const open = async () => {
        const context = await browser.newContext({ ignoreHTTPSErrors: true });
        const page = await context.newPage();
        const insecure = [];
        const onNative = [];
        page.on('request', (r) => {
          if (!r.url().startsWith('https://')) insecure.push(r.url());
          if (r.url().startsWith(`https://${native()}/`)) onNative.push(r.url());
        });
        page.on('websocket', (ws) => {
          if (!ws.url().startsWith(`wss://${native()}/ws?`)) insecure.push(ws.url());
          else onNative.push(ws.url());
        });
        await page.goto(tomcat.httpsUrl + '?workStyle=' + workStyle);
        await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
        return { page, insecure, onNative };
      };
      const one = await open();
      const two = await open();
      assert.equal(await one.page.evaluate(() => JS.Engine.getConnector().workStyle), workStyle);
      const first = await one.page.textContent('#clock');
      // The clock ticks every second; 10 s: two cores shared with the rest of the run.
      await one.page.waitForFunction((v) => document.getElementById('clock').textContent !== v, first,
        { timeout: 10000 });
      const line = `${workStyle} line ${Date.now()}`;
      await two.page.fill('#chat-name', 'two');
      await two.page.fill('#chat-input', line);
      await two.page.click('#chat-send');
      for (const p of [one.page, two.page]) {
        await p.waitForFunction((l) => document.getElementById('chat-log').textContent.includes(l), line,
          { timeout: 8000 });
      }
      for (const p of [one, two]) {
        assert.deepEqual(p.insecure, [], 'no ws:// or http:// URL');
        assert.ok(p.onNative.length > 0, 'the transport went to the native port');
        await p.page.context().close();
      }
    }));
}
