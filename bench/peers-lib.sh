# bench/peers-lib.sh - sourced after bench/modes-lib.sh by bench/peers.sh
# and bench/sustained.sh: the peers they both start on loopback, each on a
# free port (comet4j-node with its tickets, nchan in Debian's nginx), and
# their helpers.  After start_node or start_nchan: $port, $server (the
# process to stop, stop_server) and $pid (the one whose memory is read).
# The caller sets $me (its name, for the messages).  comet4j-node's part
# is bench/node-lib.sh's.
source "$(dirname "${BASH_SOURCE[0]}")/node-lib.sh"
NCHAN_MODULE=/usr/share/nginx/modules/ngx_nchan_module.so
{ command -v nginx >/dev/null && [ -f "$NCHAN_MODULE" ]; } ||
  { echo "$me: no nginx with nchan: .ci/install-bench" >&2; exit 1; }
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
