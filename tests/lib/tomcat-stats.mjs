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

/** { connectorName: connectionCount } of the Tomcat JVM pid. */
export function connectionCounts(pid) {
  if (!classes) {
    classes = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-stats-'));
    execFileSync('javac', ['-d', classes, path.join(here, 'java', 'TomcatStats.java')]);
  }
  const out = execFileSync('java', ['-cp', classes, 'TomcatStats', String(pid)]).toString();
  const counts = {};
  for (const line of out.trim().split('\n')) {
    const [name, n] = line.split(' ');
    if (name) counts[name.replace(/"/g, '')] = Number(n);
  }
  return counts;
}
