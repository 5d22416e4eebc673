#!/usr/bin/env bash
# Connections held across several comet4j-node processes on one redis-server
# (issue 5): NODES nodes (each may hold at most 20,000 open files here),
# PER_NODE WebSocket clients on each, from one client process per node bound
# to its own source addresses (127.0.0.2.., 5,000 per address); then one
# broadcast published on the first node, and how many clients got it (it
# must be all).  Prints the total held, each node's RSS before and after
# the clients and the bytes per connection.  Target: >= 70,000 held across
# 4 processes, every one of them receiving the broadcast.
# Usage: bench/hub-conns.sh [PER_NODE=18000] [NODES=4] [THREADS=2]
PER_NODE=${1:-18000}; NODES=${2:-4}; THREADS=${3:-2}
source "$(dirname "$0")/hub-lib.sh"
start_redis
echo "hub-conns: $NODES nodes x $PER_NODE WebSocket clients, Comet.Threads=$THREADS"
declare -a port pid rss0
for i in $(seq 0 $((NODES - 1))); do
  start_node "n$i" --threads "$THREADS"
  eval "port[$i]=\$n${i}_port pid[$i]=\$n${i}_pid"
  rss0[$i]=$(rss_kb "${pid[$i]}")
done
start=$SECONDS
for i in $(seq 0 $((NODES - 1))); do
  # 8 source addresses per client process: 127.0.0.(2+8i)...
  start_sub "$i" "${port[$i]}" "$PER_NODE" $((2 + 8 * i)) -per-addr 5000 -idle 10000 -T 170
done
for i in $(seq 0 $((NODES - 1))); do
  wait_grep "$work/sub$i.out" 1200 '^ready' || { echo "clients of node $i not ready:"; cat "$work/sub$i.err"; exit 1; }
done
held=0
for i in $(seq 0 $((NODES - 1))); do held=$((held + $(sub_ready "$i"))); done
echo "connected: $held clients in $((SECONDS - start)) s"
sleep 2
total_rss=0
for i in $(seq 0 $((NODES - 1))); do
  r=$(rss_kb "${pid[$i]}"); total_rss=$((total_rss + r - rss0[i]))
  n=$(sub_ready "$i")
  echo "node $i: $n clients, RSS ${rss0[$i]} kB idle, $r kB held: $(( (r - rss0[i]) * 1024 / (n > 0 ? n : 1) )) bytes per connection"
done
"$bin/hubbench" pub -p "${port[0]}" -k "$API_KEY" -count 1 -c 1
subs_finish 30
echo "hub-conns: $held connections held across $NODES nodes, broadcast received by $subs_got of them;" \
  "$(( total_rss * 1024 / (held > 0 ? held : 1) )) bytes per connection (RSS growth of the nodes / connections)"
for i in $(seq 0 $((NODES - 1))); do
  kill -0 "${pid[$i]}" 2>/dev/null || echo "node $i died: $(tail -3 "$work/n$i.log")"
done
