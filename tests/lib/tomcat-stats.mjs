// Tomcat's own figures from outside its JVM (lib/java/TomcatStats.java,
// compiled once per run with the JDK's javac): the connection count of each
// connector, read through the attach API and JMX.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let classes;

/** The pid of the java process under a catalina.sh run started by startTomcat. */
export function tomcatPid(base) {
  const out = execFileSync('pgrep', ['-f', `catalina.base=${base}`]).toString().trim().split('\n');
  return out[0];
}

function stats(...args) {
  if (!classes) {
    classes = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-stats-'));
    execFileSync('javac', ['-d', classes, path.join(here, 'java', 'TomcatStats.java')]);
  }
  return execFileSync('java', ['-cp', classes, 'TomcatStats', ...args]).toString();
}

/**
 * comet4j's bridge (the container way) in the Tomcat JVM pid: { pipes,
 * opened, buffered } (0s when there is none), and heap: bytes of Java heap
 * in use after a full GC.
 */
export function bridgeStats(pid) {
  const out = { pipes: 0, opened: 0, buffered: 0, heap: 0 };
  for (const line of stats(String(pid), 'bridge').trim().split('\n')) {
    const [name, n] = line.split(' ');
    if (name) out[name] = Number(n);
  }
  return out;
}

/** { connectorName: connectionCount } of the Tomcat JVM pid. */
export function connectionCounts(pid) {
  const out = stats(String(pid));
  const counts = {};
  for (const line of out.trim().split('\n')) {
    const [name, n] = line.split(' ');
    if (name) counts[name.replace(/"/g, '')] = Number(n);
  }
  return counts;
}
