#!/usr/bin/env bash
# bench/handshakes.sh - handshakes a second when every page comes back at
# once (issue 15, item 5), as after a server restart: a fresh Tomcat 10.1
# on bench/modes/'s webapp (comet4j's listener and CometServlet as a
# user's web.xml has them) with Comet.Port, and N pages (bench/hsbench)
# that each do the real handshake (GET /modes/conn?cmd=conn on a
# connection of its own: BeforeConnect, the ticket, the pending
# handshake) and attach a WebSocket with the ticket on the native port,
# at most C of them at once.  The figure: N over the time from the first
# request to the last open.  Then the RSS the storm left behind, read
# before it and with every page open and idle, each after jcmd GC.run and
# System.trim_native_heap, with a fixed pre-touched heap (-Xms = -Xmx,
# C4J_BENCH_HEAP, default 1g: the RSS's growth is what lives outside the
# heap) and the live heap's growth (GC.heap_info).
#
# The ceiling, in the same Tomcat and round, just before the full storm:
# the same storm shape (N requests, each on a new connection, C in
# flight) of GETs alone (hsbench -attach 0), first of /modes/hello (a
# servlet that answers a fixed short JSON body: what the container's own
# HTTP/1.1 on a new connection allows), then of CometServlet's handshake
# without the attach; each with Tomcat's CPU a request, and the ratios of
# the three rates (handshake/bare, full/bare) at the end.  Then, as an
# extra line each, the same GETs on keep-alive connections, K of them one
# after another on a connection (C4J_HS_KEEPALIVE, default 10; 0: none):
# not a storm of pages (each has its own connection), the container's cost
# of a request without its connection's.
#
# With C4J_HS_JFR=1, Tomcat runs under Java Flight Recorder through the
# storm and the hottest Java frames of its samples are printed
# (jfr print --events jdk.ExecutionSample), for finding what limits it.
#
# Usage: bench/handshakes.sh [N=10000] [C=1000]
# Each round's Tomcat first takes a warm-up storm of C4J_HS_WARM pages
# (default 10000; 0 for none: a cold JVM, as right after a restart), gone
# before the measured storm starts.
# Environment: C4J_BENCH_HEAP (1g), C4J_HS_ROUNDS (rounds, each with a
# fresh Tomcat; default 2), C4J_HS_WARM (10000), C4J_HS_JFR (0),
# C4J_HS_KEEPALIVE (10).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}; C=${2:-1000}
HEAP=${C4J_BENCH_HEAP:-1g}
ROUNDS=${C4J_HS_ROUNDS:-2}
WARM=${C4J_HS_WARM:-10000}
KEEP=${C4J_HS_KEEPALIVE:-10}
me=handshakes
# A listen queue that holds the storm's SYNs (Tomcat's default is 100).
CONNECTOR_ATTRS="acceptCount=\"$C\" "
source bench/modes-lib.sh

cat > "$work/read.sh" <<'SH'
pid=$1 label=$2
# Tomcat's CPU time (clock ticks) between the two readings, the GCs
# asked here left out.
# And by thread (names without their numbers): who took it.
cpu() {
  echo "cpu: $label $(awk '{print $14 + $15}' "/proc/$pid/stat")"
  for t in /proc/$pid/task/*; do
    echo "thread: $label $(tr ' ' _ < "$t/comm" | sed 's/[-_]*[0-9]*$//') $(sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}')"
  done 2>/dev/null
}
[ "$label" = after ] && cpu
printf 'GC.run\nSystem.trim_native_heap\nGC.heap_info\n' > "$0.cmds"
out=$(jcmd "$pid" -f "$0.cmds" 2>/dev/null)
[ "$label" = before ] && cpu
used=$(echo "$out" | sed -n 's/.* heap .*used \([0-9]*\)K.*/\1/p' | head -1)
echo "read: $label heap_kB=${used:-0} rss_kB=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")" \
  "fds=$(ls "/proc/$pid/fd" | wc -l)"
SH

src=2
rates=() summary=()
# cpu_nojit: Tomcat's CPU time (clock ticks) but its compiler threads'.
cpu_nojit() {
  for t in /proc/$tomcat/task/*; do
    case "$(cat "$t/comm")" in *Compiler*) continue ;; esac
    sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}'
  done 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}
# get_storm LABEL PATH [K]: N GETs of PATH alone, each on a connection of
# its own (K on each, keep-alive, when K is given), at most C at once;
# prints the rate and Tomcat's CPU a request (all its threads, and without
# the JIT's compiler threads) and sets $get_rate, $get_us and $get_nojit.
get_storm() {
  local label=$1 path=$2 k=${3:-1} c0 c1 j0 j1 how="a new connection each"
  [ "$k" -gt 1 ] && how="$k on each keep-alive connection"
  c0=$(awk '{print $14 + $15}' "/proc/$tomcat/stat") j0=$(cpu_nojit)
  timeout 300 "$bin/hsbench" -p "$cport" -hs-port "$http" -n "$N" -c "$C" -src "$src" \
    -attach 0 -keepalive "$k" -handshake "$path" > "$base.$label" || { cat "$base.$label"; exit 1; }
  c1=$(awk '{print $14 + $15}' "/proc/$tomcat/stat") j1=$(cpu_nojit)
  src=$((src + (N + 4999) / 5000))
  get_rate=$(sed -n 's/^requests: .*: \([0-9]*\) a second$/\1/p' "$base.$label")
  get_us=$(awk -v a="$c0" -v b="$c1" -v n="$N" -v tck="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f", (b - a) / tck * 1e6 / n }')
  get_nojit=$(awk -v a="$j0" -v b="$j1" -v n="$N" -v tck="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f", (b - a) / tck * 1e6 / n }')
  echo "   $label (GET $path alone, $how): $get_rate a second," \
    "Tomcat CPU $get_us us a request ($get_nojit without the JIT's compiler threads)"
  sleep 2
}
for round in $(seq "$ROUNDS"); do
  TOMCAT_OPTS="-Xms$HEAP -Xmx$HEAP -XX:+AlwaysPreTouch"
  cport=$(free_port)
  start_tomcat "hs-$round" "$cport" Comet.ConnExpires=1000
  # A warm-up storm of WARM pages, gone before the measured one (dying for
  # Comet.ConnExpires, 1 s, then dropped): the JIT has compiled the path.
  if [ "$WARM" -gt 0 ]; then
    timeout 120 "$bin/hsbench" -p "$cport" -hs-port "$http" -n "$WARM" -c "$C" -src "$src" \
      -handshake /modes/conn?cmd=conn > "$base.warm" || { cat "$base.warm"; exit 1; }
    echo "   warm-up: $(sed -n 's/^handshakes: //p' "$base.warm")"
    src=$((src + (WARM + 4999) / 5000))
    # And Tomcat's path to the bare servlet (the handshake's GET is warm).
    timeout 120 "$bin/hsbench" -p "$cport" -hs-port "$http" -n "$WARM" -c "$C" -src "$src" \
      -attach 0 -handshake /modes/hello > "$base.warm" || { cat "$base.warm"; exit 1; }
    echo "   warm-up of /modes/hello: $(sed -n 's/^requests: //p' "$base.warm")"
    src=$((src + (WARM + 4999) / 5000))
    sleep 4
  fi
  echo "== round $round: $N pages at once (at most $C in flight), Tomcat's pid $tomcat"
  get_storm bare /modes/hello; bare_rate=$get_rate bare_us=$get_us bare_nj=$get_nojit
  get_storm handshake "/modes/conn?cmd=conn"; hs_rate=$get_rate hs_us=$get_us hs_nj=$get_nojit
  if [ "$KEEP" -gt 1 ]; then
    get_storm bare-keepalive /modes/hello "$KEEP"
    get_storm handshake-keepalive "/modes/conn?cmd=conn" "$KEEP"
  fi
  log=$base.out
  sh "$work/read.sh" "$tomcat" before > "$log"
  [ "${C4J_HS_JFR:-0}" = 1 ] && jcmd "$tomcat" JFR.start name=hs settings=profile >/dev/null
  if ! timeout 300 "$bin/hsbench" -p "$cport" -hs-port "$http" -n "$N" -c "$C" -src "$src" \
      -handshake /modes/conn?cmd=conn -hook "sh $work/read.sh $tomcat after" >> "$log"; then
    cat "$log"
    echo "$me: hsbench failed; Tomcat's log:" >&2
    tail -30 "$base/logs/console.log" >&2
    exit 1
  fi
  src=$((src + (N + 4999) / 5000))
  grep -v '^thread: ' "$log" | sed 's/^/   /'
  awk -v n="$N" '$1 == "read:" { split($3, h, "="); split($4, r, "="); heap[$2] = h[2]; rss[$2] = r[2] }
    END { printf "   left behind per page, after GC: RSS %.0f B (outside the heap), live heap %.0f B\n",
            (rss["after"] - rss["before"]) * 1024 / n, (heap["after"] - heap["before"]) * 1024 / n }' "$log"
  full_us=$(awk -v n="$N" -v tck="$(getconf CLK_TCK)" '$1 == "cpu:" { c[$2] = $3 }
    END { printf "%.0f", (c["after"] - c["before"]) / tck * 1e6 / n }' "$log")
  echo "   Tomcat CPU per page: $full_us us (the whole storm: the handshake, the attach, the GCs of the JVM)"
  # What the storm itself costs Tomcat (its connector, CometServlet, the
  # core), the JIT's compiling left out, and the rate that would allow
  # with Tomcat alone on the cores (the client and the kernel take more).
  full_nj=$(awk -v n="$N" -v tck="$(getconf CLK_TCK)" '$1 == "thread:" && $3 !~ /Compiler/ {
      if ($2 == "before") b += $4; else a += $4 }
    END { printf "%.0f", (a - b) / tck * 1e6 / n }' "$log")
  echo "   without the JIT compiler threads: $full_nj us a page (Tomcat alone on $(nproc) cores:" \
    "$(awk -v us="$full_nj" -v c="$(nproc)" 'BEGIN { printf "%.0f", (us > 0 ? c * 1e6 / us : 0) }') a second)"
  echo "   Tomcat's CPU by thread, per page:"
  awk -v n="$N" -v tck="$(getconf CLK_TCK)" '$1 == "thread:" { if ($2 == "before") b[$3] += $4; else a[$3] += $4 }
    END { for (k in a) if (a[k] - b[k] > 0) printf "%8.0f us  %s\n", (a[k] - b[k]) / tck * 1e6 / n, k }' "$log" |
    sort -rn | sed -n 1,8p | sed 's/^/   /'
  full_rate=$(sed -n 's/^handshakes: .*: \([0-9]*\) a second$/\1/p' "$log")
  rates+=("$full_rate")
  summary+=("$(awk -v r="$round" -v b="$bare_rate" -v h="$hs_rate" -v f="$full_rate" \
      -v bu="$bare_us/$bare_nj" -v hu="$hs_us/$hs_nj" -v fu="$full_us/$full_nj" 'BEGIN {
    printf "%5d %7d %9s %11d %9s %7d %9s %8.2f %9.2f", r, b, bu, h, hu, f, fu,
      (b > 0 ? h / b : 0), (b > 0 ? f / b : 0) }')")
  if [ "${C4J_HS_JFR:-0}" = 1 ]; then
    jcmd "$tomcat" JFR.stop name=hs filename="$work/hs.jfr" >/dev/null 2>&1 || true
    jfr print --stack-depth 64 --events jdk.ExecutionSample "$work/hs.jfr" 2>/dev/null > "$work/hs.txt" || true
    echo "   the recording's samples of Java code: $(grep -c 'jdk.ExecutionSample' "$work/hs.txt"); the hottest frames (top of stack):"
    awk '/stackTrace = \[/ { getline; sub(/^[ \t]+/, ""); sub(/line:.*/, ""); top[$0]++; n++ }
         END { for (k in top) printf "%6.1f %%  %s\n", top[k] * 100 / n, k }' "$work/hs.txt" |
      sort -rn | sed -n 1,15p | sed 's/^/   /'
    echo "   comet4j's and the servlet's methods anywhere in the stack (share of the samples):"
    awk '/jdk.ExecutionSample/ { n++; delete seen }
         /^[ \t]+(org\.comet4j|org\.apache\.coyote\.http11\.Http11Processor\.service|org\.apache\.catalina\.connector\.CoyoteAdapter\.service|org\.apache\.tomcat\.util\.net\.NioEndpoint)/ {
           f = $1; sub(/\(.*/, "", f); if (!(f in seen)) { seen[f] = 1; in_[f]++ } }
         END { for (k in in_) printf "%6.1f %%  %s\n", in_[k] * 100 / n, k }' "$work/hs.txt" |
      sort -rn | sed -n 1,25p | sed 's/^/   /'
  fi
  stop_tomcat
done
echo
echo "handshakes a second (first request to last open), $N pages, at most $C at once: ${rates[*]}"
echo
echo "a second, each on a new connection ($N, at most $C at once), and Tomcat's CPU a request"
echo "(us: all its threads / without the JIT's compiler threads):"
echo "round  bare/s       cpu handshake/s       cpu  full/s       cpu  hs/bare full/bare"
printf '%s\n' "${summary[@]}"
echo "(bare: GET /modes/hello; handshake: GET /modes/conn?cmd=conn alone; full: the handshake and its WebSocket's open)"
uptime
