#!/usr/bin/env bash
# Broadcast fan-out and memory per idle connection, with the real parts: the
# jar's engine in a JVM (BenchServer) and N WebSocket clients (wsbench, one
# libuv loop) bound to 127.0.0.2, 127.0.0.3, ...  Prints two lines:
#   memory: server RSS ... bytes per connection
#   fanout: N clients ... median X ms, p99 Y ms
# Usage: bench/fanout.sh [N=10000] [THREADS=2] [MESSAGES=20] [INTERVAL_MS=250]
N=${1:-10000}; THREADS=${2:-2}; MESSAGES=${3:-20}; INTERVAL=${4:-250}
source "$(dirname "$0")/lib.sh"
start_server "$N" "$THREADS"
echo "fanout: $N clients, Comet.Threads=$THREADS, $MESSAGES messages of 100 bytes every $INTERVAL ms"
"$bin/wsbench" -p "$port" -t "$work/tickets" -n "$N" -pid "$pid" -cmd "$work/cmd" \
  -m "$MESSAGES" -i "$INTERVAL" || { server_log; exit 1; }
