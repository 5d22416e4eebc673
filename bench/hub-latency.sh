#!/usr/bin/env bash
# Cross-node publish-to-delivery latency (issue 5): two comet4j-node
# processes on one redis-server; SUBS WebSocket subscribers on node B; a
# publisher POSTs /api/publish to node A at RATE a second for SECONDS, each
# message carrying its send time (CLOCK_REALTIME, microseconds); every
# subscriber measures delivery - send.  Prints one "pub:" line (achieved
# rate) and one "sub:" line (deliveries, p50, p99, max).  Target: p99 at
# most 20 ms at 10,000 messages a second.
# Usage: bench/hub-latency.sh [SUBS=100] [RATE=10000] [SECONDS=5] [THREADS=1]
SUBS=${1:-100}; RATE=${2:-10000}; SECONDS_=${3:-5}; THREADS=${4:-1}
source "$(dirname "$0")/hub-lib.sh"
start_redis
start_node a --threads "$THREADS"
start_node b --threads "$THREADS"
echo "hub-latency: $SUBS subscribers on node B, $RATE messages a second for $SECONDS_ s published on node A, Comet.Threads=$THREADS"
"$out/hubbench" sub -p "$b_port" -s "$SECRET" -n "$SUBS" -m $((RATE * SECONDS_)) -idle 3000 -T 120 \
  >"$work/sub.out" 2>"$work/sub.err" &
sub=$!; pids+=("$sub")
wait_grep "$work/sub.out" 600 '^ready' || { cat "$work/sub.err"; exit 1; }
sleep 0.5
"$out/hubbench" pub -p "$a_port" -k "$API_KEY" -r "$RATE" -d "$SECONDS_" || { tail -5 "$work/a.log"; }
wait "$sub" || true
grep '^sub:' "$work/sub.out" || { echo "no sub line:"; cat "$work/sub.out" "$work/sub.err"; exit 1; }
head -3 "$work/sub.err"
echo "node A log:"; grep -E 'WARN|ERROR' "$work/a.log" | tail -3 || true
echo "node B log:"; grep -E 'WARN|ERROR' "$work/b.log" | tail -3 || true
