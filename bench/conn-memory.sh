#!/usr/bin/env bash
# bench/conn-memory.sh - the memory a connection keeps in Tomcat, handshake
# included (issue 15, item 2): a fresh Tomcat 10.1 on bench/modes/'s webapp
# (comet4j's listener and CometServlet as a user's web.xml has them) with
# Comet.Port, so that Tomcat's process holds one file per connection; N
# WebSocket clients (bench/wsbench) each made through the real handshake
# (GET /modes/conn?cmd=conn on Tomcat's port: BeforeConnect, the ticket,
# the pending handshake) and attached on the native port's /ws.
#
# For each N, two runs:
#   (a) fixed heap: -Xms = -Xmx (C4J_BENCH_HEAP, default 1g) and
#       -XX:+AlwaysPreTouch, so the heap is resident from the start and the
#       RSS grows only by what lives outside it (the core, JNI, malloc);
#       each reading follows jcmd GC.run and System.trim_native_heap, and
#       GC.heap_info gives the live heap.  Per connection: outside the heap,
#       the live heap, their sum (the target: at most 2 KiB), and the RSS
#       that the handshakes alone left (read after each step's tickets are
#       fetched, before its clients attach) and the attaches then added.
#   (b) Tomcat's default heap settings, no GC asked: the plain RSS growth.
# The clients come in STEPS steps (N/STEPS, 2N/STEPS, ... N); the figures
# per connection are least-squares slopes over the readings after each
# step (the first connections' one-time costs, JIT compilation, arenas, are
# not charged to each), the handshake and attach shares means over the
# steps after the first.  With C4J_CONN_HISTO=1, run (a) also says which
# classes the connections added to the live heap: jmap -histo:live after
# the first step and with all N, per class the growth per connection.
#
# Usage: bench/conn-memory.sh [N ...]   (default: 10000 19000)
# Environment: C4J_BENCH_HEAP (1g), C4J_CONN_STEPS (5), C4J_CONN_RUNS ("a b"),
# C4J_CONN_HISTO (0).
set -euo pipefail
cd "$(dirname "$0")/.."
NS=${*:-10000 19000}
HEAP=${C4J_BENCH_HEAP:-1g}
STEPS=${C4J_CONN_STEPS:-5}
RUNS=${C4J_CONN_RUNS:-a b}
me=conn-memory
TOMCAT_OPTS=
source bench/modes-lib.sh

# The hook wsbench runs at each reading: LABEL (start, tickets, step, full)
# and the connections (or tickets) so far.  With GC=1 a full GC and
# malloc's free memory given back first, then the heap's live bytes.
cat > "$work/read.sh" <<'SH'
pid=$1 gc=$2 label=$3 n=$4
used=0
# Right after the handshakes the JIT and the request threads are still at
# work: the same settling as wsbench gives the attaches' readings.
[ "$label" = tickets ] && sleep 2
if [ "$gc" = 1 ]; then
  printf 'GC.run\nSystem.trim_native_heap\nGC.heap_info\n' > "$0.cmds"
  out=$(jcmd "$pid" -f "$0.cmds" 2>/dev/null)
  used=$(echo "$out" | sed -n 's/.* heap .*used \([0-9]*\)K.*/\1/p' | head -1)
fi
if [ "${C4J_CONN_HISTO:-0}" = 1 ] && [ "$gc" = 1 ] && { [ "$label" = full ] || [ ! -e "$0.histo" ]; } &&
   [ "$label" != start ] && [ "$label" != tickets ]; then
  jmap -histo:live "$pid" 2>/dev/null | awk -v n="$n" '$1 ~ /^[0-9]+:$/ { print n, $4, $2, $3 }' >> "$0.histo"
fi
echo "read: $label $n heap_kB=${used:-0} rss_kB=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")" \
  "fds=$(ls "/proc/$pid/fd" | wc -l)"
SH

# slope LOG FIELD LABELS: the least-squares slope, in bytes per connection,
# of FIELD (kB) over the readings whose label matches LABELS.
slope() {
  awk -v field="$2" -v labels="$3" '
    $1 == "read:" && $2 ~ ("^(" labels ")$") { for (i = 4; i <= NF; i++) if (index($i, field "=") == 1) {
        x = $3; y = substr($i, length(field) + 2) * 1024
        k++; sx += x; sy += y; sxx += x * x; sxy += x * y } }
    END { if (k < 2) print "?"; else printf "%.0f", (k * sxy - sx * sy) / (k * sxx - sx * sx) }' "$1"
}

# shares LOG: "HANDSHAKE ATTACH", the RSS each added per connection, summed
# over the steps after the first (before a step's tickets: the reading
# after the step before; its tickets; then its clients attached).
shares() {
  awk '$1 == "read:" { split($5, r, "="); rss = r[2] * 1024
         if ($2 == "tickets" && prev != "") { hs += rss - prev; at_from = rss; tn = $3 - pn }
         if (($2 == "step" || $2 == "full") && at_from != "") { at += rss - at_from; n += tn; at_from = "" }
         if ($2 == "step" || $2 == "full") { prev = rss; pn = $3 } }
       END { if (n == 0) print "? ?"; else printf "%.0f %.0f", hs / n, at / n }' "$1"
}

declare -A R
src=2
for n in $NS; do
  for run in $RUNS; do
    case $run in
      a) TOMCAT_OPTS="-Xms$HEAP -Xmx$HEAP -XX:+AlwaysPreTouch"; gc=1 ;;
      b) TOMCAT_OPTS=; gc=0 ;;
      *) echo "$me: unknown run $run (a or b)" >&2; exit 2 ;;
    esac
    echo "== ($run) $n connections through CometServlet, ${TOMCAT_OPTS:-the default heap}"
    cport=$(free_port)
    start_tomcat "$run-$n" "$cport"
    log=$base.out
    if ! timeout 600 "$bin/wsbench" -p "$cport" \
        -n "$n" -pid "$tomcat" -handshake /modes/conn?cmd=conn -hs-port "$http" \
        -send-port "$http" -send-path "/modes/send?to=comet&seq=" -m 1 -i 250 -src "$src" \
        -steps "$STEPS" -hook "sh $work/read.sh $tomcat $gc" -hook-tickets 1 >"$log"; then
      cat "$log"
      echo "$me: ($run) wsbench failed; Tomcat's log:" >&2
      tail -30 "$base/logs/console.log" >&2
      exit 1
    fi
    sed 's/^/   /' "$log"
    if [ "$run" = a ] && [ -e "$work/read.sh.histo" ]; then
      echo "   what the connections added to the live heap, per connection (jmap -histo:live):"
      awk '{ if (!($2 in n0)) { n0[$2] = $1; c0[$2] = $3; b0[$2] = $4 } n1[$2] = $1; c1[$2] = $3; b1[$2] = $4 }
           END { for (k in n1) if (n1[k] > n0[k]) { d = n1[k] - n0[k]
                   printf "%10.1f B %7.2f objects  %s\n", (b1[k] - b0[k]) / d, (c1[k] - c0[k]) / d, k } }' \
        "$work/read.sh.histo" | sort -rn | sed -n 1,15p | sed 's/^/   /'
      rm -f "$work/read.sh.histo"
    fi
    stop_tomcat
    # Each run its own source addresses: the last one's ports are in TIME_WAIT.
    src=$((src + (n + 4999) / 5000))
    k=$run,$n
    R[$k,rss]=$(slope "$log" rss_kB 'step|full')
    R[$k,heap]=$(slope "$log" heap_kB 'step|full')
    R[$k,fds]=$(awk '$1 == "read:" && $2 == "full" { split($6, f, "="); print f[2] }' "$log")
    read -r R[$k,hs] R[$k,at] <<<"$(shares "$log")"
  done
done

echo
echo "bytes per connection (slopes over $STEPS steps; (a) -Xms=-Xmx=$HEAP, pre-touched, after GC.run):"
printf '%-7s %-4s %9s %9s %9s %11s %9s %6s\n' N run outside heap sum handshake attach fds
for n in $NS; do
  for run in $RUNS; do
    k=$run,$n
    sum='-'
    [ "$run" = a ] && sum=$(awk -v a="${R[$k,rss]}" -v b="${R[$k,heap]}" 'BEGIN { printf "%.0f", a + b }')
    heap=${R[$k,heap]}; [ "$run" = b ] && heap='-'
    printf '%-7s %-4s %9s %9s %9s %11s %9s %6s\n' "$n" "$run" "${R[$k,rss]}" "$heap" "$sum" \
      "${R[$k,hs]}" "${R[$k,at]}" "${R[$k,fds]}"
  done
done
echo "outside: the RSS's slope (in (b), the plain RSS growth, heap included); heap: the live heap's;"
echo "handshake: the RSS the handshakes alone added (tickets fetched, not attached), attach: what the"
echo "attaches then added; fds: Tomcat's open files with all N attached.  Target: sum <= 2048."
