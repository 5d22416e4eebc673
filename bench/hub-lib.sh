# bench/hub-lib.sh - sourced by the hub benchmarks: builds $bin/hubbench
# (make -C native bench-clients), starts a redis-server and comet4j-node
# processes on it (docs/protocol.md section 9), and stops every process it
# started on exit.
# After start_redis: $redis_url.  start_node NAME [FLAG VALUE]...: sets
# ${NAME}_port and ${NAME}_pid, log in $work/NAME.log.
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
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

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
