#!/usr/bin/env bash
# bench/sustained.sh - issue 15's sustained throughput (make bench-sustained):
# N WebSocket subscribers (bench/wsbench -ctl, clients on 127.0.0.2 and up)
# of one channel, and broadcasts of SIZE bytes published at a rate stepped
# up (RATES, each for STEP_S seconds) through each system's HTTP publish
# API by one C publisher (bench/pubbench.c, up to 128 requests in flight
# on keep-alive connections; the message carries the time it was due),
# for each of
#   node        comet4j-node (--threads 2), tickets minted with its secret,
#               POST /api/publish
#   nchan       Debian's nginx with libnginx-mod-nchan (one worker,
#               C4J_SUSTAINED_NCHAN_WORKERS), its websocket subscriber,
#               POST to its publisher location; nchan-Kw: with K workers
#   tomcat-api  the jar in Tomcat 10.1 (bench/modes/), tickets through the
#               real CometServlet handshake, POST /api/publish on Comet.Port
#   node-b      comet4j-node built otherwise (C4J_NODE_B: its path), e.g.
#               before a change, for a before/after in one run
#   floor       the machine's ceiling: bench/floorsrv.c, a minimal C server
#               (no tickets, POST /pub) whose T writer threads (2,
#               C4J_SUSTAINED_FLOOR_THREADS) send each frame, built once, to
#               their subscribers with one plain send() a socket, frames
#               that wait coalesced into one send(); floor-Kt: K threads
# in ROUNDS rounds interleaved.  For every step: the messages published,
# deliveries over what was expected (published x subscribers), every
# delivery's latency from the time it was due to its receipt (p50, p99),
# deliveries a second, and the CPU seconds of the server, the client, the
# publisher and the rest of the machine (others) over the step.  A
# system's ramp stops at the first step whose p99 passes 100 ms (or
# C4J_SUSTAINED_P99_MS) or which
# lost a delivery (or a publish); the rate before it is the highest held.
# Prints one table a system and round, then the highest rates held, their
# deliveries a second and the ratios of their means over the rounds to
# nchan's, and with floor each system's share of the floor's rate and
# deliveries in the same round.
#
# Usage: bench/sustained.sh [N=10000] [RATES="10 25 50 100 200 400 800 1600
#        3200 6400"] [STEP_S=3] [SIZE=64]
# Environment: C4J_SUSTAINED (default "node nchan floor"), C4J_SUSTAINED_ROUNDS
# (default 1), C4J_SUSTAINED_NCHAN_WORKERS (1), C4J_SUSTAINED_TOMCAT_OPTS,
# C4J_SUSTAINED_QUIET (seconds to wait for quiet cores before a ramp, 20),
# C4J_SUSTAINED_P99_MS (the p99 a step may reach and be held, 100),
# C4J_SUSTAINED_RAMP_MS (the p99 at which the ramp stops, default the
# same: with more, the ramp goes on past the rate held, and the highest
# rate with every delivery within it is said too),
# C4J_NODE_B (node-b's comet4j-node), C4J_SUSTAINED_FLOOR_THREADS (floor's
# writer threads, 2).
# Install what it needs first: .ci/install-bench.
N=${1:-10000}; RATES=${2:-10 25 50 100 200 400 800 1600 3200 6400}
STEP_S=${3:-3}; SIZE=${4:-64}
SYSTEMS=${C4J_SUSTAINED:-node nchan floor}
ROUNDS=${C4J_SUSTAINED_ROUNDS:-1}
NCHAN_WORKERS=${C4J_SUSTAINED_NCHAN_WORKERS:-1}
me=sustained
TOMCAT_OPTS=${C4J_SUSTAINED_TOMCAT_OPTS:-}
source "$(dirname "$0")/modes-lib.sh"
source "$(dirname "$0")/peers-lib.sh"
P99_MAX_MS=${C4J_SUSTAINED_P99_MS:-100}
RAMP_MS=${C4J_SUSTAINED_RAMP_MS:-$P99_MAX_MS}
TCK=$(getconf CLK_TCK)
FLOOR_THREADS=${C4J_SUSTAINED_FLOOR_THREADS:-2}
case " $SYSTEMS " in *" floor"*)
  cc -O2 -Wall -o "$out/floorsrv" bench/floorsrv.c -lpthread -lcrypto ;;
esac

client=
stop_client() {
  [ -n "$client" ] || return 0
  kill "$client" 2>/dev/null || true
  wait "$client" 2>/dev/null || true
  client=
}
stop_others() { stop_client; stop_server; }

# ticks PID...: user + system clock ticks of each process and its children.
ticks() {
  local p sum=0 t
  for p in "$@" $(for p in "$@"; do pgrep -P "$p"; done); do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || continue
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}
# busy: the machine's busy clock ticks so far (all cores).
busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

# quiet: waits (at most C4J_SUSTAINED_QUIET seconds, default 20) for the
# shared cores to be less than 30 % busy before a ramp starts, and says
# how busy they were.
quiet() {
  local waited=0 pct b0
  while :; do
    b0=$(busy); sleep 1
    pct=$((($(busy) - b0) * 100 / TCK / $(nproc)))
    [ "$pct" -le 30 ] && break
    waited=$((waited + 1))
    [ "$waited" -ge "${C4J_SUSTAINED_QUIET:-20}" ] && break
  done
  echo "   the cores were $pct % busy before the ramp (waited $waited s)"
}

declare -A HELD   # HELD[sys,round] = "rate deliveries/s"
declare -A KEPT   # the same within RAMP_MS
declare -A NAME

# run_system SYS ROUND SRC: one system's ramp, its table printed.
run_system() {
  local s=$1 r=$2 src=$3 pid port args=() pub=() spids log=$work/$1-$2.out
  local ctl=$work/ctl-$1-$2
  echo "== ($r) $s, $N subscribers"
  case $s in
    node|node-b)
      NAME[$s]="comet4j-node, HTTP API"
      if [ "$s" = node-b ]; then
        [ -x "${C4J_NODE_B:-}" ] || { echo "$me: node-b: C4J_NODE_B is not an executable" >&2; return 1; }
        NAME[$s]="comet4j-node (C4J_NODE_B), HTTP API"
      fi
      local bin_node=$NODE
      [ "$s" = node ] || bin_node=$C4J_NODE_B
      NODE=$bin_node start_node "$work/$s-$r.log" || return 1
      spids=$pid
      mint "$N"
      args=(-p "$port" -t "$work/tickets")
      pub=(-port "$port" -path /api/publish -body "$BODY_API" -header "X-Api-Key: $API_KEY") ;;
    nchan|nchan-*w)
      local nw=$NCHAN_WORKERS
      [ "$s" = nchan ] || nw=${s#nchan-}; nw=${nw%w}
      NAME[$s]="nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null | sed 's/^[0-9]*://; s/+.*//') ($nw worker$([ "$nw" = 1 ] || echo s))"
      start_nchan "$s-$r" "$nw" || return 1
      spids=$server
      args=(-p "$port" -t none -path /sub -open 101)
      pub=(-port "$port" -path /pub) ;;
    tomcat-api)
      NAME[$s]="Tomcat 10.1 + jar, HTTP API"
      local cport; cport=$(free_port)
      start_tomcat "$s-$r" "$cport" "Comet.ApiKey=$API_KEY" || return 1
      spids=$tomcat
      args=(-p "$cport" -handshake /modes/conn?cmd=conn -hs-port "$http")
      pub=(-port "$cport" -path /api/publish -body "$BODY_API" -header "X-Api-Key: $API_KEY") ;;
    floor|floor-*t)
      local ft=$FLOOR_THREADS
      [ "$s" = floor ] || ft=${s#floor-}; ft=${ft%t}
      NAME[$s]="floor (plain writes, $ft thread$([ "$ft" = 1 ] || echo s))"
      port=$(free_port)
      "$out/floorsrv" "$port" "$ft" 2>"$work/$s-$r.log" &
      server=$!; pid=$server; spids=$server
      wait_for "$work/$s-$r.log" 'listening on port' || return 1
      args=(-p "$port" -t none -path /sub -open 101)
      pub=(-port "$port" -path /pub) ;;
    *) echo "$me: unknown system $s" >&2; return 1 ;;
  esac
  mkfifo "$ctl"
  exec 4<>"$ctl"
  "$bin/wsbench" -n "$N" -pid "${pid:-$spids}" "${args[@]}" -ctl "$ctl" -i 100 -src "$src" \
    >"$log" 2>"$log.err" &
  client=$!
  for _ in $(seq 1800); do
    grep -q '^ready:' "$log" 2>/dev/null && break
    kill -0 "$client" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q '^ready:' "$log"; then
    echo "$me: ($s) the clients did not open:" >&2
    cat "$log" "$log.err" >&2
    exec 4>&-; stop_client; stop_tomcat; stop_server
    return 1
  fi
  sed 's/^/   /' "$log"
  quiet
  local rate seq0=0 out w held="- -" kept="- -" broke= rows=()
  for rate in $RATES; do
    local s0 c0 p0 b0 s1 c1 b1
    echo mark >&4
    s0=$(ticks $spids); c0=$(ticks "$client"); b0=$(busy)
    out=$("$bin/pubbench" "${pub[@]}" -rate "$rate" -seconds "$STEP_S" -seq0 "$seq0" -size "$SIZE" -conns 128 \
          2>>"$work/pub.err") || true
    seq0=$((seq0 + rate * STEP_S))
    local sent ok secs pcpu
    sent=$(sed -n 's/^published: \([0-9]*\) of.*/\1/p' <<<"$out")
    ok=$(sed -n 's/.*, 2xx \([0-9]*\),.*/\1/p' <<<"$out")
    secs=$(sed -n 's/.* due in \([0-9.]*\) s,.*/\1/p' <<<"$out")
    pcpu=$(sed -n 's/.*, CPU \([0-9]*\) ms$/\1/p' <<<"$out")
    echo "report $rate ${sent:-0}" >&4
    for _ in $(seq 400); do
      grep -q "^window: $rate " "$log" && break
      kill -0 "$client" 2>/dev/null || break
      sleep 0.1
    done
    s1=$(ticks $spids); c1=$(ticks "$client"); b1=$(busy)
    w=$(grep "^window: $rate " "$log" || true)
    if [ -z "$w" ] || [ -z "$sent" ]; then
      echo "$me: ($s) no figures for $rate/s: ${out:-no publisher output}" >&2
      tail -3 "$log.err" "$work/pub.err" >&2
      break
    fi
    local d e p50 p99 dps lost
    d=$(sed -n 's/.* deliveries \([0-9]*\) of.*/\1/p' <<<"$w")
    e=$(sed -n 's/.* of \([0-9]*\), latency.*/\1/p' <<<"$w")
    p50=$(sed -n 's/.* p50 \([0-9.]*\) ms.*/\1/p' <<<"$w")
    p99=$(sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p' <<<"$w")
    lost=$(sed -n 's/.* lost \([0-9]*\)$/\1/p' <<<"$w")
    dps=$(awk -v d="$d" -v t="$secs" 'BEGIN { printf "%.0f", d / t }')
    rows+=("$(awk -v r="$rate" -v n="$sent" -v ok="$ok" -v d="$d" -v e="$e" -v a="$p50" -v b="$p99" \
      -v dps="$dps" -v sv=$((s1 - s0)) -v cl=$((c1 - c0)) -v pc="${pcpu:-0}" -v bz=$((b1 - b0)) -v t="$TCK" \
      'BEGIN { o = bz / t - sv / t - cl / t - pc / 1000; if (o < 0) o = 0
               printf "%8d %9d %5d %11d/%-11d %8.2f %8.2f %12d %8.2f %8.2f %8.2f %8.2f",
                      r, n, n - ok, d, e, a, b, dps, sv / t, cl / t, pc / 1000, o }')")
    if [ "$d" -lt "$e" ] || [ "$ok" != "$sent" ] || [ "${lost:-0}" -gt 0 ]; then
      rows[-1]+="  lost: not held"
      break
    fi
    if awk -v b="$p99" -v m="$P99_MAX_MS" 'BEGIN { exit !(b > m) }'; then
      broke=1
      rows[-1]+="  p99 over $P99_MAX_MS ms"
    fi
    [ -n "$broke" ] || held="$rate $dps"
    awk -v b="$p99" -v m="$RAMP_MS" 'BEGIN { exit !(b > m) }' && break
    kept="$rate $dps"
  done
  echo "quit" >&4
  exec 4>&-
  wait "$client" 2>/dev/null || true
  client=
  stop_tomcat; stop_server
  HELD[$s,$r]=$held
  KEPT[$s,$r]=$kept
  echo
  echo "${NAME[$s]}, round $r: $N subscribers, $SIZE B broadcasts, $STEP_S s a step"
  printf '%8s %9s %5s %23s %8s %8s %12s %8s %8s %8s %8s\n' rate/s published fail \
    delivered/expected p50-ms p99-ms deliveries/s server-s client-s pub-s others-s
  printf '%s\n' "${rows[@]}"
  echo "highest rate held: ${held% *}/s, ${held#* } deliveries/s"
  [ "$RAMP_MS" = "$P99_MAX_MS" ] ||
    echo "highest rate with every delivery and p99 at most $RAMP_MS ms: ${kept% *}/s, ${kept#* } deliveries/s"
}

echo "sustained: N=$N subscribers, $SIZE B broadcasts at $RATES a second, $STEP_S s each," \
  "$ROUNDS round(s) of: $SYSTEMS; $(nproc) cores shared by the servers, the client and the publisher"
echo "load before: $(uptime)"
t0=$SECONDS
src=2
for r in $(seq "$ROUNDS"); do
  for s in $SYSTEMS; do
    run_system "$s" "$r" "$src" || true
    src=$((src + (N + 4999) / 5000 + 1))
    sleep 2
  done
done

# summary ARRAY TITLE: each system's and round's figures, then the
# ratios of the means over the rounds to each nchan run's.
summary() {
  local -n fig=$1
  local s r ns nrate ndps a b
  echo
  echo "$2, $N subscribers, $SIZE B, $(date -u +%Y-%m-%d):"
  for s in $SYSTEMS; do
    for r in $(seq "$ROUNDS"); do
      local v=${fig[$s,$r]:-- -}
      printf '%-36s round %s: %6s/s, %10s deliveries/s\n' "${NAME[$s]:-$s}" "$r" "${v% *}" "${v#* }"
    done
  done
  mean() {   # mean SYS FIELD(1 rate, 2 deliveries/s)
    local q xs=()
    for q in $(seq "$ROUNDS"); do xs+=("$(cut -d' ' -f"$2" <<<"${fig[$1,$q]:--}")"); done
    printf '%s\n' "${xs[@]}" | awk '$1 != "-" { s += $1; n++ } END { if (n) printf "%.1f", s / n }'
  }
  for ns in $SYSTEMS; do
    case $ns in nchan|nchan-*w) ;; *) continue ;; esac
    nrate=$(mean "$ns" 1); ndps=$(mean "$ns" 2)
    [ -n "$nrate" ] && [ "$nrate" != 0.0 ] || continue
    for s in $SYSTEMS; do
      case $s in nchan|nchan-*w) continue ;; esac
      a=$(mean "$s" 1); b=$(mean "$s" 2)
      [ -n "$a" ] && awk -v n="${NAME[$s]:-$s}" -v m="${NAME[$ns]}" -v a="$a" -v b="$b" -v c="$nrate" -v d="$ndps" \
        'BEGIN { printf "%s / %s: rate %.2f, deliveries/s %.2f\n", n, m, a / c, b / d }'
    done
  done
  # Each system's share of the floor's figures, round by round.
  case " $SYSTEMS " in *" floor "*) ;; *) return 0 ;; esac
  for r in $(seq "$ROUNDS"); do
    local f=${fig[floor,$r]:-- -}
    case ${f% *} in -|0) continue ;; esac
    for s in $SYSTEMS; do
      [ "$s" != floor ] || continue
      a=${fig[$s,$r]:-- -}
      [ "${a% *}" != - ] || continue
      awk -v n="${NAME[$s]:-$s}" -v r="$r" -v a="${a% *}" -v b="${a#* }" -v c="${f% *}" -v d="${f#* }" \
        'BEGIN { printf "%s / floor, round %s: rate %.2f, deliveries/s %.2f\n", n, r, a / c, b / d }'
    done
  done
  return 0
}
summary HELD "highest rate held (p99 at most $P99_MAX_MS ms, nothing lost)"
[ "$RAMP_MS" = "$P99_MAX_MS" ] || summary KEPT "highest rate with every delivery and p99 at most $RAMP_MS ms"
echo "load after: $(uptime); $((SECONDS - t0)) s"
