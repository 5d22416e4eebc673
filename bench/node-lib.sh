# bench/node-lib.sh - sourced by bench/peers-lib.sh and bench/deflate.sh:
# comet4j-node on a free port and the tickets it takes, and their helpers.
# After start_node: $port, $server (the process to stop) and $pid (the one
# whose memory and CPU are read).  The caller sets $me (its name, for the
# messages) and $work, and has free_port (bench/modes-lib.sh's or its own).
NODE=${C4J_NODE:-native/build/comet4j-node}
[ -x "$NODE" ] || { echo "$me: $NODE is missing: mvn -q install -DskipTests" >&2; exit 1; }
SECRET=bench-node-secret-0123456789abcdef
API_KEY=bench-node-api-key-0123456789

cpu_s() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }

# wait_for FILE PATTERN: up to 20 s for FILE to hold PATTERN.
wait_for() {
  for _ in $(seq 200); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "$me: $1 never said $2:" >&2; tail -20 "$1" >&2
  return 1
}

# start_node LOG [FLAG...]: comet4j-node (2 threads, its HTTP API keyed
# with $API_KEY, and the FLAGs), its log in LOG.
start_node() {
  port=$(free_port)
  "$NODE" --host 127.0.0.1 --port "$port" --secret "$SECRET" --api-key "$API_KEY" --threads 2 \
    --idle-timeout 600000 --heartbeat 300000 --max-pending-per-address 0 \
    --max-connections 100000 "${@:2}" 2>"$1" &
  server=$!; pid=$server
  wait_for "$1" 'listening on port'
}

# mint N: N tickets for comet4j-node, HS256 with its secret, channel bench.
mint() {
  python3 - "$SECRET" "$1" >"$work/tickets" <<'PY'
import base64, hashlib, hmac, json, os, sys, time
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=")
secret, n = sys.argv[1].encode(), int(sys.argv[2])
head = b(b'{"alg":"HS256","typ":"JWT"}')
exp = int(time.time()) + 3600
for _ in range(n):
    claims = json.dumps({"cid": b(os.urandom(16)).decode(), "exp": exp, "ch": ["bench"]},
                        separators=(",", ":")).encode()
    msg = head + b"." + b(claims)
    print((msg + b"." + b(hmac.new(secret, msg, hashlib.sha256).digest())).decode())
PY
}
