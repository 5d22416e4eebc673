#!/bin/sh
# Creates a private CATALINA_BASE that runs webapp-example on loopback only.
# Shared by tests/demo.sh and tests/lib/tomcat.mjs.
#
#   catalina-base.sh BASE HTTP_PORT COMET_PORT WAR [Name=Value ...]
#
# Each Name=Value (e.g. Comet.HistorySize=20) is one more context parameter
# overriding web.xml, like Comet.Port below (tests that need a small history
# or a short Comet.ConnExpires).
# Environment, for tests of the container way (docs/protocol.md section 10):
#   C4J_H2C=1               the HTTP connector also speaks h2c (Http2Protocol)
#   C4J_HTTPS_PORT=N        a second, TLS connector (JSSE, Http11NioProtocol) on N
#   C4J_KEYSTORE=FILE       its PKCS12 keystore (password changeit), required with it
#   C4J_HTTPS_H2=1          that connector also speaks h2 (ALPN)
#   C4J_NIO2_PORT=N         a third connector, plain HTTP on Http11Nio2Protocol, on N
#   C4J_LOGGING=LINES       lines added to conf/logging.properties (a later key wins)
# BASE must not exist or be empty. Tomcat itself comes from Debian's
# tomcat10-common (CATALINA_HOME=/usr/share/tomcat10); only configuration,
# logs and the WAR live in BASE. Start it with
#   CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE=BASE \
#     /usr/share/tomcat10/bin/catalina.sh run
set -eu

if [ $# -lt 4 ]; then
  echo "usage: $0 BASE HTTP_PORT COMET_PORT WAR [Name=Value ...]" >&2
  exit 2
fi
base=$1 http_port=$2 comet_port=$3 war=$4
shift 4
home=${CATALINA_HOME:-/usr/share/tomcat10}
skel=$home/skel/conf

if [ ! -f "$war" ]; then
  echo "$0: $war not found (build it: mvn -q install -DskipTests)" >&2
  exit 1
fi
if [ -e "$base" ] && [ -n "$(ls -A "$base")" ]; then
  echo "$0: $base is not empty" >&2
  exit 1
fi

mkdir -p "$base/conf/Catalina/localhost" "$base/logs" "$base/temp" \
  "$base/webapps" "$base/work"
for f in web.xml context.xml catalina.properties logging.properties; do
  cp "$skel/$f" "$base/conf/$f"
done
[ -n "${C4J_LOGGING:-}" ] && printf '%s\n' "$C4J_LOGGING" >> "$base/conf/logging.properties"

h2='<UpgradeProtocol className="org.apache.coyote.http2.Http2Protocol"/>'
http_inner=
[ "${C4J_H2C:-}" = 1 ] && http_inner=$h2
https=
if [ -n "${C4J_HTTPS_PORT:-}" ]; then
  [ -f "${C4J_KEYSTORE:-}" ] || { echo "$0: C4J_KEYSTORE must name the keystore" >&2; exit 2; }
  https_inner=
  [ "${C4J_HTTPS_H2:-}" = 1 ] && https_inner=$h2
  https="<Connector address=\"127.0.0.1\" port=\"$C4J_HTTPS_PORT\"
               protocol=\"org.apache.coyote.http11.Http11NioProtocol\" SSLEnabled=\"true\"
               connectionTimeout=\"20000\">
      $https_inner
      <SSLHostConfig>
        <Certificate certificateKeystoreFile=\"$C4J_KEYSTORE\" certificateKeystorePassword=\"changeit\"
                     certificateKeystoreType=\"PKCS12\" type=\"RSA\"/>
      </SSLHostConfig>
    </Connector>"
fi

nio2=
if [ -n "${C4J_NIO2_PORT:-}" ]; then
  nio2="<Connector address=\"127.0.0.1\" port=\"$C4J_NIO2_PORT\"
               protocol=\"org.apache.coyote.http11.Http11Nio2Protocol\" connectionTimeout=\"20000\"/>"
fi

# Loopback only; no shutdown port (the process is stopped by signal, which
# runs Tomcat's shutdown hook). The Host checks webapps/ every second, so a
# WAR removed or copied in is undeployed or deployed within a second or two.
cat > "$base/conf/server.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener"/>
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener"/>
  <Listener className="org.apache.catalina.core.ThreadLocalLeakPreventionListener"/>
  <Service name="Catalina">
    <Connector address="127.0.0.1" port="$http_port" protocol="HTTP/1.1"
               connectionTimeout="20000">$http_inner</Connector>
    $https
    $nio2
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true"
            autoDeploy="true" backgroundProcessorDelay="1"/>
    </Engine>
  </Service>
</Server>
XML

# Comet.Port and Comet.Host for this base. override="false" makes these win
# over web.xml's context-params. They sit in conf/context.xml (the defaults
# of every context of this private base) rather than in
# conf/Catalina/localhost/webapp-example.xml because Tomcat deletes that
# per-application file when the WAR is removed, and the redeploy test
# removes the WAR and expects the same port afterwards.
# COMET_PORT "none": Comet.Port set blank, which is not set at all: one
# port (the pages' transports go through Tomcat's own port,
# docs/protocol.md section 10), whatever web.xml says.
[ "$comet_port" = none ] && comet_port=
sed -i "s#</Context>#    <Parameter name=\"Comet.Port\" value=\"$comet_port\" override=\"false\"/>\\
    <Parameter name=\"Comet.Host\" value=\"127.0.0.1\" override=\"false\"/>\\
</Context>#" "$base/conf/context.xml"

for kv in "$@"; do
  name=${kv%%=*} value=${kv#*=}
  case $name in
    *[!A-Za-z0-9._]*|'') echo "$0: bad parameter name in $kv" >&2; exit 2 ;;
  esac
  case $value in
    *[\&\<\>\"\#]*) echo "$0: unsupported character in $kv" >&2; exit 2 ;;
  esac
  sed -i "s#</Context>#    <Parameter name=\"$name\" value=\"$value\" override=\"false\"/>\\
</Context>#" "$base/conf/context.xml"
done

cp "$war" "$base/webapps/"
