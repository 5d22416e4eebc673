#!/usr/bin/env bash
# Cross-node publish-to-delivery latency (issue 5): SUBS WebSocket
# subscribers on comet4j-node B; a publisher on another node of the same
# redis-server sends RATE messages a second for SECONDS, each carrying its
# send time (CLOCK_REALTIME, microseconds); every subscriber measures
# delivery - send.  The publisher (PUBLISHER):
#   api  POST /api/publish to comet4j-node A (one HTTP connection per
#        message: the API answers Connection: close), by hubbench pub;
#   jvm  CometEngine.sendToAll in a JVM in HubServer mode (Comet.Port=-1),
#        bench/HubPublisher.java: an application publishing.
# Prints the "pub:" line (achieved rate), the "sub:" line (deliveries, p50,
# p99, max) and the CPU each process used meanwhile.  Target: p99 at most
# 20 ms at 10,000 messages a second.
# Usage: bench/hub-latency.sh [SUBS=100] [RATE=10000] [SECONDS=5] [THREADS=1] [PUBLISHER=api]
SUBS=${1:-100}; RATE=${2:-10000}; SECONDS_=${3:-5}; THREADS=${4:-1}; PUBLISHER=${5:-api}
source "$(dirname "$0")/hub-lib.sh"
start_redis
start_node b --threads "$THREADS"
if [ "$PUBLISHER" = api ]; then
  start_node a --threads "$THREADS"
  what="POST /api/publish on node A"
else
  jar=${C4J_JAR:-$(ls java/target/comet4j-native-*.jar | grep -v -e sources -e javadoc | head -1)}
  cp="$jar:/usr/share/java/jakarta-servlet-api.jar:$out"
  javac -d "$out" -cp "$cp" bench/HubPublisher.java
  mkfifo "$work/go"
  exec 3<>"$work/go"
  java -Xms64m -cp "$cp" HubPublisher "$redis_url" "$SECRET" "http://127.0.0.1:$b_port" "$RATE" "$SECONDS_" \
    <"$work/go" >"$work/jvm.out" 2>"$work/jvm.err" &
  a_pid=$!; pids+=("$a_pid")
  wait_grep "$work/jvm.out" 300 '^ready' || { cat "$work/jvm.err"; exit 1; }
  what="sendToAll in a HubServer JVM"
fi
echo "hub-latency: $SUBS subscribers on node B, $RATE messages a second for $SECONDS_ s by $what, Comet.Threads=$THREADS"
"$bin/hubbench" sub -p "$b_port" -s "$SECRET" -n "$SUBS" -m $((RATE * SECONDS_)) -idle 3000 -T 120 \
  >"$work/sub.out" 2>"$work/sub.err" &
sub_pid=$!; pids+=("$sub_pid")
wait_grep "$work/sub.out" 600 '^ready' || { cat "$work/sub.err"; exit 1; }
sleep 0.5
declare -A cpu0
for p in a b redis; do v=${p}_pid; cpu0[$p]=$(cpu_ms "${!v}"); done
if [ "$PUBLISHER" = api ]; then
  "$bin/hubbench" pub -p "$a_port" -k "$API_KEY" -r "$RATE" -d "$SECONDS_" || tail -5 "$work/a.log"
else
  echo go >&3
  wait_grep "$work/jvm.out" $((SECONDS_ * 10 + 300)) '^pub:' || { cat "$work/jvm.err"; exit 1; }
  grep '^pub:' "$work/jvm.out"
fi
cpu=""
for p in a b redis; do v=${p}_pid; cpu+=" $p $(( $(cpu_ms "${!v}") - cpu0[$p] )) ms,"; done
wait "$sub_pid" || true
grep '^sub:' "$work/sub.out" || { echo "no sub line:"; cat "$work/sub.out" "$work/sub.err"; exit 1; }
head -3 "$work/sub.err"
echo "cpu meanwhile (a: the publishing node, b: node B, redis-server):${cpu%,}"
for f in a b; do
  [ -f "$work/$f.log" ] && grep -E 'WARN|ERROR' "$work/$f.log" | tail -3 | sed "s/^/node $f: /" || true
done
[ -f "$work/jvm.err" ] && grep -E 'SEVERE|WARN|Exception' "$work/jvm.err" | tail -3 || true
