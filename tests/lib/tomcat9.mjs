// Runs Tomcat 9 (javax.servlet) with webapp-example-javax, for tests. Debian
// 12 has no Tomcat 9 server package, only the libtomcat9-java jars, so this
// builds both folders itself in one temporary directory:
//   home/lib/  links to /usr/share/java/tomcat9-*.jar (CATALINA_HOME)
//   base/      conf/ (server.xml, web.xml, context.xml), logs/, webapps/ (CATALINA_BASE)
// and runs `java -cp 'home/lib/*' org.apache.catalina.startup.Bootstrap start`
// in its own process group on free loopback ports, stopped (process group)
// by stop() or, failing that, when node exits.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, supervise } from './tomcat.mjs';

export const WAR_JAVAX = path.join(ROOT, 'webapp-example-javax/target/webapp-example-javax.war');
export const CONTEXT_JAVAX = '/webapp-example-javax';
const JARS = process.env.TOMCAT9_JARS || '/usr/share/java';
const JAVA = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin/java') : 'java';

// What catalina.sh adds on Java 9+ so that Tomcat's leak prevention can work.
const ADD_OPENS = ['java.base/java.lang', 'java.base/java.io', 'java.base/java.util',
  'java.base/java.util.concurrent', 'java.rmi/sun.rmi.transport']
  .map((m) => `--add-opens=${m}=ALL-UNNAMED`);

function serverXml(httpPort) {
  // Loopback only, no shutdown port: stopped by signal (the shutdown hook).
  return `<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener"/>
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener"/>
  <Listener className="org.apache.catalina.core.ThreadLocalLeakPreventionListener"/>
  <Service name="Catalina">
    <Connector address="127.0.0.1" port="${httpPort}" protocol="HTTP/1.1"
               connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true"
            autoDeploy="true" backgroundProcessorDelay="1"/>
    </Engine>
  </Service>
</Server>
`;
}

// The container defaults every application inherits: static files (the
// example's pages and comet4j.js from the jar's META-INF/resources) and
// their types. No JSP: Debian's tomcat9 jars come without a Java compiler.
const WEB_XML = `<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="http://xmlns.jcp.org/xml/ns/javaee"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://xmlns.jcp.org/xml/ns/javaee http://xmlns.jcp.org/xml/ns/javaee/web-app_4_0.xsd"
         version="4.0">
  <servlet>
    <servlet-name>default</servlet-name>
    <servlet-class>org.apache.catalina.servlets.DefaultServlet</servlet-class>
    <init-param><param-name>listings</param-name><param-value>false</param-value></init-param>
    <load-on-startup>1</load-on-startup>
  </servlet>
  <servlet-mapping>
    <servlet-name>default</servlet-name>
    <url-pattern>/</url-pattern>
  </servlet-mapping>
  <session-config><session-timeout>30</session-timeout></session-config>
  <mime-mapping><extension>html</extension><mime-type>text/html</mime-type></mime-mapping>
  <mime-mapping><extension>js</extension><mime-type>text/javascript</mime-type></mime-mapping>
  <mime-mapping><extension>css</extension><mime-type>text/css</mime-type></mime-mapping>
  <mime-mapping><extension>json</extension><mime-type>application/json</mime-type></mime-mapping>
  <mime-mapping><extension>svg</extension><mime-type>image/svg+xml</mime-type></mime-mapping>
  <mime-mapping><extension>png</extension><mime-type>image/png</mime-type></mime-mapping>
  <mime-mapping><extension>ico</extension><mime-type>image/x-icon</mime-type></mime-mapping>
  <welcome-file-list><welcome-file>index.html</welcome-file></welcome-file-list>
</web-app>
`;

// Comet.Port and Comet.Host for every context of this base, as
// catalina-base.sh does for Tomcat 10: override="false" wins over web.xml.
// The class path (Tomcat's own jars) is not scanned for fragments.
function contextXml(cometPort) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Context>
  <WatchedResource>WEB-INF/web.xml</WatchedResource>
  <JarScanner scanClassPath="false"/>
  <Parameter name="Comet.Port" value="${cometPort}" override="false"/>
  <Parameter name="Comet.Host" value="127.0.0.1" override="false"/>
</Context>
`;
}

/**
 * Builds home and base, starts Tomcat 9 with the javax WAR and waits until
 * the example answers 200. Returns { dir, httpPort, cometPort, url, log,
 * logTail(), stop() }.
 */
export async function startTomcat9({ war = WAR_JAVAX, cometPort: fixedCometPort, context = CONTEXT_JAVAX } = {}) {
  if (!fs.existsSync(war)) {
    throw new Error(`${war} is missing: run 'mvn -q install -DskipTests' in ${ROOT}`);
  }
  const jars = fs.readdirSync(JARS).filter((f) => /^tomcat9-.*\.jar$/.test(f)
    && !fs.lstatSync(path.join(JARS, f)).isSymbolicLink()); // each version once
  if (!jars.some((f) => f.startsWith('tomcat9-catalina-'))) {
    throw new Error(`no tomcat9-catalina jar in ${JARS}: install libtomcat9-java (.ci/install)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'c4j-tomcat9-'));
  const home = path.join(dir, 'home');
  const base = path.join(dir, 'base');
  fs.mkdirSync(path.join(home, 'lib'), { recursive: true });
  for (const f of jars) fs.symlinkSync(path.join(JARS, f), path.join(home, 'lib', f));
  for (const d of ['conf', 'logs', 'temp', 'webapps', 'work']) {
    fs.mkdirSync(path.join(base, d), { recursive: true });
  }
  const httpPort = await freePort();
  // cometPort 'none': Comet.Port blank, that is not set: one port.
  let cometPort = fixedCometPort ?? await freePort();
  while (cometPort === httpPort) cometPort = await freePort();
  fs.writeFileSync(path.join(base, 'conf/server.xml'), serverXml(httpPort));
  fs.writeFileSync(path.join(base, 'conf/web.xml'), WEB_XML);
  fs.writeFileSync(path.join(base, 'conf/context.xml'), contextXml(cometPort === 'none' ? '' : cometPort));
  fs.copyFileSync(war, path.join(base, 'webapps', path.basename(war)));

  const log = path.join(base, 'logs', 'console.log');
  const out = fs.openSync(log, 'a');
  const child = spawn(JAVA, [...ADD_OPENS,
    `-Dcatalina.home=${home}`, `-Dcatalina.base=${base}`, `-Djava.io.tmpdir=${base}/temp`,
    '-cp', path.join(home, 'lib', '*'),
    'org.apache.catalina.startup.Bootstrap', 'start'], {
    cwd: base,
    stdio: ['ignore', out, out],
    detached: true, // its own process group
  });
  fs.closeSync(out);

  const url = `http://127.0.0.1:${httpPort}${context}/`;
  const server = await supervise(child, { name: 'Tomcat 9', log, dir, url, ms: 30000 });
  const t = { dir, httpPort, cometPort, url, log, logTail: server.logTail, stop: server.stop };
  return t;
}
