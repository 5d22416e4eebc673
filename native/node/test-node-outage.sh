#!/usr/bin/env bash
# test-node-outage.sh NODE CLIENT PUBLISH [RATE OUTAGE BEFORE AFTER [MODE]]
# - the hub's invariant (docs/protocol.md section 9, "Redis faults") with
# real parts: two comet4j-node processes on one real redis-server, two
# WebSocket pages on each, RATE publishes a second through /api/publish on
# node A (four streams, each in order) and a tenth of that on node B;
# BEFORE seconds in, redis-server is killed with SIGKILL, and restarted
# (empty) on the same port OUTAGE seconds later; publishing goes on for
# AFTER seconds more.  MODE "default" (the default) runs the nodes with
# the default hub settings; "bounds" with bounds too small for the outage
# (an outbox of OUTAGE x RATE / 2 records, 100 broadcasts of catch-up a
# channel): A refuses what its outbox cannot keep, and after the restart
# node B is stopped (SIGSTOP) for 3 s and its connections to Redis killed
# meanwhile (CLIENT KILL), so that B must fetch more than Redis kept.
# At the end, for every page: every publish answered 200 arrived exactly
# once and in its stream's order, or the page was told (a recovered:false
# frame with "lost") at least as many messages as it misses (the offsets
# jumped over, a copy among them too); no publish answered
# 503 arrived anywhere, and nothing else was answered; the nodes'
# counters (GET /api/stats) match.  Prints the figures.  `make test` runs
# both modes short (200/s, a 3 s outage); `make outage` at full size on
# the release build (1,000/s, 10 s).  Ends with
# "test/node-outage[-bounds]: N passed, N failed".
set -u
NODE=$1 CLIENT=$2 PUBLISH=$3
RATE=${4:-1000} OUTAGE=${5:-10} BEFORE=${6:-15} AFTER=${7:-15} MODE=${8:-default}
case $MODE in
  default) name=node-outage; bounds= ;;
  bounds) name=node-outage-bounds
          bounds="--hub-outbox-records $((OUTAGE * RATE / 2)) --hub-catch-up-records 100 --history-size 100" ;;
  *) echo "test-node-outage.sh: MODE must be default or bounds" >&2; exit 2 ;;
esac
RATE_B=$(( RATE / 10 > 0 ? RATE / 10 : 1 ))
REDIS=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
dir=$(mktemp -d)
rpid=; pid_a=; pid_b=; cpids=; ppids=
cleanup() {
  for p in $cpids $ppids; do kill "$p" 2>/dev/null; done
  for p in $pid_a $pid_b; do kill -9 "$p" 2>/dev/null; done
  [ -n "$rpid" ] && { kill -9 "$rpid"; wait "$rpid"; } 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "  (kept $dir)"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "  ok: $1"; }
bad() { fail=$((fail+1)); echo "  FAILED: $1"; [ -n "${2:-}" ] && sed 's/^/    | /' "$2" | tail -20; }
check() { if eval "$2"; then ok "$1"; else bad "$1" "${3:-}"; fi; }
finish() { echo "test/$name: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
wait_for() { for _ in $(seq "${3:-100}"); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

if [ ! -x "$REDIS" ]; then
  bad "redis-server found (set REDIS_SERVER)"; finish
fi
secret=0123456789abcdef-node-outage-secret
key=outage-api-key-0123456789
printf '%s\n' "$secret" > "$dir/secret"
printf '%s\n' "$key" > "$dir/key"

port_free() { ! (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# redis_ports_of PID: the local ports of PID's connections to Redis
# (/proc: its socket inodes in /proc/net/tcp with Redis's port).
redis_ports_of() {
  local inodes
  inodes=$(ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]/\1/p' | tr '\n' ' ')
  awk -v rp="$(printf '%04X' "$rport")" -v ino=" $inodes " '
    NR > 1 { split($3, r, ":"); split($2, l, ":")
             if (r[2] == rp && index(ino, " " $10 " ")) print l[2] }' /proc/net/tcp |
    while read -r hex; do echo $((16#$hex)); done
}
# rcmd ARG...: one Redis command over bash's /dev/tcp; its reply.
rcmd() {
  local req="*$#"$'\r\n' a
  for a in "$@"; do req+="\$${#a}"$'\r\n'"$a"$'\r\n'; done
  req+='*1'$'\r\n''$4'$'\r\n''QUIT'$'\r\n'
  exec 3<>"/dev/tcp/127.0.0.1/$rport" || return 1
  printf '%s' "$req" >&3
  timeout 2 cat <&3 | tr -d '\r'
  exec 3<&-
}
start_redis() { # start_redis PORT: 0 once it accepts connections
  : > "$dir/redis.log"
  "$REDIS" --port "$1" --bind 127.0.0.1 --save '' --appendonly no \
    --logfile "$dir/redis.log" --daemonize no &
  rpid=$!
  for _ in $(seq 50); do
    grep -q "Ready to accept" "$dir/redis.log" 2>/dev/null && return 0
    kill -0 "$rpid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; rpid=
  return 1
}
rport=
for _ in $(seq 20); do
  p=$((20000 + RANDOM % 40000))
  port_free "$p" && start_redis "$p" && { rport=$p; break; }
done
[ -n "$rport" ] || { bad "redis-server starts" "$dir/redis.log"; finish; }
ok "redis-server on port $rport"

start_node() { # start_node NAME
  "$NODE" --port 0 --host 127.0.0.1 --threads 2 --secret-file "$dir/secret" \
    --api-key-file "$dir/key" --hub "redis://127.0.0.1:$rport" --log-level info \
    $bounds 2> "$dir/node-$1.err" &
  declare -g "pid_$1=$!"
  if ! wait_for "$dir/node-$1.err" "listening on port"; then
    bad "node $1 starts" "$dir/node-$1.err"; finish
  fi
  declare -g "port_$1=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$dir/node-$1.err" | head -1)"
}
start_node a
start_node b
ok "nodes A (port $port_a) and B (port $port_b), hub settings: ${bounds:-the defaults}"

# Two pages on each node, subscribed to news from the start to the end.
span=$((BEFORE + OUTAGE + AFTER + 120))
pages=
for n in a b; do
  for i in 0 1; do
    eval "p=\$port_$n"
    cid=$(printf 'Page%s%sOutageOutageOut' "$n" "$i" | cut -c1-22)
    "$CLIENT" "$p" "$secret" "$cid" "user$n$i" news "$span" > "$dir/page-$n$i.out" 2>&1 &
    cpids="$cpids $!"
    pages="$pages $n$i"
  done
done
for pg in $pages; do
  wait_for "$dir/page-$pg.out" '"t":"open"' || { bad "page $pg attaches" "$dir/page-$pg.out"; finish; }
done
ok "pages$pages attached"
sleep 0.5

# Publishing: A at RATE (streams a0-a3), B at RATE/10 (stream b0).
total=$((BEFORE + OUTAGE + AFTER))
"$PUBLISH" "$port_a" "$key" news a "$RATE" "$total" 4 > "$dir/pub-a.log" 2> "$dir/pub-a.err" &
ppids="$!"
# In bounds mode B stops publishing at the restart: a broadcast of B's in
# flight when B is cut off could be sent again, and a copy among the
# offsets B jumps over makes its count of what its pages lost one more
# than they miss (docs/protocol.md section 9: lost counts offsets).
total_b=$total
[ "$MODE" = bounds ] && total_b=$((BEFORE + OUTAGE))
"$PUBLISH" "$port_b" "$key" news b "$RATE_B" "$total_b" 1 > "$dir/pub-b.log" 2> "$dir/pub-b.err" &
ppids="$ppids $!"
sleep "$BEFORE"
links_b=$(grep -c "hub: linked" "$dir/node-b.err")
kill -9 "$rpid"; wait "$rpid" 2>/dev/null; rpid=
echo "  .. redis-server SIGKILLed at $BEFORE s; restarting in $OUTAGE s"
sleep "$OUTAGE"
start_redis "$rport" || { bad "redis-server restarts on port $rport" "$dir/redis.log"; finish; }
ok "redis-server restarted (empty) on port $rport after $OUTAGE s"
if [ "$MODE" = bounds ]; then
  # B falls behind: once linked again, stopped, cut off by Redis
  # meanwhile, and then it must fetch what Redis no longer keeps.
  for _ in $(seq 100); do
    [ "$(grep -c "hub: linked" "$dir/node-b.err")" -gt "$links_b" ] && break
    sleep 0.1
  done
  sleep 1
  losses=$(grep -c "hub: lost" "$dir/node-b.err")
  kill -STOP "$pid_b"
  echo "  .. node B stopped (SIGSTOP) for 3 s, its Redis connections killed"
  sleep 0.5
  for p in $(redis_ports_of "$pid_b"); do
    rcmd CLIENT KILL ADDR "127.0.0.1:$p" > /dev/null
  done
  sleep 2.5
  kill -CONT "$pid_b"
  for _ in $(seq 50); do
    [ "$(grep -c "hub: lost" "$dir/node-b.err")" -gt "$losses" ] && break
    sleep 0.1
  done
  check "node B was cut off from Redis while stopped" \
    '[ "$(grep -c "hub: lost" "$dir/node-b.err")" -gt "$losses" ]' "$dir/node-b.err"
fi
for p in $ppids; do wait "$p"; done
ppids=
cat "$dir/pub-a.err" "$dir/pub-b.err" | sed 's/^/  .. /'

# Settled: no page got a line for 3 s (at most 120 s).
lines() { cat "$dir"/page-*.out | wc -l; }
last=-1; still=0
for _ in $(seq 1200); do
  now=$(lines)
  if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0; last=$now; fi
  [ "$still" -ge 30 ] && break
  sleep 0.1
done

stats() { curl -s -m 5 -H "X-Api-Key: $key" "http://127.0.0.1:$1/api/stats"; }
stat_of() { printf '%s' "$1" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
stats_a=$(stats "$port_a"); stats_b=$(stats "$port_b")
echo "  .. A: $stats_a"
echo "  .. B: $stats_b"

cat "$dir/pub-a.log" "$dir/pub-b.log" > "$dir/pub.log"
published=$(wc -l < "$dir/pub.log")
accepted=$(awk '$3 == 200' "$dir/pub.log" | wc -l)
refused=$(awk '$3 == 503' "$dir/pub.log" | wc -l)
other=$(awk '$3 != 200 && $3 != 503' "$dir/pub.log" | wc -l)
check "every publish answered 200 or 503 ($published: $accepted accepted, $refused refused, $other other)" \
  '[ "$other" -eq 0 ]' "$dir/pub.log"
for n in a b; do
  r=$(awk '$3 == 503' "$dir/pub-$n.log" | wc -l)
  eval "s=\$stats_$n"
  check "node $n: hubRefused ($(stat_of "$s" hubRefused)) counts its 503s ($r)" \
    '[ "$(stat_of "$s" hubRefused)" = "$r" ]'
done

# One line a page: received missing dups disorder refused_seen notices lost
judge() {
  awk '
    FNR == NR { st[$1 " " $2] = $3; if ($3 == 200) acc[$1]++; next }
    /"t":"recovered"/ && /"recovered":false/ {
      notices++
      if (match($0, /"lost":[0-9]+/)) lost += substr($0, RSTART + 7, RLENGTH - 7)
      next
    }
    /"t":"msg"/ && match($0, /"data":\{"s":"[a-z0-9]+","n":[0-9]+\}/) {
      d = substr($0, RSTART + 13, RLENGTH - 14)   # a0","n":12
      s = d; sub(/".*/, "", s)
      n = d; sub(/.*:/, "", n); n += 0
      if (st[s " " n] != 200) { refused_seen++; next }
      if ((s, n) in got) { dups++; next }
      got[s, n] = 1; recv[s]++
      if (n < last[s]) disorder++
      last[s] = n
    }
    END {
      for (s in acc) missing += acc[s] - recv[s]
      printf "%d %d %d %d %d %d %d\n", length(got), missing, dups, disorder,
        refused_seen, notices, lost
    }' "$dir/pub.log" "$1"
}
t_missing=0; t_dups=0; t_dis=0; t_told=0; t_lost=0
for pg in $pages; do
  read -r got missing dups dis seen notices lost < <(judge "$dir/page-$pg.out")
  node=${pg%?}
  echo "  .. page $pg (node $node): $got received, $missing missing, $dups duplicated," \
       "$dis out of order, $notices loss notices (lost: $lost)"
  check "page $pg: no duplicate, nothing out of its stream's order" \
    '[ "$dups" -eq 0 ] && [ "$dis" -eq 0 ]' "$dir/page-$pg.out"
  check "page $pg: no refused publish arrived" '[ "$seen" -eq 0 ]'
  # lost counts the offsets jumped over (docs/protocol.md section 9): a
  # copy among them of a broadcast the page has counts too, such as one
  # of the node's own that Redis took just before it was killed and the
  # node then gave its pages itself; so told at least what it misses.
  check "page $pg: every accepted message arrived, or the page was told it lost at least as many ($missing missing, told $lost)" \
    '[ "$missing" -le "$lost" ] && { [ "$missing" -eq 0 ] || [ "$notices" -gt 0 ]; }' "$dir/page-$pg.out"
  eval "s=\$stats_$node"
  [ "$notices" -eq 0 ] || check "page $pg: node $node's hubLost ($(stat_of "$s" hubLost)) counts what it was told ($lost)" \
    '[ "$(stat_of "$s" hubLost)" = "$lost" ]'
  t_missing=$((t_missing + missing)); t_dups=$((t_dups + dups)); t_dis=$((t_dis + dis))
  [ "$notices" -gt 0 ] && t_told=$((t_told + 1)); t_lost=$((t_lost + lost))
done
for n in a b; do
  eval "s=\$stats_$n"
  if [ "$(stat_of "$s" hubLost)" != "" ] && [ "$(stat_of "$s" hubLost)" != 0 ]; then
    check "node $n: a log line says what its pages lost" 'grep -q "broadcasts lost" "$dir/node-$n.err"' "$dir/node-$n.err"
  fi
done

echo "  figures ($MODE settings): $RATE msg/s on A (+$RATE_B on B), Redis SIGKILLed for $OUTAGE s:" \
     "$published published, $accepted accepted (200), $refused refused (503);" \
     "over 4 pages: $t_missing lost, $t_dups duplicated, $t_dis out of order," \
     "$t_told pages told recovered:false ($t_lost messages counted lost)"

for n in a b; do
  eval "p=\$pid_$n"
  kill -TERM "$p"
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then rc=timeout; else wait "$p"; rc=$?; fi
  declare -g "pid_$n="
  check "node $n: SIGTERM exits 0" '[ "$rc" = 0 ]' "$dir/node-$n.err"
  check "node $n: no ASan/UBSan report" \
    '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$dir/node-$n.err"' "$dir/node-$n.err"
done
for p in $cpids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
cpids=
finish
