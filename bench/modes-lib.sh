# bench/modes-lib.sh - sourced by bench/modes.sh and bench/peers.sh: builds
# the load clients and the webapp of bench/modes/ (the jar's listener and
# CometServlet at /modes/conn, /modes/send, Tomcat's own JSR-356 endpoint
# /modes/jsr, /modes/hello's fixed answer) into $war, and starts and stops a fresh Tomcat 10.1 on it
# (tests/lib/catalina-base.sh), with the jar of java/target (or
# C4J_BENCH_JAR's).  The caller sets $me (its name, for the
# messages) and $TOMCAT_OPTS (the JVM's options); it may define
# stop_others, called on exit before $work goes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CATALINA_HOME=${CATALINA_HOME:-/usr/share/tomcat10}
out=bench/out
bin=native/build/release
mkdir -p "$out"
# C4J_BENCH_JAR: another build of the jar (a figure before a change, say).
jar=${C4J_BENCH_JAR:-$(ls java/target/comet4j-native-*.jar 2>/dev/null | grep -v -e sources -e javadoc | head -1 || true)}
[ -n "$jar" ] || { echo "$me: no java/target/comet4j-native-*.jar: mvn -q install -DskipTests" >&2; exit 1; }
servlet=/usr/share/java/jakarta-servlet-api.jar
make -s -C native bench-clients

# The webapp, built here: bench/modes/*.java and web.xml with the jar.
war_dir=$out/modes-war
rm -rf "$war_dir" && mkdir -p "$war_dir/WEB-INF/classes" "$war_dir/WEB-INF/lib"
javac -nowarn -d "$war_dir/WEB-INF/classes" -cp "$jar:$servlet:$CATALINA_HOME/lib/websocket-api.jar:$CATALINA_HOME/lib/websocket-client-api.jar" \
  bench/modes/*.java
cp bench/modes/web.xml "$war_dir/WEB-INF/"
cp "$jar" "$war_dir/WEB-INF/lib/"
rm -f "$out/modes.war"
(cd "$war_dir" && jar cf ../modes.war .)
war=$out/modes.war

work=$(mktemp -d)
tomcat=
stop_tomcat() {
  [ -n "$tomcat" ] || return 0
  kill -TERM -- "-$tomcat" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$tomcat" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$tomcat" 2>/dev/null || true
  wait "$tomcat" 2>/dev/null || true
  tomcat=
}
# A script's own processes: stop_others, when it defines one.
cleanup() {
  stop_tomcat
  if declare -F stop_others >/dev/null; then stop_others; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_tomcat LABEL COMET_PORT [Name=Value ...]: a fresh base and Tomcat
# (its own process group), ready when the handshake answers 200.  Sets
# $base, $http (Tomcat's plain port) and $tomcat (the JVM's pid).
start_tomcat() {
  local label=$1 cport=$2; shift 2
  base=$work/$label
  http=$(free_port)
  sh tests/lib/catalina-base.sh "$base" "$http" "$cport" "$war" "$@" >/dev/null
  # The connections the container keeps must not stop at Tomcat's 8192;
  # the request threads are all there from the start (minSpareThreads =
  # maxThreads, Tomcat's 200), so that the pool growing under the clients'
  # burst of upgrades is not counted as memory of the connections.
  # $CONNECTOR_ATTRS, when a script sets it: more attributes of the
  # connectors (bench/handshakes.sh's acceptCount).
  sed -i "s#<Connector #<Connector maxConnections=\"-1\" maxThreads=\"200\" minSpareThreads=\"200\" ${CONNECTOR_ATTRS:-}#" \
    "$base/conf/server.xml"
  CATALINA_BASE=$base CATALINA_PID= \
    CATALINA_OPTS="$TOMCAT_OPTS" \
    setsid "$CATALINA_HOME/bin/catalina.sh" run >"$base/logs/console.log" 2>&1 </dev/null &
  tomcat=$!
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/modes/conn?cmd=conn")" = 200 ] && return 0
    kill -0 "$tomcat" 2>/dev/null || break
    sleep 0.1
  done
  echo "$me: ($label) Tomcat did not start:" >&2
  tail -30 "$base/logs/console.log" >&2
  stop_tomcat
  return 1
}

