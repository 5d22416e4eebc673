#!/usr/bin/env bash
# Broadcast fan-out and memory per idle connection, with the real parts: the
# jar's engine in a JVM (BenchServer) and N WebSocket clients (wsbench, one
# libuv loop) bound to 127.0.0.2, 127.0.0.3, ...  Prints two lines:
#   memory: server RSS ... bytes per connection
#   fanout: N clients ... median X ms, p99 Y ms
# Usage: bench/fanout.sh [N=10000] [THREADS=2] [MESSAGES=20] [INTERVAL_MS=250]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}; THREADS=${2:-2}; MESSAGES=${3:-20}; INTERVAL=${4:-250}
out=bench/out
mkdir -p "$out"

jar=$(ls java/target/comet4j-native-*.jar | grep -v sources | head -1)
servlet=/usr/share/java/jakarta-servlet-api.jar
cc -O2 -Wall -o "$out/wsbench" bench/wsbench.c $(pkg-config --cflags --libs libuv)
javac -d "$out" -cp "$jar:$servlet" bench/BenchServer.java

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
mkfifo "$work/cmd"
exec 3<>"$work/cmd"   # keeps the fifo open so neither side blocks on open
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

java -Xms64m -cp "$jar:$servlet:$out" BenchServer "$port" "$THREADS" "$N" "$work/tickets" \
  <"$work/cmd" >"$work/server.out" 2>"$work/server.err" &
server=$!
for _ in $(seq 100); do grep -q '^ready' "$work/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$work/server.out" || { cat "$work/server.err"; exit 1; }
pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$work/server.out")

echo "fanout: $N clients, Comet.Threads=$THREADS, $MESSAGES messages of 100 bytes every $INTERVAL ms"
"$out/wsbench" -p "$port" -t "$work/tickets" -n "$N" -pid "$pid" -cmd "$work/cmd" \
  -m "$MESSAGES" -i "$INTERVAL" || { echo "server log:"; tail -20 "$work/server.err"; exit 1; }
