#!/bin/sh
# The demo (make demo): webapp-example in a private Tomcat 10.1 on
# http://127.0.0.1:8080/webapp-example/, one port (the pushes go through
# Tomcat's own port), until Ctrl-C. Builds nothing: the Makefile builds the
# WAR first.
#   HTTP_PORT=8081 tests/demo.sh        another port
#   COMET_PORT=4100 tests/demo.sh       the native listener on 4100 as well
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
war=$root/webapp-example/target/webapp-example.war
http_port=${HTTP_PORT:-8080}
comet_port=${COMET_PORT:-none}
export CATALINA_HOME=${CATALINA_HOME:-/usr/share/tomcat10}
url=http://127.0.0.1:$http_port/webapp-example/

base=$(mktemp -d "${TMPDIR:-/tmp}/c4j-demo.XXXXXX")
pid=
cleanup() {
  # catalina.sh run execs java, so $pid is the JVM: TERM runs Tomcat's
  # shutdown hook, which undeploys the app and stops the native engine.
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$base"
}
trap cleanup EXIT
# A background job of a script ignores SIGINT, so Ctrl-C is forwarded here.
trap 'exit 130' INT
trap 'exit 143' TERM

"$here/lib/catalina-base.sh" "$base" "$http_port" "$comet_port" "$war"
CATALINA_BASE=$base "$CATALINA_HOME/bin/catalina.sh" run &
pid=$!

i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" = 200 ]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "demo: Tomcat exited; see the log above" >&2
    exit 1
  fi
  i=$((i + 1))
  if [ "$i" -gt 300 ]; then
    echo "demo: $url did not answer within 60 s" >&2
    exit 1
  fi
  sleep 0.2
done
echo
echo "comet4j-native demo: $url"
if [ "$comet_port" = none ]; then
  echo "(one port: the pages attach through Tomcat's port $http_port; Ctrl-C stops it)"
else
  echo "(native port $comet_port too; Ctrl-C stops it)"
fi
echo
wait "$pid"
