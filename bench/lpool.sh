#!/usr/bin/env bash
# Long-polling delivery latency: N clients (pollbench) polling the jar's
# engine (BenchServer), one broadcast a second.  Prints:
#   lpool: N clients, M messages: ... latency p50 X ms, p99 Y ms
# Usage: bench/lpool.sh [N=2000] [THREADS=2] [MESSAGES=20]
N=${1:-2000}; THREADS=${2:-2}; MESSAGES=${3:-20}
source "$(dirname "$0")/lib.sh"
start_server "$N" "$THREADS"
echo "lpool: $N long-polling clients, Comet.Threads=$THREADS, one message a second"
"$bin/pollbench" -p "$port" -t "$work/tickets" -n "$N" -cmd "$work/cmd" \
  -m "$MESSAGES" -i 1000 || { server_log; exit 1; }
