#!/usr/bin/env bash
# test-node.sh NODE CLIENT - comet4j-node over real sockets (run by
# `make test` on a build with ASan + UBSan): flags, the WebSocket client,
# the HTTP API with curl, SIGTERM.  Ends with "test/node: N passed, N failed".
set -u
NODE=$1 CLIENT=$2
dir=$(mktemp -d)
pid=; cpid=
cleanup() {
  [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "  ok: $1"; }
bad() { fail=$((fail+1)); echo "  FAILED: $1"; [ -n "${2:-}" ] && sed 's/^/    | /' "$2" | tail -20; }
check() { if eval "$2"; then ok "$1"; else bad "$1" "${3:-}"; fi; }
# wait_for FILE PATTERN: up to 10 s
wait_for() { for _ in $(seq 100); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

secret=0123456789abcdef-node-test-secret
key=test-api-key-0123456789
printf '%s\n' "$secret" > "$dir/secret"
printf '%s\n' "$key" > "$dir/key"

# Bad values exit 2 naming the parameter; no secret is refused.
"$NODE" --port abc --secret-file "$dir/secret" 2> "$dir/bad.err"; rc=$?
check "bad --port exits 2 naming Comet.Port" '[ $rc -eq 2 ] && grep -q "Comet.Port" "$dir/bad.err"' "$dir/bad.err"
printf 'Comet.Threads = 0\n' > "$dir/bad.conf"
"$NODE" --config "$dir/bad.conf" --secret-file "$dir/secret" 2> "$dir/bad2.err"; rc=$?
check "bad Comet.Threads in --config exits 2 naming it" '[ $rc -eq 2 ] && grep -q "Comet.Threads" "$dir/bad2.err"' "$dir/bad2.err"
"$NODE" --port 0 2> "$dir/nosecret.err"; rc=$?
check "no secret: exits 2 naming Comet.Secret" '[ $rc -eq 2 ] && grep -q "Comet.Secret" "$dir/nosecret.err"' "$dir/nosecret.err"

# The bounds of unfinished requests (their effect: test-listener.c).
"$NODE" --max-pending-per-address -1 --secret-file "$dir/secret" 2> "$dir/bad11.err"; rc=$?
check "bad --max-pending-per-address exits 2 naming Comet.MaxPendingPerAddress" \
  '[ $rc -eq 2 ] && grep -q "Comet.MaxPendingPerAddress: must be between 0 and 1000000" "$dir/bad11.err"' "$dir/bad11.err"
printf 'Comet.HandshakeTimeout = 50\n' > "$dir/bad12.conf"
"$NODE" --config "$dir/bad12.conf" --secret-file "$dir/secret" 2> "$dir/bad12.err"; rc=$?
check "bad Comet.HandshakeTimeout in --config exits 2 naming it" \
  '[ $rc -eq 2 ] && grep -q "Comet.HandshakeTimeout: must be between 100 and 600000" "$dir/bad12.err"' "$dir/bad12.err"
"$NODE" --help 2> "$dir/help.err"; rc=$?
check "--help lists --handshake-timeout and --max-pending-per-address" \
  '[ $rc -eq 0 ] && grep -q -- "--handshake-timeout *Comet.HandshakeTimeout" "$dir/help.err" &&
   grep -q -- "--max-pending-per-address *Comet.MaxPendingPerAddress" "$dir/help.err"' "$dir/help.err"

# The hub's settings (a Redis hub itself: test-node-hub.sh).
"$NODE" --hub redis:/x --secret-file "$dir/secret" 2> "$dir/bad3.err"; rc=$?
check "bad --hub exits 2 naming Comet.Hub" '[ $rc -eq 2 ] && grep -q "Comet.Hub:" "$dir/bad3.err"' "$dir/bad3.err"
printf 'Comet.Hub = redis://h:99999\n' > "$dir/bad4.conf"
"$NODE" --config "$dir/bad4.conf" --secret-file "$dir/secret" 2> "$dir/bad4.err"; rc=$?
check "a bad port in Comet.Hub (file) exits 2 naming it" '[ $rc -eq 2 ] && grep -q "Comet.Hub:" "$dir/bad4.err"' "$dir/bad4.err"
"$NODE" --hub-prefix 'a b' --secret-file "$dir/secret" 2> "$dir/bad5.err"; rc=$?
check "bad --hub-prefix exits 2 naming Comet.HubPrefix" '[ $rc -eq 2 ] && grep -q "Comet.HubPrefix:" "$dir/bad5.err"' "$dir/bad5.err"
"$NODE" --listen-actions true --secret-file "$dir/secret" 2> "$dir/bad6.err"; rc=$?
check "--listen-actions true exits 2: the node runs no actions" \
  '[ $rc -eq 2 ] && grep -q "Comet.ListenActions: comet4j-node runs no actions" "$dir/bad6.err"' "$dir/bad6.err"
"$NODE" --listen-actions maybe --secret-file "$dir/secret" 2> "$dir/bad7.err"; rc=$?
check "bad --listen-actions exits 2 naming it" '[ $rc -eq 2 ] && grep -q "Comet.ListenActions:" "$dir/bad7.err"' "$dir/bad7.err"

"$NODE" --presence-channels 'news,bad name' --secret-file "$dir/secret" --port 0 2> "$dir/bad8.err"; rc=$?
check "a bad name in --presence-channels exits 2 naming Comet.PresenceChannels" \
  '[ $rc -eq 2 ] && grep -q "Comet.PresenceChannels: .*bad name" "$dir/bad8.err"' "$dir/bad8.err"

# A secret with too little variety is refused naming the setting; one on
# the command line is warned about (ps shows it to every user).
"$NODE" --secret aaaaaaaaaaaaaaaaaaaa --port 0 2> "$dir/bad9.err"; rc=$?
check "a secret of one repeated character exits 2 naming Comet.Secret" \
  '[ $rc -eq 2 ] && grep -q "Comet.Secret: too little variety" "$dir/bad9.err"' "$dir/bad9.err"
check "--secret on the command line warns and names --secret-file" \
  'grep -q "warning: --secret on the command line .*--secret-file" "$dir/bad9.err"' "$dir/bad9.err"
printf 'abababababababababab\n' > "$dir/weak"
"$NODE" --secret-file "$dir/secret" --api-key-file "$dir/weak" --port 0 2> "$dir/bad10.err"; rc=$?
check "an API key of two characters exits 2 naming Comet.ApiKey" \
  '[ $rc -eq 2 ] && grep -q "Comet.ApiKey: too little variety" "$dir/bad10.err"' "$dir/bad10.err"
check "a secret from a file gives no warning" '! grep -q warning "$dir/bad10.err"' "$dir/bad10.err"

# The server, from a config file and flags.
printf '# comet4j-node\nComet.Port = 0\nComet.WorkStyle = auto\nComet.Host = 127.0.0.1\nComet.HistorySize = 10\n' > "$dir/node.conf"
printf 'Comet.Hub = local\nComet.ListenActions = false\n' >> "$dir/node.conf"
"$NODE" --config "$dir/node.conf" --secret-file "$dir/secret" --api-key-file "$dir/key" \
  --threads 2 --log-level debug --presence-channels 'other, news' 2> "$dir/node.err" &
pid=$!
if ! wait_for "$dir/node.err" "listening on port"; then
  bad "comet4j-node starts" "$dir/node.err"
  echo "test/node: $pass passed, $((fail+1)) failed"; exit 1
fi
port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$dir/node.err" | head -1)
ok "starts on port $port"
api=http://127.0.0.1:$port/api

cid=AAAAAAAAAAAAAAAAAAAAAA
"$CLIENT" "$port" "$secret" "$cid" alice news 20 '{"t":"sub","id":7,"ch":"x"}' > "$dir/client.out" 2>&1 &
cpid=$!
check "the client attaches (open frame)" 'wait_for "$dir/client.out" "\"t\":\"open\""' "$dir/client.out"
check "a sub with an id gets 4040" 'wait_for "$dir/client.out" "\"code\":4040"' "$dir/client.out"
check "news is a presence channel: the client hears its own join" \
  'wait_for "$dir/client.out" "{\"t\":\"join\",\"ch\":\"news\",\"cId\":\"$cid\",\"user\":\"alice\"}"' "$dir/client.out"

out=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $key" \
  -d '{"channel":"news","data":{"text":"hello node"}}' "$api/publish")
check "POST /api/publish: 200 {\"ok\":true}" '[ "$out" = "{\"ok\":true} 200" ]'
check "the client got the broadcast" 'wait_for "$dir/client.out" "hello node"' "$dir/client.out"

out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" \
  -d '{"channel":"news","data":"to alice","user":"alice"}' "$api/send")
check "POST /api/send to a user" '[ "$out" = "{\"ok\":true} 200" ] && wait_for "$dir/client.out" "to alice"' "$dir/client.out"
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" \
  -d "{\"channel\":\"news\",\"data\":\"to cid\",\"cId\":\"$cid\"}" "$api/send")
check "POST /api/send to a cId" '[ "$out" = "{\"ok\":true} 200" ] && wait_for "$dir/client.out" "to cid"' "$dir/client.out"
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" \
  -d '{"channel":"news","data":1,"cId":"BBBBBBBBBBBBBBBBBBBBBB"}' "$api/send")
check "POST /api/send to an unknown cId: 404" '[ "${out##* }" = 404 ]'

out=$(curl -s -w ' %{http_code}' -d '{"channel":"news","data":1}' "$api/publish")
check "no key: 401" '[ "${out##* }" = 401 ]'
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" -d '{"channel":"news"}' "$api/publish")
check "missing data: 400 with the ApiHandler message" \
  '[ "$out" = "{\"error\":{\"code\":400,\"message\":\"\\\"data\\\" is required\"}} 400" ]'
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" "$api/publish")
check "GET /api/publish: 405" '[ "${out##* }" = 405 ]'

out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" "$api/online")
check "GET /api/online" '[ "$out" = "{\"users\":1,\"connections\":1} 200" ]'
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" "$api/online?user=al%69ce")
check "GET /api/online?user=alice" '[ "$out" = "{\"user\":\"alice\",\"online\":true,\"connections\":1} 200" ]'
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" "$api/presence?channel=news")
check "GET /api/presence: the core's members of news" \
  '[ "$out" = "{\"channel\":\"news\",\"count\":1,\"members\":[{\"cId\":\"$cid\",\"user\":\"alice\"}]} 200" ]' \
  <(echo "got: $out")
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" "$api/presence?channel=none")
check "GET /api/presence of an empty channel" '[ "$out" = "{\"channel\":\"none\",\"count\":0,\"members\":[]} 200" ]'
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" "$api/presence?channel=a%22b")
check "GET /api/presence of a bad name: 400" '[ "${out##* }" = 400 ]'
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" "$api/nope")
check "unknown API: 404" '[ "$out" = "{\"error\":{\"code\":404,\"message\":\"no such API: /api/nope\"}} 404" ]'

# Without a Redis hub a req is answered 4040 too (after the online counts:
# this client stays dying a while).
"$CLIENT" "$port" "$secret" CCCCCCCCCCCCCCCCCCCCCC carol news 2 '{"t":"req","id":9,"route":"a.b","params":1}' > "$dir/req.out" 2>&1
check "without a Redis hub a req gets 4040" 'grep -q "\"id\":9,\"code\":4040" "$dir/req.out"' "$dir/req.out"
check "alice heard carol join news" \
  'wait_for "$dir/client.out" "\"t\":\"join\",\"ch\":\"news\",\"cId\":\"CCCCCCCCCCCCCCCCCCCCCC\",\"user\":\"carol\""' "$dir/client.out"
out=$(curl -s -H "X-Api-Key: $key" "$api/online")
check "carol counts while dying" '[ "$out" = "{\"users\":2,\"connections\":2}" ]'

# SIGTERM: the client gets 1001, the node exits 0 without a sanitizer report.
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then rc=timeout; else wait "$pid"; rc=$?; fi
pid=
check "SIGTERM: exit 0" '[ "$rc" = 0 ]' "$dir/node.err"
check "no ASan/UBSan report" '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$dir/node.err"' "$dir/node.err"
check "the client got close 1001" 'wait_for "$dir/client.out" "close 1001"' "$dir/client.out"
wait "$cpid" 2>/dev/null; cpid=

echo "test/node: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
