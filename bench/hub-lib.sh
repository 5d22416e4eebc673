# bench/hub-lib.sh - sourced by the hub benchmarks: builds $bin/hubbench
# (make -C native bench-clients), starts a redis-server and comet4j-node
# processes on it (docs/protocol.md section 9) and hubbench subscribers on
# them, and stops every process it started on exit or interrupt (then runs
# the commands in $undo, e.g. a sysctl put back).
# After start_redis: $redis_url.  start_node NAME [FLAG VALUE]...: sets
# ${NAME}_port and ${NAME}_pid, log in $work/NAME.log.  start_sub I PORT N
# ADDR [OPTION VALUE]...: N subscribers on PORT from 127.0.ADDR/256.ADDR%256
# on (hubbench sub), pid in sub_pid[I], output in $work/subI.*; sub_ready
# I: how many of them opened; subs_finish: waits for them to end, prints
# their sub: lines, sets $subs_got (clients with the broadcast).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=bench/out
mkdir -p "$out"
NODE=${C4J_NODE:-native/build/comet4j-node}
[ -x "$NODE" ] || { echo "$NODE is missing: mvn -q install -DskipTests (or make -C native node)" >&2; exit 1; }
bin=native/build/release
make -s -C native bench-clients
SECRET=bench-hub-secret-0123456789abcdef
API_KEY=bench-hub-api-key-0123456789

work=$(mktemp -d)
pids=()
undo=()
# Clients first (they exit at once), then the nodes and redis-server; what
# has not ended 30 s later is killed.
cleanup() {
  local p left
  trap - INT TERM HUP
  for p in "${sub_pid[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 300); do
    left=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null && echo "killed $p: it had not ended 30 s after SIGTERM" >&2; done
  wait 2>/dev/null || true
  for u in "${undo[@]}"; do eval "$u"; done
  rm -rf "$work"
}
declare -a sub_pid=()
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# waits up to $2 tenths of a second for file $1 to hold pattern $3
wait_grep() {
  for _ in $(seq "$2"); do grep -q -- "$3" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

start_redis() {
  local port; port=$(free_port)
  redis-server --save '' --appendonly no --bind 127.0.0.1 --port "$port" \
    --dir "$work" >"$work/redis.log" 2>&1 &
  pids+=($!)
  wait_grep "$work/redis.log" 100 'Ready to accept' || { cat "$work/redis.log"; exit 1; }
  redis_url=redis://127.0.0.1:$port/0
  redis_pid=${pids[-1]}
}

start_node() {
  local name=$1; shift
  local port; port=$(free_port)
  "$NODE" --host 127.0.0.1 --port "$port" --secret "$SECRET" --api-key "$API_KEY" \
    --hub "$redis_url" "$@" 2>"$work/$name.log" &
  local pid=$!
  pids+=("$pid")
  wait_grep "$work/$name.log" 100 'listening on port' || { echo "$name:"; cat "$work/$name.log"; exit 1; }
  printf -v "${name}_port" '%s' "$port"
  printf -v "${name}_pid" '%s' "$pid"
}

# cpu_ms PID: user + system CPU time of a process so far, ms.
cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / t)}' "/proc/$1/stat" 2>/dev/null || echo 0; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# start_sub I PORT N ADDR [OPTION VALUE]...: hubbench sub of N clients on
# PORT (the hub's secret, one broadcast), bound to source addresses from
# 127.0.ADDR/256.ADDR%256 on.
start_sub() {
  local i=$1 port=$2 n=$3 addr=$4; shift 4
  "$bin/hubbench" sub -p "$port" -s "$SECRET" -n "$n" -m 1 -addr "$addr" "$@" \
    >"$work/sub$i.out" 2>"$work/sub$i.err" &
  sub_pid[$i]=$!; pids+=("${sub_pid[$i]}")
}

# sub_ready I: how many of subscriber process I's clients opened (its
# ready line), empty before it.
sub_ready() { sed -n 's/^ready \([0-9]*\) of.*/\1/p' "$work/sub$1.out" 2>/dev/null; }

# subs_finish SECONDS: every subscriber process reports (and ends, unless
# -stay) once each of its clients has the broadcast; those still waiting
# after SECONDS report what they have.  Prints each one's sub: line;
# $subs_got: the clients that got it.
subs_finish() {
  local i f waiting line g
  for _ in $(seq $(($1 * 5))); do
    waiting=0
    # One grep a round (not one a process: they would take the CPU the
    # deliveries need); a process gone without its report waits no more.
    for f in $(grep -L '^sub:' "$work"/sub*.out); do
      i=${f##*/sub}; i=${i%.out}
      kill -0 "${sub_pid[$i]}" 2>/dev/null && waiting=1
    done
    [ "$waiting" = 0 ] && break
    sleep 0.2
  done
  subs_got=0
  for i in "${!sub_pid[@]}"; do
    kill -TERM "${sub_pid[$i]}" 2>/dev/null || true
    wait "${sub_pid[$i]}" || true
    line=$(grep '^sub:' "$work/sub$i.out" || echo "sub: no report")
    echo "node $i clients: $line"
    g=$(sed -n 's/.*, \([0-9]*\) with all 1 messages.*/\1/p' "$work/sub$i.out")
    subs_got=$((subs_got + ${g:-0}))
  done
}
