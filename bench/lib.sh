# bench/lib.sh - sourced by the benchmarks: builds the load clients (make -C
# native bench-clients: $bin/wsbench, $bin/pollbench) and BenchServer, starts
# the server with N tickets, and cleans up on exit.  After start_server:
# $port, $pid (the JVM), $work/tickets, $work/cmd (the FIFO the clients
# write "send SEQ" lines to).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=bench/out
mkdir -p "$out"
jar=$(ls java/target/comet4j-native-*.jar | grep -v -e sources -e javadoc | head -1)
servlet=/usr/share/java/jakarta-servlet-api.jar
bin=native/build/release
make -s -C native bench-clients
javac -d "$out" -cp "$jar:$servlet" bench/BenchServer.java

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# start_server N THREADS [CERT KEY]: with CERT and KEY, TLS on the port.
start_server() {
  mkfifo "$work/cmd"
  exec 3<>"$work/cmd"   # keeps the fifo open so neither side blocks on open
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -f "$work/tickets"
  java -Xms64m -cp "$jar:$servlet:$out" BenchServer "$port" "$2" "$1" "$work/tickets" ${3:+"$3" "$4"} \
    <"$work/cmd" >"$work/server.out" 2>"$work/server.err" &
  server=$!
  for _ in $(seq 100); do grep -q '^ready' "$work/server.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ready' "$work/server.out" || { cat "$work/server.err"; exit 1; }
  pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$work/server.out")
}

# stop_server: ends the server started last, so that another may start.
stop_server() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  wait "$server" 2>/dev/null || true
  server=
  exec 3>&-
  rm -f "$work/cmd"
}

# server_log: the server's last lines, after a failure.
server_log() {
  echo "server log:"
  tail -20 "$work/server.err"
}
