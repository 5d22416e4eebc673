#!/usr/bin/env bash
# test-node-hub.sh NODE CLIENT - two comet4j-node processes on one real
# redis-server (docs/protocol.md section 9): a publish, a send and the
# online count across nodes, a page's sub, unsub, pub and req onto the
# action queue, the presence map, start-up without Redis, and Redis killed and restarted
# mid-test.  Run by `make test` after test-node.sh, on the same sanitized
# build.  Ends with "test/node-hub: N passed, N failed".
set -u
NODE=$1 CLIENT=$2
REDIS=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
dir=$(mktemp -d)
rpid=; pid_a=; pid_b=; cpid_a=; cpid_b=
cleanup() {
  for p in $cpid_a $cpid_b; do kill "$p" 2>/dev/null; done
  for p in $pid_a $pid_b; do kill -9 "$p" 2>/dev/null; done
  [ -n "$rpid" ] && { kill "$rpid"; wait "$rpid"; } 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "  ok: $1"; }
bad() { fail=$((fail+1)); echo "  FAILED: $1"; [ -n "${2:-}" ] && sed 's/^/    | /' "$2" | tail -20; }
check() { if eval "$2"; then ok "$1"; else bad "$1" "${3:-}"; fi; }
finish() { echo "test/node-hub: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
# wait_for FILE PATTERN [TENTHS]: up to 10 s unless told
wait_for() { for _ in $(seq "${3:-100}"); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# until_eq TENTHS EXPECTED CMD...: runs CMD until it prints EXPECTED; the
# last output stays in $got.
until_eq() {
  local n=$1 want=$2; shift 2
  for _ in $(seq "$n"); do got=$("$@"); [ "$got" = "$want" ] && return 0; sleep 0.1; done
  return 1
}

if [ ! -x "$REDIS" ]; then
  bad "redis-server found (set REDIS_SERVER)"; finish
fi

secret=0123456789abcdef-node-hub-secret
key=test-api-key-0123456789
printf '%s\n' "$secret" > "$dir/secret"
printf '%s\n' "$key" > "$dir/key"

# ---- Redis on a free port ----
port_free() { ! (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start_redis() { # start_redis PORT: 0 once it accepts connections
  : > "$dir/redis.log"
  "$REDIS" --port "$1" --bind 127.0.0.1 --save '' --appendonly no \
    --logfile "$dir/redis.log" --daemonize no &
  rpid=$!
  for _ in $(seq 50); do
    grep -q "Ready to accept" "$dir/redis.log" 2>/dev/null && return 0
    kill -0 "$rpid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; rpid=
  return 1
}
rport=
for _ in $(seq 20); do
  p=$((20000 + RANDOM % 40000))
  port_free "$p" && start_redis "$p" && { rport=$p; break; }
done
if [ -z "$rport" ]; then
  bad "redis-server starts" "$dir/redis.log"; finish
fi
ok "redis-server on port $rport"
hub=redis://127.0.0.1:$rport

# rcmd ARG...: one Redis command over bash's /dev/tcp (redis-cli need not
# be installed); prints the reply's values one a line (RESP markers gone).
rcmd() {
  local req="*$#"$'\r\n' a out
  for a in "$@"; do req+="\$${#a}"$'\r\n'"$a"$'\r\n'; done
  req+='*1'$'\r\n''$4'$'\r\n''QUIT'$'\r\n'
  exec 3<>"/dev/tcp/127.0.0.1/$rport" || return 1
  printf '%s' "$req" >&3
  out=$(timeout 2 cat <&3)
  exec 3<&-
  printf '%s\n' "$out" | tr -d '\r' | sed -e '/^[*$]/d' -e 's/^[:+]//' | sed '$d'
}

# ---- start-up without Redis ----
dead=1
while ! port_free "$dead"; do dead=$((dead + 1)); done
timeout 20 "$NODE" --port 0 --secret-file "$dir/secret" --hub "redis://127.0.0.1:$dead" \
  2> "$dir/dead.err"; rc=$?
check "Redis unreachable at start: exits non-zero naming Comet.Hub" \
  '[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "Comet.Hub" "$dir/dead.err"' "$dir/dead.err"

# ---- two nodes ----
start_node() { # start_node NAME: sets pid_NAME and port_NAME
  "$NODE" --port 0 --host 127.0.0.1 --threads 2 --secret-file "$dir/secret" \
    --api-key-file "$dir/key" --hub "$hub" --log-level debug --presence-channels news \
    2> "$dir/node-$1.err" &
  declare -g "pid_$1=$!"
  if ! wait_for "$dir/node-$1.err" "listening on port"; then
    bad "node $1 starts" "$dir/node-$1.err"; finish
  fi
  declare -g "port_$1=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$dir/node-$1.err" | head -1)"
}
start_node a
start_node b
ok "nodes A (port $port_a) and B (port $port_b) on $hub"
api_a=http://127.0.0.1:$port_a/api
api_b=http://127.0.0.1:$port_b/api
get() { curl -s -m 5 -H "X-Api-Key: $key" "$1"; }
post() { curl -s -m 5 -w ' %{http_code}' -H "X-Api-Key: $key" -d "$2" "$1"; }

cid_a=AAAAAAAAAAAAAAAAAAAAAA cid_b=BBBBBBBBBBBBBBBBBBBBBB
"$CLIENT" "$port_b" "$secret" "$cid_b" bob news 90 > "$dir/b.out" 2>&1 &
cpid_b=$!
req='{"t":"req","id":5,"route":"cart.add","params":{"n":1}}'
# and sub, unsub, pub (two bad ones: no ch, a string id)
"$CLIENT" "$port_a" "$secret" "$cid_a" alice news 90 "$req" \
  '{"t":"sub","id":1,"ch":"room.7"}' '{"t":"unsub","id":2,"ch":"room.7"}' \
  '{"t":"pub","id":3,"ch":"room.7","data":{"x":[1,"y"]}}' '{"t":"pub","id":4,"data":1}' \
  '{"t":"sub","id":"6","ch":"room.7"}' '{"t":"pub","id":7,"ch":"room.7"}' \
  'pub:room.7:8:00ff0a' > "$dir/a.out" 2>&1 &
cpid_a=$!
check "a client attaches to B" 'wait_for "$dir/b.out" "\"t\":\"open\""' "$dir/b.out"
check "a client attaches to A" 'wait_for "$dir/a.out" "\"t\":\"open\""' "$dir/a.out"

# The req, sub, unsub and pub from A's page: one entry each on c4j:actions
# (a node of the application decides), nothing answered by A but the bad
# ones (4000 at once).
want="{\"t\":\"req\",\"cId\":\"$cid_a\",\"user\":\"alice\",\"id\":5,\"route\":\"cart.add\",\"params\":{\"n\":1}}"
want_all=$(printf '%s\n' "$want" \
  "{\"t\":\"sub\",\"cId\":\"$cid_a\",\"user\":\"alice\",\"id\":1,\"ch\":\"room.7\"}" \
  "{\"t\":\"unsub\",\"cId\":\"$cid_a\",\"user\":\"alice\",\"id\":2,\"ch\":\"room.7\"}" \
  "{\"t\":\"pub\",\"cId\":\"$cid_a\",\"user\":\"alice\",\"id\":3,\"ch\":\"room.7\",\"data\":{\"x\":[1,\"y\"]}}" \
  "{\"t\":\"pub\",\"cId\":\"$cid_a\",\"user\":\"alice\",\"id\":7,\"ch\":\"room.7\",\"data\":null}" \
  "{\"t\":\"pub\",\"cId\":\"$cid_a\",\"user\":\"alice\",\"id\":8,\"ch\":\"room.7\",\"b64\":\"AP8K\"}" | sort)
actions_sorted() { rcmd LRANGE c4j:actions 0 -1 | sort; }
check "req, sub, unsub, pub (JSON and binary) on A: one entry each on c4j:actions (t, cId, user, id, route/params or ch/data or ch/b64)" \
  'until_eq 50 "$want_all" actions_sorted' "$dir/node-a.err"
[ "$got" = "$want_all" ] || printf '    | LRANGE: %s\n' "$got"
check "the req's entry, with \"t\":\"req\", is there once" \
  '[ "$(rcmd LRANGE c4j:actions 0 -1 | grep -cxF "$want")" = 1 ]'
check "a pub without ch gets 4000 from A" 'wait_for "$dir/a.out" "\"id\":4,\"code\":4000"' "$dir/a.out"
check "a sub with a string id gets 4000 from A" 'wait_for "$dir/a.out" "\"id\":\"6\",\"code\":4000"' "$dir/a.out"
check "after them, c4j:actions still holds exactly those entries" '[ "$(actions_sorted)" = "$want_all" ]'
check "A does not answer the req, sub, unsub, pub itself (no 4040, nothing for ids 1-3, 5, 7, 8)" \
  '! grep -qE "\"code\":4040|\"id\":[123578][,}]" "$dir/a.out"' "$dir/a.out"

# A publish on A reaches B's page (and A's).
out=$(post "$api_a/publish" '{"channel":"news","data":"from A"}')
check "POST /api/publish on A: 200" '[ "$out" = "{\"ok\":true} 200" ]'
check "B's client gets A's publish" 'wait_for "$dir/b.out" "from A"' "$dir/b.out"
out=$(post "$api_a/publish" '{"channel":"news","b64":"3q2+7w=="}')
check "POST /api/publish with b64 on A: 200" '[ "$out" = "{\"ok\":true} 200" ]'
check "B's client gets A's bytes as a binary frame" 'wait_for "$dir/b.out" "binary {.*} deadbeef"' "$dir/b.out"
check "A's client gets it too" 'wait_for "$dir/a.out" "from A"' "$dir/a.out"

# /api/send on A to the cId held by B.
out=$(post "$api_a/send" "{\"channel\":\"news\",\"data\":\"to bob's cid\",\"cId\":\"$cid_b\"}")
check "POST /api/send on A to a cId held by B: 200" '[ "$out" = "{\"ok\":true} 200" ]'
check "B's client gets it" 'wait_for "$dir/b.out" "to bob.s cid"' "$dir/b.out"
out=$(post "$api_a/send" '{"channel":"news","data":1,"cId":"ZZZZZZZZZZZZZZZZZZZZZZ"}')
check "POST /api/send on A to a cId no node holds: 404" '[ "${out##* }" = 404 ]'
out=$(post "$api_b/send" '{"channel":"news","data":"to alice","user":"alice"}')
check "POST /api/send on B to a user on A" '[ "$out" = "{\"ok\":true} 200" ] && wait_for "$dir/a.out" "to alice"' "$dir/a.out"

# Online is cluster-wide.
check "GET /api/online on A counts B's connection" \
  'until_eq 50 "{\"users\":2,\"connections\":2}" get "$api_a/online"'
[ "$got" = '{"users":2,"connections":2}' ] || echo "    | got: $got"
check "B writes conn:<cId> (u -> user) for handshakes on other nodes" \
  'until_eq 30 "\"bob\"" rcmd HVALS "c4j:kv:conn:$cid_b"'
[ "$got" = '"bob"' ] || echo "    | got: $got"
check "GET /api/online?user=bob on A" \
  'until_eq 30 "{\"user\":\"bob\",\"online\":true,\"connections\":1}" get "$api_a/online?user=bob"'
[ "$got" = '{"user":"bob","online":true,"connections":1}' ] || echo "    | got: $got"

# Presence: Java nodes write presence:<channel>; here a made-up live node
# writes one member straight into Redis (keys as native/src/hub.h says).
# news is a presence channel on both nodes: each core writes its members
# into the presence map and sends join frames to the channel on every node.
want='{"channel":"news","count":2,"members":[{"cId":"AAAAAAAAAAAAAAAAAAAAAA","user":"alice"},{"cId":"BBBBBBBBBBBBBBBBBBBBBB","user":"bob"}]}'
check "GET /api/presence on A: the members of both nodes (the cores' presence map)" \
  'until_eq 50 "$want" get "$api_a/presence?channel=news"'
[ "$got" = "$want" ] || echo "    | got: $got"
# A third page joins news on B now that A's client is there: A hears it.
"$CLIENT" "$port_b" "$secret" CCCCCCCCCCCCCCCCCCCCCC carol news 2 > "$dir/c.out" 2>&1
check "a join on B reaches A's client (a channel frame through the hub)" \
  'wait_for "$dir/a.out" "{\"t\":\"join\",\"ch\":\"news\",\"cId\":\"CCCCCCCCCCCCCCCCCCCCCC\",\"user\":\"carol\"}"' "$dir/a.out"
out=$(get "$api_a/presence?channel=nobody")
check "GET /api/presence with a hub, nobody present: 200, empty" \
  '[ "$out" = "{\"channel\":\"nobody\",\"count\":0,\"members\":[]}" ]'
[ "$out" = '{"channel":"nobody","count":0,"members":[]}' ] || echo "    | got: $out"
fake=JavaNodeJavaNodeJavaNo
rcmd HSET c4j:nodes "$fake" "$(date +%s%3N)" > /dev/null
rcmd HSET c4j:kv:presence:room "$fake:CCCCCCCCCCCCCCCCCCCCCC" '"carol"' > /dev/null
out=$(get "$api_b/presence?channel=room")
check "GET /api/presence?channel=room on B: the member a live node wrote" \
  '[ "$out" = "{\"channel\":\"room\",\"count\":1,\"members\":[{\"cId\":\"CCCCCCCCCCCCCCCCCCCCCC\",\"user\":\"carol\"}]}" ]'
[ "${out#*\"user\":\"carol\"}" != "$out" ] || echo "    | got: $out"

# ---- Redis killed and restarted on the same port ----
kill -9 "$rpid"; wait "$rpid" 2>/dev/null; rpid=
t0=$(date +%s%N)
out=$(post "$api_a/publish" '{"channel":"news","data":"during outage"}')
t1=$(date +%s%N)
check "Redis down: POST /api/publish on A still 200, at once" \
  '[ "$out" = "{\"ok\":true} 200" ] && [ $(( (t1 - t0) / 1000000 )) -lt 1000 ]'
check "Redis down: A's own client gets it" 'wait_for "$dir/a.out" "during outage" 30' "$dir/a.out"
check "Redis down: B's client does not (yet)" '! grep -q "during outage" "$dir/b.out"' "$dir/b.out"
check "Redis down: /api/online on A answers from A alone" \
  'until_eq 50 "{\"users\":1,\"connections\":1}" get "$api_a/online"'
if ! start_redis "$rport"; then
  bad "redis-server restarts on port $rport" "$dir/redis.log"; finish
fi
ok "redis-server restarted on port $rport"
check "B gets, after the restart, what A sent during the outage (outbox)" \
  'wait_for "$dir/b.out" "during outage" 120' "$dir/b.out"
# A publish after the restart reaches B once both nodes are back: one a
# second until B has one (at most 12 s).
for i in $(seq 12); do
  post "$api_a/publish" "{\"channel\":\"news\",\"data\":\"after restart $i\"}" > /dev/null
  wait_for "$dir/b.out" "after restart" 10 && break
done
check "after the restart a publish on A reaches B's client" \
  'grep -q "after restart" "$dir/b.out"' "$dir/b.out"
check "after the restart /api/online on A counts both again" \
  'until_eq 80 "{\"users\":2,\"connections\":2}" get "$api_a/online"'

# ---- SIGTERM ----
for n in a b; do
  eval "p=\$pid_$n"
  kill -TERM "$p"
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then rc=timeout; else wait "$p"; rc=$?; fi
  declare -g "pid_$n="
  check "node $n: SIGTERM exits 0" '[ "$rc" = 0 ]' "$dir/node-$n.err"
  check "node $n: no ASan/UBSan report" \
    '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$dir/node-$n.err"' "$dir/node-$n.err"
done
check "clients got close 1001" \
  'wait_for "$dir/a.out" "close 1001" && wait_for "$dir/b.out" "close 1001"' "$dir/b.out"
wait "$cpid_a" "$cpid_b" 2>/dev/null; cpid_a=; cpid_b=
finish
