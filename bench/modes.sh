#!/usr/bin/env bash
# bench/modes.sh - the figures of issue 10, one run, one client: memory per
# idle connection and one-broadcast fan-out (median, p99) with N WebSocket
# clients (bench/wsbench) for each way a page can reach the core, in a real
# Tomcat 10.1 (tests/lib/catalina-base.sh) running bench/modes/ (context
# /modes: comet4j's listener and handshake servlet, /send, /jsr):
#   (a) native port   Comet.Port set; tickets from the real handshake
#                     (GET /modes/conn?cmd=conn on Tomcat's port), the
#                     WebSocket on the native port's /ws
#   (b) takeover      no Comet.Port; the same handshake, the WebSocket on
#                     Tomcat's plain HTTP/1.1 NIO connector,
#                     /modes/conn?cmd=ws: the socket handed to the core
#   (c) container way no Comet.Port; the handshake and the WebSocket on
#                     Tomcat's https connector (JSSE, a self-signed RSA
#                     certificate made here): Tomcat keeps the socket, the
#                     bytes are bridged to the core
#   (d) native TLS    Comet.Port with Comet.TlsCert/Comet.TlsKey (PEM made
#                     here); run only when the jar's engine knows those
#                     settings, else "(d) skipped: no TLS in this build"
#   (e) JSR-356       Tomcat's own WebSocket (/modes/jsr, a @ServerEndpoint
#                     that broadcasts to every session), for scale
# Every broadcast comes from the application: GET /modes/send?seq=N makes it
# call sendToAll (or the JSR endpoint send to all) with the time in the
# message; 20 of them, 250 ms apart.  Each mode gets a fresh Tomcat with a
# fixed, pre-touched heap (-Xms = -Xmx, -XX:+AlwaysPreTouch) and the JVM's
# native memory tracking (summary): what lives outside the Java heap is the
# RSS less what the JVM itself has committed (the heap, the JIT's code and
# arenas, the GC's tables, metaspace, thread stacks: their growth during the
# ramp is the JVM's, and it moves the RSS by several MB either way), plus
# the JVM's "Other" (direct buffers): the core's memory, OpenSSL's, direct
# buffers.  The heap's own growth is read after a full GC
# (jcmd GC.run, GC.heap_info).  Both are least-squares slopes over the
# readings after each of 8 steps of the ramp (N/8, N/4, ... N idle
# connections: what the first connections cost once, JIT compilation and
# arenas, is not charged to each).  fds: the server's open files per connection, which says
# who holds the socket.
#
# N is the same for every mode.  The container way holds three files per
# page in Tomcat's process (the page's socket, the bridge's loopback socket
# and the core's end of it), so under a limit of L open files a process
# holds at most (L - ~400) / 3 of them: when N does not fit, every mode runs
# at the largest N that does (a multiple of 500), and then, unless
# C4J_MODES_ALSO=0, the modes that fit run once more at the N asked.
#
# Usage: bench/modes.sh [N=10000] [MESSAGES=20] [INTERVAL_MS=250]
# Environment: C4J_BENCH_HEAP (default 2g), C4J_MODES (default "a b c d e"),
# C4J_MODES_STEPS (default 8), C4J_MODES_ALSO (default 1), C4J_MODES_FILES
# (the open files a process may hold, default 20000, or ulimit -n if lower),
# C4J_MODES_QUIET (seconds to wait for quiet cores before a mode, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
N_ASKED=${1:-10000}; MESSAGES=${2:-20}; INTERVAL=${3:-250}
HEAP=${C4J_BENCH_HEAP:-2g}
MODES=${C4J_MODES:-a b c d e}
STEPS=${C4J_MODES_STEPS:-8}
me=modes
TOMCAT_OPTS="-Xms$HEAP -Xmx$HEAP -XX:+AlwaysPreTouch -XX:NativeMemoryTracking=summary"
source bench/modes-lib.sh

# The certificates, made for this run: a PKCS12 keystore for Tomcat's https
# connector (catalina-base.sh's password, changeit) and PEM files for the
# native port.
keytool -genkeypair -alias c4j -keyalg RSA -keysize 2048 -validity 2 -dname CN=localhost \
  -ext SAN=dns:localhost,ip:127.0.0.1 -storetype PKCS12 -keystore "$work/tls.p12" \
  -storepass changeit -keypass changeit >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1

# Whether the jar's engine knows the native port's TLS settings.
native_tls=0
unzip -p "$jar" org/comet4j/core/CometConfig.class 2>/dev/null | grep -aq 'Comet.TlsCert' && native_tls=1

# The hook wsbench runs at each RSS reading: a full GC, then malloc's free
# memory given back to the system (System.trim_native_heap: what the JIT's
# arenas and the GC's own tables freed would otherwise stay resident and
# drown a slope of a few MB), then the heap used, the open files, the RSS,
# what the JVM has committed (jvm) and its direct buffers (direct), and
# from these what lives outside it (outside = rss - jvm + direct), which
# with the heap are the table's figures (their slopes).
cat > "$work/idle.sh" <<'SH'
pid=$1 label=$2 n=$3
printf 'GC.run\nSystem.trim_native_heap\nGC.heap_info\nVM.native_memory summary\n' > "$0.cmds"
out=$(jcmd "$pid" -f "$0.cmds" 2>/dev/null)
used=$(echo "$out" | sed -n 's/.* heap .*used \([0-9]*\)K.*/\1/p' | head -1)
jvm=$(echo "$out" | sed -n 's/^Total: reserved=[0-9]*KB, committed=\([0-9]*\)KB.*/\1/p' | head -1)
direct=$(echo "$out" | sed -n 's/^- *Other (reserved=[0-9]*KB, committed=\([0-9]*\)KB).*/\1/p' | head -1)
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
# The machine's busy time and Tomcat's, in clock ticks, as the broadcasts begin.
[ "$label" = full ] && echo "cpu: $(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat)" \
  "$(awk '{print $14 + $15}' "/proc/$pid/stat") $(date +%s%N)"
echo "idle: $label $n heap_kB=${used:-0} fds=$(ls "/proc/$pid/fd" | wc -l) threads=$(ls "/proc/$pid/task" | wc -l)" \
  "rss_kB=$rss jvm_kB=${jvm:-0} direct_kB=${direct:-0} outside_kB=$((rss - ${jvm:-0} + ${direct:-0}))"
SH

# busy_pct SECONDS: how busy the cores were over that many seconds, %.
busy_pct() {
  local a b
  a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat)
  sleep "$1"
  b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "%.0f", (y[1] - x[1]) * 100 / (y[2] - x[2] + 0.001) }'
}

# quiet: waits (at most C4J_MODES_QUIET seconds, default 10) for the
# shared cores to be less than 30 % busy before a mode starts.
quiet() {
  local waited=0 busy
  busy=$(busy_pct 2)
  while [ "$busy" -gt 30 ] && [ "$waited" -lt "${C4J_MODES_QUIET:-10}" ]; do
    busy=$(busy_pct 2); waited=$((waited + 2))
  done
  echo "   the cores were $busy % busy before the start (waited $waited s)"
}

declare -A R   # R[mode,N,key]: n, name, rss, heap, fds, median, p99
runs=0

# run_mode MODE N SRC: one mode at N clients from source addresses
# 127.0.0.SRC on; its figures into R.
run_mode() {
  local m=$1 n=$2 src=$3 cport=none port path hs_port= hs_tls=0 tls=0 to=comet params=() name
  unset C4J_HTTPS_PORT C4J_KEYSTORE
  case $m in
    a) name="native port (Comet.Port)"; cport=$(free_port) ;;
    b) name="takeover (Tomcat's HTTP/1.1 NIO port)" ;;
    c) name="container way (Tomcat's https connector)"
       export C4J_HTTPS_PORT; C4J_HTTPS_PORT=$(free_port); export C4J_KEYSTORE=$work/tls.p12 ;;
    d) name="native port with TLS"
       if [ "$native_tls" != 1 ]; then
         echo "== (d) skipped: no TLS in this build (the jar's engine has no Comet.TlsCert)"
         return 0
       fi
       cport=$(free_port); params=("Comet.TlsCert=$work/cert.pem" "Comet.TlsKey=$work/key.pem") ;;
    e) name="Tomcat's own JSR-356 endpoint"; to=jsr ;;
  esac
  echo "== ($m) $name, $n clients"
  quiet
  runs=$((runs + 1))
  start_tomcat "$runs-$m-$n" "$cport" ${params[@]+"${params[@]}"} || return 1
  case $m in
    a) port=$cport; path='/ws?ticket='; hs_port=$http ;;
    b) port=$http; path='/modes/conn?cmd=ws&ticket='; hs_port=$http ;;
    c) port=$C4J_HTTPS_PORT; path='/modes/conn?cmd=ws&ticket='; hs_port=$port; hs_tls=1; tls=1 ;;
    d) port=$cport; path='/ws?ticket='; hs_port=$http; tls=1 ;;
    e) port=$http; path=/modes/jsr ;;
  esac
  local ticket_args=(-handshake /modes/conn?cmd=conn -hs-port "$hs_port" -hs-tls "$hs_tls")
  [ "$m" = e ] && ticket_args=(-t none)
  local log=$base.out
  if ! timeout 300 "$bin/wsbench" -p "$port" -n "$n" -pid "$tomcat" -path "$path" -tls "$tls" \
      "${ticket_args[@]}" -send-port "$http" -send-path "/modes/send?to=$to&seq=" \
      -m "$MESSAGES" -i "$INTERVAL" -src "$src" -steps "$STEPS" -hook "sh $work/idle.sh $tomcat" >"$log"; then
    cat "$log"
    echo "modes: ($m) wsbench failed; Tomcat's log:" >&2
    tail -30 "$base/logs/console.log" >&2
    stop_tomcat
    return 1
  fi
  # What others (the machine is shared) took of the cores meanwhile: the
  # busy time less Tomcat's and the client's.
  local cpu_end
  cpu_end="$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat) $(awk '{print $14 + $15}' "/proc/$tomcat/stat") $(date +%s%N)"
  R[$m,$n,others]=$(awk -v a="$(sed -n 's/^cpu: //p' "$log")" -v b="$cpu_end" -v tck="$(getconf CLK_TCK)" \
    -v cl="$(sed -n 's/^client: \([0-9]*\) ms.*/\1/p' "$log")" -v cores="$(nproc)" 'BEGIN {
      split(a, x, " "); split(b, y, " "); secs = (y[3] - x[3]) / 1e9
      o = ((y[1] - x[1]) - (y[2] - x[2])) / tck - cl / 1000
      printf "%.0f", (o < 0 ? 0 : o) * 100 / (secs * cores) }')
  sed 's/^/   /' "$log"
  echo "   others: ${R[$m,$n,others]} % of the cores went to other processes during the broadcasts"
  # What the start log and the request log say of this way (takeover, bridged).
  grep -ho 'comet4j: \(connector\|a page.s connection\)[^"]*' "$base/logs/"*.log 2>/dev/null |
    sort -u | sed 's/^/   log: /' || true
  stop_tomcat
  # fit FIELD SCALE FORMAT: the least-squares slope of one figure of the
  # idle readings after each step of the ramp, per connection.
  fit() {
    awk -v field="$1" -v scale="$2" -v fmt="$3" '
      /^idle: (step|full) / { for (i = 4; i <= NF; i++) if (index($i, field "=") == 1) {
          x = $3; y = substr($i, length(field) + 2) * scale
          k++; sx += x; sy += y; sxx += x * x; sxy += x * y } }
      END { if (k < 2) print "?"; else printf fmt, (k * sxy - sx * sy) / (k * sxx - sx * sx) }' "$log"
  }
  local k=$m,$n
  R[$k,n]=$n
  R[$k,heap]=$(fit heap_kB 1024 %.0f)
  R[$k,fds]=$(fit fds 1 %.2f)
  R[$k,rss]=$(fit outside_kB 1024 %.0f)
  R[$k,median]=$(sed -n 's/^fanout: .* median \([0-9.]*\) ms, p99.*/\1/p' "$log")
  R[$k,p99]=$(sed -n 's/^fanout: .* p99 \([0-9.]*\) ms,.*/\1/p' "$log")
  R[$k,name]=$name
  R[$k,stuck]=$(sed -n 's/^stuck: \([0-9]*\) of .*/\1/p' "$log" | tail -1)
  R[$k,lost]=$(sed -n 's/^lost: \([0-9]*\) connections.*/\1/p' "$log")
}

# The largest N that every mode holds under this process's open-file limit
# (at most C4J_MODES_FILES, default 20,000, what a process may hold on the
# project's shared machines).
limit=$(ulimit -n)
cap=${C4J_MODES_FILES:-20000}
{ [ "$limit" = unlimited ] || [ "$limit" -gt "$cap" ]; } && limit=$cap
N=$N_ASKED
if [ $((N * 3 + 400)) -gt "$limit" ]; then
  N=$(( (limit - 400) / 3 / 500 * 500 ))
  echo "modes: $N_ASKED clients do not fit the container way under $limit open files a process"
  echo "       (three per page in Tomcat's process): every mode runs at N=$N"
fi
echo "modes: N=$N, $MESSAGES broadcasts of 100 bytes every $INTERVAL ms, heap $HEAP fixed and pre-touched," \
  "Comet.Threads=2; $(nproc) cores shared by Tomcat and the client"
[ "$native_tls" = 1 ] || echo "modes: the jar's engine has no Comet.TlsCert: (d) will be skipped"

t0=$SECONDS
src=2
for m in $MODES; do
  run_mode "$m" "$N" "$src" || true
  src=$((src + 4))
done
also=
if [ "$N" != "$N_ASKED" ] && [ "${C4J_MODES_ALSO:-1}" = 1 ]; then
  for m in $MODES; do
    [ "$m" = c ] && continue
    run_mode "$m" "$N_ASKED" "$src" || true
    src=$((src + 4))
  done
  also=$N_ASKED
fi

# The table, and the ratios to (a) at each N.
table() {
  local n=$1
  echo
  echo "N=$n WebSocket clients, $(date -u +%Y-%m-%d), this machine: $(nproc) shared cores"
  printf '%-46s %10s %10s %10s %7s %12s %10s %7s\n' mode "outside" "heap" "total" "fds" "fan-out" "p99" "others"
  printf '%-46s %10s %10s %10s %7s %12s %10s %7s\n' "" "B/conn" "B/conn" "B/conn" "/conn" "median ms" "ms" "CPU %"
  for m in $MODES; do
    local k=$m,$n
    [ -n "${R[$k,n]:-}" ] || continue
    printf '%-46s %10s %10s %10s %7s %12s %10s %7s\n' "($m) ${R[$k,name]}" "${R[$k,rss]}" "${R[$k,heap]}" \
      "$(( ${R[$k,rss]:-0} + ${R[$k,heap]:-0} ))" "${R[$k,fds]}" "${R[$k,median]}" "${R[$k,p99]}" "${R[$k,others]}"
  done
  for m in $MODES; do
    [ -n "${R[$m,$n,stuck]:-}" ] && echo "($m): ${R[$m,$n,stuck]} of $n clients neither opened nor failed" \
      "(given up on after 20 s: see the stuck: lines above); its figures are of the others"
    [ -n "${R[$m,$n,lost]:-}" ] && echo "($m): ${R[$m,$n,lost]} of $n connections were lost after they opened" \
      "(see its lost: line and wsbench's lines above); its fan-out counts the others"
  done
  [ -n "${R[a,$n,n]:-}" ] || return 0
  local ta=$(( ${R[a,$n,rss]} + ${R[a,$n,heap]} ))
  for m in $MODES; do
    [ "$m" = a ] && continue
    local k=$m,$n
    [ -n "${R[$k,n]:-}" ] || continue
    awk -v m="$m" -v t="$(( ${R[$k,rss]} + ${R[$k,heap]} ))" -v ta="$ta" \
      -v md="${R[$k,median]}" -v mda="${R[a,$n,median]}" -v p="${R[$k,p99]}" -v pa="${R[a,$n,p99]}" \
      'BEGIN { printf "(%s)/(a): memory %.2f, fan-out median %.2f, p99 %.2f\n", m, t / ta, md / mda, p / pa }'
  done
}
table "$N"
[ -n "$also" ] && table "$also"
echo
echo "outside: the server's RSS less what the JVM itself committed (its native memory tracking), plus its"
echo "direct buffers: what lives outside the JVM's own memory (the core, OpenSSL's state, direct buffers);"
echo "heap: the Java heap after a full GC; both per connection, least-squares slopes over $STEPS steps up to"
echo "N idle connections.  fan-out: from the application's send to"
echo "the last of the N clients, over $MESSAGES broadcasts.  others: the cores' busy time that was neither"
echo "Tomcat's nor the client's while they ran (the machine is shared).  $((SECONDS - t0)) s."
