# bench/peers-lib.sh - sourced after bench/modes-lib.sh by bench/peers.sh
# and bench/sustained.sh: the peers they both start on loopback, each on a
# free port (comet4j-node with its tickets, nchan in Debian's nginx), and
# their helpers.  After start_node or start_nchan: $port, $server (the
# process to stop, stop_server) and $pid (the one whose memory is read).
# The caller sets $me (its name, for the messages).
NODE=${C4J_NODE:-native/build/comet4j-node}
[ -x "$NODE" ] || { echo "$me: $NODE is missing: mvn -q install -DskipTests" >&2; exit 1; }
NCHAN_MODULE=/usr/share/nginx/modules/ngx_nchan_module.so
{ command -v nginx >/dev/null && [ -f "$NCHAN_MODULE" ]; } ||
  { echo "$me: no nginx with nchan: .ci/install-bench" >&2; exit 1; }
SECRET=bench-peers-secret-0123456789abcdef
API_KEY=bench-peers-api-key-0123456789
BODY_API='{"channel":"bench","data":%s}'

# The server started last that is not a Tomcat: node, nginx or ws-peer.
server=
stop_server() {
  [ -n "$server" ] || return 0
  kill -TERM "$server" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
}
stop_others() { stop_server; }

# wait_for FILE PATTERN: up to 20 s for FILE to hold PATTERN.
wait_for() {
  for _ in $(seq 200); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "$me: $1 never said $2:" >&2; tail -20 "$1" >&2
  return 1
}

cpu_s() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }

# start_node LOG: comet4j-node (2 threads, its HTTP API keyed with
# $API_KEY), its log in LOG.
start_node() {
  port=$(free_port)
  "$NODE" --host 127.0.0.1 --port "$port" --secret "$SECRET" --api-key "$API_KEY" --threads 2 \
    --idle-timeout 600000 --heartbeat 300000 --max-pending-per-address 0 \
    --max-connections 100000 2>"$1" &
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

# start_nchan LABEL [WORKERS=1]: nginx with nchan, its own configuration in
# $work/nchan-LABEL: subscribers on its websocket location /sub, publishes
# POSTed to /pub, one channel.  $pid is its first worker.
start_nchan() {
  local dir=$work/nchan-$1
  mkdir -p "$dir/tmp"
  port=$(free_port)
  cat >"$dir/nginx.conf" <<EOF
load_module $NCHAN_MODULE;
daemon off;
worker_processes ${2:-1};
worker_rlimit_nofile 20000;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 19000; }
http {
  access_log off;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  server {
    listen 127.0.0.1:$port backlog=4096;
    location = /pub { nchan_publisher; nchan_channel_id bench; }
    location = /sub { nchan_subscriber websocket; nchan_channel_id bench;
                      nchan_subscriber_first_message newest; }
  }
}
EOF
  nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/console.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/pub")" != 000 ] && break
    sleep 0.1
  done
  pid=$(pgrep -P "$server" | head -1)
  [ -n "$pid" ] || { echo "$me: nginx did not start:" >&2; cat "$dir/console.log" "$dir/error.log" >&2; return 1; }
}
