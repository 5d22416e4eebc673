#!/usr/bin/env bash
# Half a million connections on one machine (issue 15, item 7): N WebSocket
# connections held across ceil(N / PER_NODE) comet4j-node processes linked
# through one redis-server (no process above its 20,000 open files), one
# hubbench subscriber process per node bound to its own 127.x source
# addresses (PER_ADDR a source address, under the ephemeral ports), all on
# loopback; then one broadcast, published through the first node's HTTP
# API, that every connection must receive.
#
# Before anything starts it prints what the machine allows (open files per
# process and in all, ephemeral ports, somaxconn, tcp_mem, conntrack, epoll
# watches, memory): a sysctl too low for N is raised for the run when the
# script may (root) and put back at the end, each change printed; else N
# is lowered to the largest the limit allows, which is printed.
#
# The clients open in steps of STEP_NODES nodes' clients at once; a step
# has STEP_S seconds (C4J_MANY_STEP_S, default 180): clients that neither
# opened nor failed by then are given up on and said (hubbench's stuck:
# lines).  Then, idle: the nodes' and the clients' RSS growth per
# connection, and the kernel's (Slab and SUnreclaim of /proc/meminfo, TCP
# pages of /proc/net/sockstat: both ends of every loopback connection are
# this machine's, so a connection is two sockets); then the broadcast:
# how many got it, from its publish (the time in the message) to the
# median and to the last client, and the kernel's TCP pages at the peak.
# The clients stay connected until every one has reported (a process that
# closed its 18,000 would load the nodes while others still deliver).
# Everything started is stopped at the end and on interrupt.
#
# Usage: bench/many-nodes.sh [N=500000] [PER_NODE=18000] [THREADS=1] [STEP_NODES=4]
N=${1:-500000}; PER_NODE=${2:-18000}; THREADS=${3:-1}; STEP_NODES=${4:-4}
STEP_S=${C4J_MANY_STEP_S:-180}; PER_ADDR=${C4J_MANY_PER_ADDR:-6000}
source "$(dirname "$0")/hub-lib.sh"

# ---- what the machine allows --------------------------------------------

sys() { cat "/proc/sys/${1//.//}" 2>/dev/null | tr -s '\t ' ' '; }
meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }
root=0; [ "$(id -u)" = 0 ] && [ -w /proc/sys/net/core/somaxconn ] && root=1
limit_n=$N; limit_why=""
# cap_n LARGEST WHY: N cannot pass LARGEST on this machine because of WHY.
cap_n() {
  if [ "$1" -lt "$limit_n" ]; then limit_n=$1; limit_why=$2; fi
}
# raise KEY VALUE WHY: sets the sysctl for the run (put back on exit) when
# root; returns 1 when it cannot.
raise() {
  local old; old=$(sys "$1")
  [ "$root" = 1 ] || return 1
  sysctl -q -w "$1=$2" >/dev/null || return 1
  undo+=("sysctl -q -w '$1=$old' >/dev/null && echo 'many-nodes: $1 put back to $old'")
  echo "  raised $1 from '$old' to '$2' for this run ($3)"
}

echo "many-nodes: the machine ($(nproc) cores, $(( $(meminfo MemTotal) / 1024 )) MiB, load $(cut -d' ' -f1-3 /proc/loadavg))"
free -m | sed 's/^/  /'
files=$(ulimit -n)
if [ "$(ulimit -Hn)" != unlimited ] && [ "$files" -lt "$(ulimit -Hn)" ]; then
  ulimit -n "$(ulimit -Hn)" && echo "  raised ulimit -n from $files to its hard limit $(ulimit -n) for this run's processes"
  files=$(ulimit -n)
fi
echo "  open files per process (ulimit -n): $files (hard $(ulimit -Hn)); fs.nr_open $(sys fs.nr_open)"
# A node keeps 256 descriptors for itself (listener.c's FD_RESERVE).
if [ $((PER_NODE + 320)) -gt "$files" ]; then
  PER_NODE=$((files - 320))
  echo "  PER_NODE lowered to $PER_NODE: a node keeps 256 files for itself below ulimit -n"
fi
read -r fmax <<<"$(sys fs.file-max)"; read -r fused _ <<<"$(sys fs.file-nr)"
need=$((2 * N + fused + 20000))
echo "  fs.file-max $fmax, $fused open now: N connections need $need (both ends on this machine)"
if [ "$fmax" -lt "$need" ] && ! raise fs.file-max "$need" "2 files a connection"; then
  cap_n $(( (fmax - fused - 20000) / 2 )) "fs.file-max $fmax"
fi
read -r plo phi <<<"$(sys net.ipv4.ip_local_port_range)"
ports=$((phi - plo + 1))
[ "$PER_ADDR" -gt 25000 ] && PER_ADDR=25000
[ "$PER_ADDR" -gt $((ports - 2000)) ] && PER_ADDR=$((ports - 2000))
echo "  net.ipv4.ip_local_port_range $plo-$phi: $ports ports a source address; $PER_ADDR clients a source address"
somax=$(sys net.core.somaxconn)
echo "  net.core.somaxconn $somax (a node's listen queue; a client process has 256 handshakes in flight); net.ipv4.tcp_max_syn_backlog $(sys net.ipv4.tcp_max_syn_backlog)"
if [ "$somax" -lt 1024 ]; then
  raise net.core.somaxconn 4096 "the handshakes in flight" ||
    echo "  somaxconn below 1024: handshakes beyond it wait for the SYN's retransmission (slower ramp, not a limit)"
fi
backlog=$(sys net.core.netdev_max_backlog)
# Every loopback packet waits in its CPU's input queue: a node's burst of
# writes to its clients (and their ACKs) beyond it is dropped and comes
# again a retransmission (200 ms or more) later.
echo "  net.core.netdev_max_backlog $backlog (the loopback's input queue a CPU; a node writes to $PER_NODE clients in one burst)"
if [ "$backlog" -lt $((2 * PER_NODE)) ]; then
  raise net.core.netdev_max_backlog $((2 * PER_NODE)) "a node's burst and its ACKs" ||
    echo "  below $((2 * PER_NODE)): the broadcast's packets beyond it are dropped and retransmitted (a slower last client, not a limit)"
fi
read -r tlo tpr thi <<<"$(sys net.ipv4.tcp_mem)"
# A broadcast queues one small skb at each end of every connection while
# the clients catch up: about a page a connection at the peak.
echo "  net.ipv4.tcp_mem $tlo $tpr $thi pages (pressure from $tpr, nothing more above $thi): the broadcast needs about $N at the peak"
if [ "$thi" -lt "$N" ] || [ "$tpr" -lt $((N / 2)) ]; then
  new="$((tlo > N / 4 ? tlo : N / 4)) $((tpr > N ? tpr : N)) $((thi > 2 * N ? thi : 2 * N))"
  raise net.ipv4.tcp_mem "$new" "TCP's memory at the broadcast's peak" || cap_n "$thi" "net.ipv4.tcp_mem's maximum, $thi pages"
fi
if [ -r /proc/sys/net/netfilter/nf_conntrack_max ]; then
  ctmax=$(sys net.netfilter.nf_conntrack_max); ctnow=$(sys net.netfilter.nf_conntrack_count)
  if [ "$ctnow" -gt 0 ]; then
    echo "  net.netfilter.nf_conntrack_max $ctmax, $ctnow tracked now: loopback connections are tracked, one entry each"
    if [ "$ctmax" -lt $((N + ctnow + 10000)) ]; then
      raise net.netfilter.nf_conntrack_max $((N + ctnow + 10000)) "one entry a connection" ||
        cap_n $((ctmax - ctnow - 10000)) "net.netfilter.nf_conntrack_max $ctmax"
    fi
  else
    echo "  net.netfilter.nf_conntrack_max $ctmax: nf_conntrack is loaded but tracks nothing (0 entries): not a limit"
  fi
else
  echo "  nf_conntrack: not loaded"
fi
watches=$(sys fs.epoll.max_user_watches)
echo "  fs.epoll.max_user_watches $watches (one a socket, every process of the user)"
if [ "$watches" -lt $((2 * N + 20000)) ]; then
  raise fs.epoll.max_user_watches $((2 * N + 20000)) "one a socket" ||
    cap_n $(( (watches - 20000) / 2 )) "fs.epoll.max_user_watches $watches"
fi
avail=$(meminfo MemAvailable)
# About 1.6 KB a connection in the node, 1.8 KB in the client, 10 KB in
# the kernel (bench/README.md).
echo "  MemAvailable $((avail / 1024)) MiB: about $((N * 14 / 1024)) MiB needed (14 KB a connection: node, client, kernel)"
cap_n $((avail / 14 * 9 / 10)) "memory: MemAvailable $((avail / 1024)) MiB at 14 KB a connection"
if [ "$limit_n" -lt "$N" ]; then
  echo "many-nodes: N=$N cannot be reached here: $limit_why; the largest reachable is about $limit_n: running that"
  N=$limit_n
fi

# ---- the nodes and the clients --------------------------------------------

NODES=$(( (N + PER_NODE - 1) / PER_NODE ))
ADDRS=$(( (PER_NODE + PER_ADDR - 1) / PER_ADDR ))      # source addresses a node's clients use
base=$(( 256 * (1 + RANDOM % 200) + 2 ))               # a fresh 127.0.x range a run: no TIME_WAIT met
STEPS=$(( (NODES + STEP_NODES - 1) / STEP_NODES ))
LIFE=$(( STEPS * (STEP_S + 30) + 300 ))                 # a client process's whole life, at most
echo "many-nodes: N=$N WebSocket connections: $NODES nodes (Comet.Threads=$THREADS) on one redis-server," \
  "one client process a node on $ADDRS source address(es) of its own, from 127.0.$((base / 256)).$((base % 256)), $STEPS steps of $STEP_NODES nodes, $STEP_S s each at most"

# kernel: Slab kB, SUnreclaim kB, TCP sockets in use, TCP pages.
kernel() {
  echo "$(meminfo Slab) $(meminfo SUnreclaim) $(awk '/^TCP:/ {print $3, $NF}' /proc/net/sockstat)"
}
# loopback packets dropped at the backlog (softnet_stat's 2nd column, every CPU),
# listen queue overflows, retransmitted segments.
drops() {
  local s=0 cpu d
  while read -r cpu d _; do s=$((s + 0x$d)); done </proc/net/softnet_stat
  echo "$s" \
    "$(awk '/^TcpExt:/ {if (!h) {for (i = 1; i <= NF; i++) c[$i] = i; h = 1} else print $c["ListenOverflows"]}' /proc/net/netstat)" \
    "$(awk '/^Tcp:/ {if (!h) {for (i = 1; i <= NF; i++) c[$i] = i; h = 1} else print $c["RetransSegs"]}' /proc/net/snmp)"
}
# cpus PID...: their CPU time so far, ms, summed.
cpus() { local p t=0; for p in "$@"; do t=$((t + $(cpu_ms "$p"))); done; echo "$t"; }
read -r slab0 sunr0 tcpuse0 tcpmem0 <<<"$(kernel)"
read -r bdrop0 lover0 retr0 <<<"$(drops)"

start_redis
redis0=$(rss_kb "$redis_pid")
declare -a port pid rss0 want
for i in $(seq 0 $((NODES - 1))); do
  want[$i]=$(( N / NODES + (i < N % NODES ? 1 : 0) ))
  # The clients come from a few addresses (loopback), each with 256
  # handshakes in flight: the per-address cap on unfinished requests, which
  # applies above half full, would refuse them; it guards against one
  # address holding many sockets open without a request, not tested here.
  # So does the request's deadline, which shrinks as a node fills: at
  # 18,000 of its ~19,700 places the default's 10 s is 1.8 s, and clients
  # starved of CPU on a loaded machine (load 50 in one run) missed it
  # (408): 60 s gives them 10 s there.
  start_node "n$i" --threads "$THREADS" --max-pending-per-address 0 --handshake-timeout 60000
  eval "port[$i]=\$n${i}_port pid[$i]=\$n${i}_pid"
  rss0[$i]=$(rss_kb "${pid[$i]}")
done
echo "many-nodes: $NODES nodes up, RSS $(( $(IFS=+; echo "${rss0[*]}") )) kB in all; redis-server $(rss_kb "$redis_pid") kB"

held=0; failed=0; stuck=0; t0=$SECONDS
for s in $(seq 0 $((STEPS - 1))); do
  first=$((s * STEP_NODES)); last=$((first + STEP_NODES - 1)); [ "$last" -ge "$NODES" ] && last=$((NODES - 1))
  ts=$SECONDS; asked=0
  for i in $(seq "$first" "$last"); do
    start_sub "$i" "${port[$i]}" "${want[$i]}" $((base + i * ADDRS)) -per-addr "$PER_ADDR" \
      -ready-T "$STEP_S" -T "$LIFE" -idle 10000 -hist "$work/hist$i" -stay 1
    asked=$((asked + want[i]))
  done
  for i in $(seq "$first" "$last"); do
    if ! wait_grep "$work/sub$i.out" $(( (STEP_S + 20) * 10 )) '^ready'; then
      echo "many-nodes: the clients of node $i said nothing in $((STEP_S + 20)) s:"; tail -5 "$work/sub$i.err"
      kill -0 "${pid[$i]}" 2>/dev/null || { echo "node $i died:"; tail -5 "$work/n$i.log"; }
      exit 1
    fi
  done
  got=0
  for i in $(seq "$first" "$last"); do
    got=$((got + $(sub_ready "$i")))
    read -r f k <<<"$(sed -n 's/^ready .*open, \([0-9]*\) failed, \([0-9]*\) stuck.*/\1 \2/p' "$work/sub$i.out")"
    failed=$((failed + f)); stuck=$((stuck + k))
    if [ "$f$k" != 00 ]; then
      { grep -h '^stuck:' "$work/sub$i.out" || true; head -3 "$work/sub$i.err"; } | sed "s/^/  node $i: /"
    fi
  done
  held=$((held + got)); dt=$((SECONDS - ts))
  read -r slab sunr tcpuse tcpmem <<<"$(kernel)"
  echo "step $((s + 1))/$STEPS: nodes $first-$last, $got of $asked open in $dt s ($((got / (dt > 0 ? dt : 1))) a second);" \
    "$held open in all, $failed failed, $stuck stuck; kernel: Slab +$(( (slab - slab0) / 1024 )) MiB," \
    "$((tcpuse - tcpuse0)) more TCP sockets; load $(cut -d' ' -f1 /proc/loadavg), MemAvailable $(( $(meminfo MemAvailable) / 1024 )) MiB"
done
echo "many-nodes: $held of $N connections open in $((SECONDS - t0)) s ($failed failed, $stuck stuck)"

# ---- memory, idle -----------------------------------------------------------

c0=$(cpus "${pid[@]}"); s0=$(cpus "${sub_pid[@]}"); r0=$(cpus "$redis_pid"); tt=$(date +%s%N)
sleep 5
tt=$(( ($(date +%s%N) - tt) / 10000000 ))   # hundredths of a second: ms / tt is % of a core
idle_cpu="nodes $(( ($(cpus "${pid[@]}") - c0) / tt ))%, clients $(( ($(cpus "${sub_pid[@]}") - s0) / tt ))%, redis-server $(( ($(cpus "$redis_pid") - r0) / tt ))% of a core"
node_kb=0; client_kb=0
for i in $(seq 0 $((NODES - 1))); do
  r=$(rss_kb "${pid[$i]}") || { echo "node $i died: $(tail -3 "$work/n$i.log")"; exit 1; }
  node_kb=$((node_kb + r - rss0[i]))
  c0=$(sed -n 's/^ready .*rss \([0-9]*\) kB at start.*/\1/p' "$work/sub$i.out")
  client_kb=$((client_kb + $(rss_kb "${sub_pid[$i]}") - c0))
done
read -r slab sunr tcpuse tcpmem <<<"$(kernel)"
per() { echo $(( $1 * 1024 / (held > 0 ? held : 1) )); }
echo "memory, $held idle connections:"
echo "  user space: nodes' RSS +$((node_kb / 1024)) MiB: $(per "$node_kb") bytes a connection;" \
  "clients' RSS +$((client_kb / 1024)) MiB: $(per "$client_kb") bytes a connection;" \
  "redis-server's RSS +$(( ($(rss_kb "$redis_pid") - redis0) / 1024 )) MiB: $(per $(( $(rss_kb "$redis_pid") - redis0 ))) bytes a connection (the cluster's map of connections)"
echo "  CPU while idle (the heartbeats: a ping every 25 s a connection): $idle_cpu"
echo "  kernel (both ends of each loopback connection, $((tcpuse - tcpuse0)) more TCP sockets):" \
  "Slab +$(( (slab - slab0) / 1024 )) MiB: $(per $((slab - slab0))) bytes a connection, about $(( $(per $((slab - slab0))) / 2 )) a server-side socket;" \
  "SUnreclaim +$(( (sunr - sunr0) / 1024 )) MiB: $(per $((sunr - sunr0))) bytes a connection;" \
  "TCP memory +$((tcpmem - tcpmem0)) pages: $(per $(( (tcpmem - tcpmem0) * 4 ))) bytes a connection"

# ---- the broadcast ----------------------------------------------------------

peak=$tcpmem
c0=$(cpus "${pid[@]}"); s0=$(cpus "${sub_pid[@]}")
# Every 0.1 s: ms since the publish, TCP's pages, the nodes' CPU and the
# machine's busy CPU time (/proc/stat: all but idle and iowait), ms.
stats=(); for p in "${pid[@]}"; do stats+=("/proc/$p/stat"); done
tick=$(getconf CLK_TCK); tp=$(date +%s%N)
busy() { awk -v t="$tick" '/^cpu / {print int(($2 + $3 + $4 + $7 + $8 + $9) * 1000 / t)}' /proc/stat; }
m0=$(busy)
( while :; do
    echo "$(( ($(date +%s%N) - tp) / 1000000 )) $(awk '/^TCP:/ {print $NF}' /proc/net/sockstat)" \
      "$(cat "${stats[@]}" | awk -v t="$tick" '{s += $14 + $15} END {print int(s * 1000 / t)}') $(busy)"
    sleep 0.1
  done ) >"$work/samples" &
sampler=$!; pids+=("$sampler")
"$bin/hubbench" pub -p "${port[0]}" -k "$API_KEY" -count 1 -c 1 -addr $((base - 1))
subs_finish 120 >"$work/finish"
s1=$(sed -n 's/.*; cpu \([0-9]*\) ms.*/\1/p' "$work/finish" | paste -sd+ | bc)
kill "$sampler" 2>/dev/null || true
peak=$(awk '{print $2}' "$work/samples" | sort -n | tail -1)
# Only the client processes where some missed it.
grep -v ', 0 with none;' "$work/finish" || true
read -r bdrop lover retr <<<"$(drops)"
maxd=$(sed -n 's/.*max \([0-9.]*\) ms.*/\1/p' "$work"/sub*.out | sort -g | tail -1)
# The delays of all clients: the histograms merged, 10 us buckets.
read -r p50 p99 <<<"$(cat "$work"/hist* 2>/dev/null | sort -n | awk '
  {b[NR] = $1; c[NR] = $2; t += $2}
  END {for (i = 1; i <= NR; i++) {s += c[i]; if (!m && 2 * s >= t) m = b[i]; if (!q && 100 * s >= 99 * t) q = b[i]}
       printf "%.2f %.2f\n", m / 1000, q / 1000}')"
echo "broadcast: received by $subs_got of $held connections open ($N asked);" \
  "from the publish to the median client $p50 ms, p99 $p99 ms, to the last ${maxd:-?} ms;" \
  "kernel TCP memory at the peak +$((peak - tcpmem0)) pages ($(per $(( (peak - tcpmem0) * 4 ))) bytes a connection)"
first=$(sed -n 's/.*min \([0-9.]*\) ms.*/\1/p' "$work"/sub*.out | sort -g | sed -n '1p;$p' | paste -sd' ')
lasts=$(sed -n 's/.*max \([0-9.]*\) ms.*/\1/p' "$work"/sub*.out | sort -g | sed -n '1p;$p' | paste -sd' ')
echo "the nodes' clients: the first delivery of a node from ${first/ / to } ms; the last of a node from ${lasts/ / to } ms"
# Column COL of the last sample at most T ms after the publish, less BASE.
by() { awk -v t="$1" -v k="$2" -v b="$3" '$1 <= t {v = $k} END {print (v ? v - b : 0)}' "$work/samples"; }
last=${maxd%.*}
echo "CPU from the publish to the last client ($last ms, sampled every 0.1 s): the machine busy $(by "$last" 4 "$m0") ms" \
  "of $((2 * last)) (every process's, the kernel's softirq work included), the nodes $(by "$last" 3 "$c0") ms as charged to them" \
  "($(by "${p50%.*}" 3 "$c0") ms by the median client), the clients $((s1 - s0)) ms (to their reports)"
echo "kernel meanwhile: $((bdrop - bdrop0)) loopback packets dropped at the backlog, $((lover - lover0)) listen queue overflows, $((retr - retr0)) segments retransmitted"
for i in $(seq 0 $((NODES - 1))); do
  kill -0 "${pid[$i]}" 2>/dev/null || echo "node $i died: $(tail -3 "$work/n$i.log")"
  { grep -hE 'WARN|ERROR' "$work/n$i.log" || true; } | tail -2 | sed "s/^/node $i: /"
done
echo "many-nodes: N=$N, $held held, $subs_got got the broadcast, last after ${maxd:-?} ms (median $p50 ms);" \
  "user space $(per "$node_kb") B (nodes) + $(per "$client_kb") B (clients), kernel $(per $((slab - slab0))) B (Slab, both ends) a connection"
