#!/usr/bin/env bash
# bench/deflate.sh - what permessage-deflate costs and saves (make
# bench-deflate): comet4j-node with --deflate off and on, in ROUNDS rounds
# interleaved, the same client (bench/wsbench -deflate 1: N WebSocket
# subscribers that offer the extension as browsers do), MESSAGES broadcasts
# of a JSON stream (a quote board, a frame of about 1 KB, published
# through the HTTP API) every INTERVAL_MS.  Per run: the bytes the clients
# read per message and client (the kernel's view: frames with their
# headers), the server's CPU seconds over the broadcasts (wsbench's
# "server CPU a broadcast" times MESSAGES) and over the whole run (the
# handshakes too), the fan-out of one broadcast to the last client; then
# the means of the rounds and the ratios on to off.  With deflate on, each
# broadcast is compressed once for every subscriber (docs/protocol.md
# section 14): the CPU it adds does not grow with N.
#
# Usage: bench/deflate.sh [N=5000] [MESSAGES=200] [INTERVAL_MS=20]
# Environment: C4J_DEFLATE_ROUNDS (default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${1:-5000}; MESSAGES=${2:-200}; INTERVAL=${3:-20}
ROUNDS=${C4J_DEFLATE_ROUNDS:-2}
bin=native/build/release
me=deflate
make -s -C native bench-clients node
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# comet4j-node, its tickets, cpu_s (bench/node-lib.sh).
source bench/node-lib.sh

# The message: wsbench's {"seq":..,"ts":..,"pad":".."} (64 bytes) in a
# board of five quotes (wsbench reads frames of up to 1 KiB), the shape of a market or scores feed.
Q='{"sym":"%s","name":"%s","bid":%s,"ask":%s,"last":%s,"vol":%s,"chg":%s,"at":"2026-12-02T02:05:%s.123Z"}'
quotes=$(printf "$Q,$Q,$Q,$Q,$Q" \
  AAPL "Apple Inc." 189.25 189.27 189.26 1204512 -0.42 50 \
  MSFT "Microsoft Corp." 412.10 412.14 412.12 883120 1.05 51 \
  NVDA "NVIDIA Corp." 131.77 131.80 131.79 3320458 2.31 51 \
  AMZN "Amazon.com Inc." 186.40 186.43 186.41 990211 -1.12 52 \
  GOOG "Alphabet Inc. C" 171.02 171.05 171.03 702334 0.27 53)
BODY="{\"channel\":\"bench\",\"data\":{\"m\":%s,\"quotes\":[$quotes]}}"

mint "$N"

declare -A R   # R[mode,round,key]

# run MODE ROUND SRC: one run of comet4j-node with --deflate MODE.
run() {
  local mode=$1 r=$2 src=$3 log=$work/$1-$2.out cpu0 cpu1
  start_node "$work/node-$mode-$r.log" --history-size 0 --deflate "$mode"
  cpu0=$(cpu_s "$pid")
  if ! timeout 300 "$bin/wsbench" -n "$N" -pid "$pid" -p "$port" -t "$work/tickets" \
      -send-port "$port" -send-path /api/publish -send-body "$BODY" \
      -send-header "X-Api-Key: $API_KEY" -size 64 -m "$MESSAGES" -i "$INTERVAL" \
      -src "$src" -deflate 1 >"$log"; then
    cat "$log" "$work/node-$mode-$r.log" >&2
    echo "deflate: wsbench failed (--deflate $mode)" >&2
    exit 1
  fi
  cpu1=$(cpu_s "$pid")
  kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=
  echo "== ($r) --deflate $mode"
  sed 's/^/   /' "$log"
  R[$mode,$r,wire]=$(sed -n 's/^wire: .*: \([0-9.]*\) a message a client.*/\1/p' "$log")
  R[$mode,$r,cpub]=$(sed -n 's/^fanout: .*server CPU \([0-9.]*\) ms a broadcast.*/\1/p' "$log")
  R[$mode,$r,cpu]=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')
  R[$mode,$r,median]=$(sed -n 's/^fanout: .* median \([0-9.]*\) ms, p99.*/\1/p' "$log")
}

echo "deflate: N=$N subscribers offering permessage-deflate, $MESSAGES broadcasts every" \
  "$INTERVAL ms, $ROUNDS rounds of --deflate off and on; $(nproc) cores shared by the" \
  "server and the client; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
src=2
for r in $(seq "$ROUNDS"); do
  for mode in off on; do
    run "$mode" "$r" "$src"
    src=$((src + (N + 4999) / 5000))
  done
done

mean() { # mean MODE KEY
  local s=0 k
  for r in $(seq "$ROUNDS"); do s=$(awk -v a="$s" -v b="${R[$1,$r,$2]:-0}" 'BEGIN { print a + b }'); done
  awk -v s="$s" -v n="$ROUNDS" 'BEGIN { printf "%.2f", s / n }'
}
echo
printf '%-12s %22s %26s %22s %16s\n' deflate "bytes/message/client" \
  "server CPU s (broadcasts)" "server CPU s (run)" "fan-out median"
for mode in off on; do
  for r in $(seq "$ROUNDS"); do
    printf '%-12s %22s %26s %22s %13s ms\n' "$mode ($r)" "${R[$mode,$r,wire]}" \
      "$(awk -v c="${R[$mode,$r,cpub]}" -v m="$MESSAGES" 'BEGIN { printf "%.2f", c * m / 1000 }')" \
      "${R[$mode,$r,cpu]}" "${R[$mode,$r,median]}"
  done
done
w0=$(mean off wire); w1=$(mean on wire)
c0=$(mean off cpub); c1=$(mean on cpub)
echo
echo "deflate: on/off, means of $ROUNDS rounds: bytes on the wire $(awk -v a="$w1" -v b="$w0" \
  'BEGIN { printf "%.2f", a / b }') ($w1 against $w0 a message a client), server CPU over the" \
  "broadcasts $(awk -v a="$c1" -v b="$c0" 'BEGIN { printf "%.2f", a / b }')" \
  "($c1 against $c0 ms a broadcast to $N); load after: $(cut -d' ' -f1-3 /proc/loadavg)"
