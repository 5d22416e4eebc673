// tests/consumer/ for tests: the released artifacts deployed to a file
// repository and a separate application built against them
// (tests/consumer/build.sh), and that application (an embedded Tomcat from
// a main, no web.xml) started on free loopback ports.
import { spawn, execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, freePort, supervise } from './tomcat.mjs';

const BUILD = path.join(ROOT, 'tests/consumer/build.sh');
export const WEB = path.join(ROOT, 'tests/consumer/web');
const JAVA = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin/java') : 'java';

/** The root POM's version: the release's, set in one place. */
export function projectVersion() {
  const pom = fs.readFileSync(path.join(ROOT, 'pom.xml'), 'utf8');
  const m = /<artifactId>comet4j-parent<\/artifactId>\s*<version>([^<]+)<\/version>/.exec(pom);
  if (!m) throw new Error('no comet4j-parent version in pom.xml');
  return m[1];
}

/**
 * Runs tests/consumer/build.sh DIR (mvn deploy to DIR/repo, then the
 * application's two builds with the fresh local repository DIR/m2).
 * Resolves { dir, repo, m2, jar: {jakarta, javax}, seconds }; throws with
 * the script's output.
 */
export function buildConsumer(dir) {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    execFile('bash', [BUILD, dir], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${BUILD} failed: ${err.message}\n${stdout}\n${stderr}`));
        return;
      }
      resolve({
        dir,
        repo: path.join(dir, 'repo'),
        m2: path.join(dir, 'm2'),
        jar: {
          jakarta: path.join(dir, 'app/target/push-app.jar'),
          javax: path.join(dir, 'app/target-javax/push-app.jar'),
        },
        output: stdout,
        seconds: Math.round((Date.now() - start) / 1000),
      });
    });
  });
}

/** The entries of a jar (jar tf). */
export function jarEntries(jar) {
  return execFileSync('jar', ['tf', jar], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** One entry of a jar, as text. */
export function jarText(jar, entry, tmp) {
  const out = fs.mkdtempSync(path.join(tmp, 'x-'));
  try {
    execFileSync('jar', ['xf', path.resolve(jar), entry], { cwd: out });
    return fs.readFileSync(path.join(out, entry), 'utf8');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/**
 * Starts `java -jar JAR --mode MODE` (code | param | none: see
 * tests/consumer/src/.../Main.java) in its own process group, with its
 * Tomcat base and log in a fresh folder under dir, and waits for its page.
 * Returns { url, httpPort, cometPort, log, logTail(), stop() }; stop()
 * sends SIGTERM (the shutdown hook stops Tomcat, which stops the engine).
 */
export async function startPushApp({ jar, mode, dir }) {
  const run = fs.mkdtempSync(path.join(dir, `run-${mode}-`));
  const httpPort = await freePort();
  let cometPort = await freePort();
  while (cometPort === httpPort) cometPort = await freePort();
  const log = path.join(run, 'console.log');
  const out = fs.openSync(log, 'a');
  const child = spawn(JAVA, ['-jar', jar, '--mode', mode, '--http', String(httpPort),
    '--comet', String(cometPort), '--web', WEB, '--base', path.join(run, 'tomcat')], {
    cwd: run,
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${httpPort}/`;
  const server = await supervise(child, { name: `push-app (${mode})`, log, dir: run, url, ms: 30000 });
  return { url, httpPort, cometPort, log, logTail: server.logTail, stop: server.stop };
}
