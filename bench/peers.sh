#!/usr/bin/env bash
# bench/peers.sh - issue 15's comparison (make bench-peers): one client
# (bench/wsbench), the same N WebSocket subscribers and MESSAGES broadcasts
# of SIZE bytes every INTERVAL_MS, for each of
#   node         comet4j-node; tickets minted with its secret (a backend's
#                handshake), publishes through its HTTP API (/api/publish)
#   tomcat-send  the jar in Tomcat 10.1 (bench/modes/, as bench/modes.sh's
#                mode (a)): tickets through the real CometServlet handshake
#                (GET /modes/conn?cmd=conn), the WebSocket on Comet.Port,
#                publishes by the application's sendToAll (GET /modes/send)
#   tomcat-api   the same Tomcat, publishes through the jar's HTTP API
#                (POST /api/publish on Comet.Port, Comet.ApiKey)
#   nchan        Debian's nginx with libnginx-mod-nchan, one worker, its
#                own configuration in a temporary folder: subscribers on
#                its websocket location, publishes POSTed to its publisher
#   ws           node's ws (npm, tests/node_modules): bench/peers/ws-peer.cjs
#   jsr          Tomcat's own JSR-356 endpoint (bench/modes/JsrEndpoint.java)
#   floor        the kernel's floor: bare write() to N loopback sockets
#                (bench/floor.c, at most 9,900: it holds both ends)
# in ROUNDS rounds interleaved (every peer once, then again), and prints
# one table: the fan-out of one broadcast to the last client (median, p99
# over the broadcasts), every delivery's latency (p50, p99), the server's
# RSS growth per connection from before the first handshake to N idle
# connections (the handshake's share included) and its slope from N/2 to
# N (what the first connections cost once left out), the server's CPU seconds
# over the run (handshakes, attaches, broadcasts) and a broadcast; then the
# ratios of the means of the rounds to nchan's.  Tomcat runs with its
# default heap (C4J_PEERS_TOMCAT_OPTS to change it): the RSS is what the
# machine pays.  The message a publisher is handed is
# {"seq":N,"ts":<us>,"pad":"x..."}, SIZE bytes; the application's
# sendToAll and the JSR endpoint send the same data.
#
# Usage: bench/peers.sh [N=10000] [MESSAGES=20] [INTERVAL_MS=250] [SIZE=64]
# Environment: C4J_PEERS (default "node tomcat-send tomcat-api nchan ws jsr
# floor"), C4J_PEERS_ROUNDS (default 2), C4J_PEERS_TOMCAT_OPTS (default
# none: Tomcat's own).  Install what it needs first: .ci/install-bench.
N=${1:-10000}; MESSAGES=${2:-20}; INTERVAL=${3:-250}; SIZE=${4:-64}
PEERS=${C4J_PEERS:-node tomcat-send tomcat-api nchan ws jsr floor}
ROUNDS=${C4J_PEERS_ROUNDS:-2}
me=peers
TOMCAT_OPTS=${C4J_PEERS_TOMCAT_OPTS:-}
source "$(dirname "$0")/modes-lib.sh"
source "$(dirname "$0")/peers-lib.sh"
[ -d tests/node_modules/ws ] || { echo "peers: no tests/node_modules/ws: .ci/install-bench" >&2; exit 1; }
cc -O2 -Wall -o "$out/floor" bench/floor.c -lpthread
[ "$SIZE" -ge 48 ] || { echo "peers: SIZE must be at least 48 bytes" >&2; exit 1; }
PAD=$((SIZE - 41))   # {"seq":NN,"ts":<16 digits>,"pad":""} is 41 bytes

declare -A R   # R[peer,round,key]
names=()

# run_peer PEER ROUND SRC: one peer's run; its figures into R.
run_peer() {
  local p=$1 r=$2 src=$3 name args=() pid port log=$work/$1-$2.out
  echo "== ($r) $p, $N clients"
  case $p in
    node)
      name="comet4j-node, HTTP API"
      start_node "$work/node-$r.log" || return 1
      mint "$N"
      args=(-p "$port" -t "$work/tickets" -send-port "$port" -send-path /api/publish
            -send-body "$BODY_API" -send-header "X-Api-Key: $API_KEY") ;;
    tomcat-send|tomcat-api)
      local cport; cport=$(free_port)
      start_tomcat "$p-$r" "$cport" "Comet.ApiKey=$API_KEY" || return 1
      pid=$tomcat
      args=(-p "$cport" -handshake /modes/conn?cmd=conn -hs-port "$http")
      if [ "$p" = tomcat-send ]; then
        name="Tomcat 10.1 + jar, sendToAll"
        args+=(-send-port "$http" -send-path "/modes/send?to=comet&pad=$PAD&seq=")
      else
        name="Tomcat 10.1 + jar, HTTP API"
        args+=(-send-port "$cport" -send-path /api/publish -send-body "$BODY_API"
               -send-header "X-Api-Key: $API_KEY")
      fi ;;
    nchan)
      name="nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null | sed 's/^[0-9]*://; s/+.*//') (nginx)"
      start_nchan "$r" || return 1
      args=(-p "$port" -t none -path /sub -open 101 -send-port "$port" -send-path /pub -send-body '%s') ;;
    ws)
      name="node ws $(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' tests/node_modules/ws/package.json)"
      port=$(free_port)
      NODE_PATH=tests/node_modules node bench/peers/ws-peer.cjs "$port" >"$work/ws-$r.log" 2>&1 &
      server=$!; pid=$server
      wait_for "$work/ws-$r.log" '^ready' || return 1
      args=(-p "$port" -t none -path / -send-port "$port" -send-path /pub -send-body '%s') ;;
    jsr)
      name="Tomcat 10.1 JSR-356 endpoint"
      start_tomcat "$p-$r" none || return 1
      pid=$tomcat
      args=(-p "$http" -t none -path /modes/jsr -send-port "$http" -send-path "/modes/send?to=jsr&pad=$PAD&seq=") ;;
    floor)
      local n=$((N < 9900 ? N : 9900))
      R[$p,name]="kernel floor (floor.c, $n sockets)"
      "$out/floor" "$n" 1 | tee "$log" | sed 's/^/   /'
      R[$p,$r,median]=$(sed -n 's/.* median \([0-9.]*\) ms.*/\1/p' "$log")
      R[$p,$r,p99]=$(sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p' "$log")
      return 0 ;;
    *) echo "peers: unknown peer $p" >&2; return 1 ;;
  esac
  R[$p,name]=$name
  local cpu0 cpu1
  cpu0=$(cpu_s "$pid")
  if ! timeout 300 "$bin/wsbench" -n "$N" -pid "$pid" "${args[@]}" -m "$MESSAGES" -i "$INTERVAL" \
      -size "$SIZE" -src "$src" >"$log"; then
    cat "$log"
    echo "peers: ($p) wsbench failed" >&2
    stop_tomcat; stop_server
    return 1
  fi
  cpu1=$(cpu_s "$pid")
  sed 's/^/   /' "$log"
  stop_tomcat; stop_server
  R[$p,$r,median]=$(sed -n 's/^fanout: .* median \([0-9.]*\) ms, p99.*/\1/p' "$log")
  R[$p,$r,p99]=$(sed -n 's/^fanout: .* p99 \([0-9.]*\) ms,.*/\1/p' "$log")
  R[$p,$r,lp50]=$(sed -n 's/^deliveries: .* p50 \([0-9.]*\) ms.*/\1/p' "$log")
  R[$p,$r,lp99]=$(sed -n 's/^deliveries: .* p99 \([0-9.]*\) ms.*/\1/p' "$log")
  R[$p,$r,mem]=$(sed -n 's/^memory: .*, \([0-9-]*\) (total growth \/ N).*/\1/p' "$log")
  R[$p,$r,slope]=$(sed -n 's/^memory: .* \([0-9-]*\) bytes per connection (slope).*/\1/p' "$log")
  R[$p,$r,cpu]=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')
  R[$p,$r,cpub]=$(sed -n 's/^fanout: .*server CPU \([0-9.]*\) ms a broadcast.*/\1/p' "$log")
}

echo "peers: N=$N WebSocket clients, $MESSAGES broadcasts of $SIZE bytes every $INTERVAL ms," \
  "$ROUNDS rounds of: $PEERS; $(nproc) cores shared by the servers and the client"
t0=$SECONDS
src=2
for r in $(seq "$ROUNDS"); do
  for p in $PEERS; do
    run_peer "$p" "$r" "$src" || true
    src=$((src + (N + 4999) / 5000 + 1))
    sleep 2
  done
done

# The table, one line a peer and round; then the means' ratios to nchan.
{
  for p in $PEERS; do
    for r in $(seq "$ROUNDS"); do
      printf '%s\t%s\t%s' "$p" "${R[$p,name]:-$p}" "$r"
      for k in median p99 lp50 lp99 mem slope cpu cpub; do printf '\t%s' "${R[$p,$r,$k]:--}"; done
      echo
    done
  done
} >"$work/table.tsv"
echo
echo "N=$N WebSocket clients, $MESSAGES broadcasts of $SIZE B every $INTERVAL ms, $(date -u +%Y-%m-%d)," \
  "this machine: $(nproc) shared cores"
python3 - "$work/table.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
heads = ["fan-out", "p99", "latency", "p99", "memory", "slope", "CPU", "CPU ms"]
units = ["median ms", "ms", "p50 ms", "ms", "B/conn", "B/conn", "s", "/bcast"]
print("%-37s %5s" % ("server", "round") + "".join("%11s" % h for h in heads))
print("%-37s %5s" % ("", "") + "".join("%11s" % u for u in units))
for p, name, r, *v in rows:
    print("%-37s %5s" % (name, r) + "".join("%11s" % x for x in v))
def mean(p, i):
    xs = [float(v[i]) for q, _, _, *v in rows if q == p and v[i] not in ("-", "")]
    return sum(xs) / len(xs) if xs else None
if any(q == "nchan" for q, *_ in rows):
    print()
    print("ratios to nchan (means of the rounds; below 1: less than nchan's)")
    keys = ["fan-out median", "p99", "latency p50", "p99", "memory", "slope", "CPU s"]
    seen = []
    for p, name, *_ in rows:
        if p == "nchan" or p in seen:
            continue
        seen.append(p)
        parts = []
        for i, k in enumerate(keys):
            a, b = mean(p, i), mean("nchan", i)
            if a is not None and b:
                parts.append("%s %.2f" % (k, a / b))
        print("%-37s %s" % (name, ", ".join(parts)))
PY
echo
echo "fan-out: from the publish (the time in the message) to the last of the N clients, median and p99 over"
echo "the broadcasts; latency: every delivery's; memory: the server's RSS growth from before the first"
echo "handshake to N idle connections / N (nchan: its one worker; Tomcat: default heap), and its slope from"
echo "N/2 to N (the first connections' one-time costs left out, the handshakes of the second half in); CPU: the server's"
echo "user + system time over the run (handshakes, attaches, broadcasts) and a broadcast.  $((SECONDS - t0)) s."
