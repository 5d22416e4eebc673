#!/usr/bin/env bash
# test-node.sh NODE CLIENT - comet4j-node over real sockets (run by
# `make test` on a build with ASan + UBSan): flags, the WebSocket client,
# the HTTP API with curl, SIGTERM; TLS (certificates made with the openssl
# command) with the client over TLS, curl and openssl s_client, SIGHUP
# reloading the certificate.  Ends with "test/node: N passed, N failed".
set -u
NODE=$1 CLIENT=$2
dir=$(mktemp -d)
pid=; cpid=; tpid=
cleanup() {
  [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  [ -n "$tpid" ] && kill -9 "$tpid" 2>/dev/null
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
"$NODE" --deflate maybe --secret-file "$dir/secret" 2> "$dir/bad7d.err"; rc=$?
check "bad --deflate exits 2 naming Comet.Deflate" \
  '[ $rc -eq 2 ] && grep -q "Comet.Deflate: must be on or off" "$dir/bad7d.err"' "$dir/bad7d.err"

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

"$NODE" --metrics 'true' --secret-file "$dir/secret" --port 0 2> "$dir/bad11.err"; rc=$?
check "--metrics true without an API key exits 2 naming Comet.Metrics" \
  '[ $rc -eq 2 ] && grep -q "Comet.Metrics: " "$dir/bad11.err"' "$dir/bad11.err"

# The server, from a config file and flags.
printf '# comet4j-node\nComet.Port = 0\nComet.WorkStyle = auto\nComet.Host = 127.0.0.1\nComet.HistorySize = 10\n' > "$dir/node.conf"
printf 'Comet.Hub = local\nComet.ListenActions = false\nComet.Metrics = true\n' >> "$dir/node.conf"
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

# GET /metrics (docs/metrics.md): the key as a bearer, the broadcast counted.
out=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
check "GET /metrics without the key: 401" '[ "$out" = 401 ]'
curl -s -H "Authorization: Bearer $key" "http://127.0.0.1:$port/metrics" > "$dir/metrics.txt"
check "GET /metrics counts the broadcast and the attached WebSocket" \
  'grep -qx "comet4j_sends_total{to=\"all\"} 1" "$dir/metrics.txt" &&
   grep -qx "comet4j_connections{transport=\"ws\"} 1" "$dir/metrics.txt" &&
   grep -qx "# TYPE comet4j_broadcast_fanout_seconds histogram" "$dir/metrics.txt"' "$dir/metrics.txt"

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
  '[ "$out" = "{\"error\":{\"code\":400,\"message\":\"\\\"data\\\" (or \\\"b64\\\") is required\"}} 400" ]'

# Binary messages (docs/protocol.md section 11): "b64" in place of "data".
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" \
  -d '{"channel":"news","b64":"AAEK/w=="}' "$api/publish")
check "POST /api/publish with b64: 200" '[ "$out" = "{\"ok\":true} 200" ]' <(echo "got: $out")
check "the client got it as a binary frame with the bytes" \
  'wait_for "$dir/client.out" "binary {\"t\":\"msg\",\"ch\":\"news\",\"e\":\"[A-Za-z0-9_-]*\",\"o\":[0-9]*,\"time\":[0-9]*} 00010aff"' "$dir/client.out"
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" \
  -d "{\"channel\":\"news\",\"b64\":\"AAI=\",\"cId\":\"$cid\"}" "$api/send")
check "POST /api/send with b64 to a cId" \
  '[ "$out" = "{\"ok\":true} 200" ] && wait_for "$dir/client.out" "binary {\"t\":\"msg\",\"ch\":\"news\",\"time\":[0-9]*} 0002"' "$dir/client.out"
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" -d '{"channel":"news","b64":"AAE","data":1}' "$api/publish")
check "data and b64: 400" '[ "${out##* }" = 400 ]'
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" -d '{"channel":"news","b64":"A*=="}' "$api/publish")
check "b64 that is not base64: 400" '[ "$out" = "{\"error\":{\"code\":400,\"message\":\"\\\"b64\\\" is not base64\"}} 400" ]' <(echo "got: $out")
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
out=$(curl -s -H "X-Api-Key: $key" "$api/stats")
check "GET /api/stats: getStats()'s names, the deflate and refusal figures among them" \
  '(for f in conns broadcasts fanoutNanos httpRefused deflated deflatePlainBytes deflateCompressedBytes; do
     [[ "$out" =~ \"$f\":[0-9]+ ]] || exit 1; done)' <(echo "got: $out")
out=$(curl -s -w ' %{http_code}' -H "X-Api-Key: $key" "$api/nope")
check "unknown API: 404" '[ "$out" = "{\"error\":{\"code\":404,\"message\":\"no such API: /api/nope\"}} 404" ]'
# HTTP keep-alive: curl with three URLs uses one connection for all.
curl -sv -H "X-Api-Key: $key" -d '{"channel":"news","data":"kept"}' "$api/publish" \
  "$api/publish" "$api/publish" > "$dir/keep.out" 2> "$dir/keep.err"
check "keep-alive: curl re-uses its connection for three API requests" \
  '[ "$(grep -c "Re-using existing connection" "$dir/keep.err")" = 2 ] &&
   [ "$(grep -c "Connected to" "$dir/keep.err")" = 1 ] &&
   [ "$(grep -o "{\"ok\":true}" "$dir/keep.out" | wc -l)" = 3 ] &&
   ! grep -qi "^< Connection: close" "$dir/keep.err"' "$dir/keep.err"

# Without a Redis hub a req is answered 4040 too (after the online counts:
# this client stays dying a while).
"$CLIENT" "$port" "$secret" CCCCCCCCCCCCCCCCCCCCCC carol news 2 '{"t":"req","id":9,"route":"a.b","params":1}' > "$dir/req.out" 2>&1
check "without a Redis hub a req gets 4040" 'grep -q "\"id\":9,\"code\":4040" "$dir/req.out"' "$dir/req.out"
check "alice heard carol join news" \
  'wait_for "$dir/client.out" "\"t\":\"join\",\"ch\":\"news\",\"cId\":\"CCCCCCCCCCCCCCCCCCCCCC\",\"user\":\"carol\""' "$dir/client.out"
out=$(curl -s -H "X-Api-Key: $key" "$api/online")
check "carol counts while dying" '[ "$out" = "{\"users\":2,\"connections\":2}" ]'

# A page's binary message: a pub of bytes gets 4040 as a JSON pub does; a
# binary message that is no pub, 4000; the connection lives on (ping).
"$CLIENT" "$port" "$secret" DDDDDDDDDDDDDDDDDDDDDD dave news 2 'pub:news:11:00ff' 'raw:0003' \
  '{"t":"ping"}' > "$dir/bin.out" 2>&1
check "without a Redis hub a binary pub gets 4040" 'grep -q "\"id\":11,\"code\":4040" "$dir/bin.out"' "$dir/bin.out"
check "a binary message that is no pub gets 4000" 'grep -q "\"code\":4000" "$dir/bin.out"' "$dir/bin.out"
check "the page stays after a binary message" 'grep -q "{\"t\":\"pong\"}" "$dir/bin.out"' "$dir/bin.out"

# SIGTERM: the client gets 1001, the node exits 0 without a sanitizer report.
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then rc=timeout; else wait "$pid"; rc=$?; fi
pid=
check "SIGTERM: exit 0" '[ "$rc" = 0 ]' "$dir/node.err"
check "no ASan/UBSan report" '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$dir/node.err"' "$dir/node.err"
check "the client got close 1001" 'wait_for "$dir/client.out" "close 1001"' "$dir/client.out"
wait "$cpid" 2>/dev/null; cpid=

# ---- TLS: Comet.TlsCert and Comet.TlsKey ----------------------------------
if ! command -v openssl >/dev/null; then
  bad "TLS: the openssl command is needed (apt-get install openssl; .ci/install does it)"
  echo "test/node: $pass passed, $fail failed"; exit 1
fi
# mkcert NAME CN: a self-signed P-256 certificate and its key.
mkcert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$2" -keyout "$dir/$1.key" -out "$dir/$1.crt" 2>/dev/null
}
mkcert one one && mkcert two two || bad "openssl req makes the test certificates"
"$NODE" --port 0 --secret-file "$dir/secret" --tls-cert "$dir/one.crt" --tls-key "$dir/missing.key" \
  2> "$dir/tls-bad1.err"; rc=$?
check "a missing --tls-key exits 2 naming Comet.TlsKey and the file" \
  '[ $rc -eq 2 ] && grep -q "Comet.TlsKey: cannot read $dir/missing.key: No such file or directory" "$dir/tls-bad1.err"' "$dir/tls-bad1.err"
"$NODE" --port 0 --secret-file "$dir/secret" --tls-cert "$dir/one.crt" 2> "$dir/tls-bad2.err"; rc=$?
check "--tls-cert without --tls-key exits 2" \
  '[ $rc -eq 2 ] && grep -q "Comet.TlsKey: required with Comet.TlsCert" "$dir/tls-bad2.err"' "$dir/tls-bad2.err"
printf 'Comet.TlsCert = %s\nComet.TlsKey = %s\n' "$dir/two.crt" "$dir/one.key" > "$dir/tls-bad.conf"
"$NODE" --config "$dir/tls-bad.conf" --port 0 --secret-file "$dir/secret" 2> "$dir/tls-bad3.err"; rc=$?
check "a key of another certificate (in --config) exits 2 naming both settings" \
  '[ $rc -eq 2 ] && grep -q "Comet.TlsKey: does not match the certificate in Comet.TlsCert" "$dir/tls-bad3.err"' "$dir/tls-bad3.err"
"$NODE" --port 0 --secret-file "$dir/secret" --tls-cert "$dir/secret" --tls-key "$dir/one.key" 2> "$dir/tls-bad4.err"; rc=$?
check "a file that is no certificate exits 2 naming Comet.TlsCert" \
  '[ $rc -eq 2 ] && grep -q "Comet.TlsCert: not a PEM certificate" "$dir/tls-bad4.err"' "$dir/tls-bad4.err"

cp "$dir/one.crt" "$dir/live.crt"; cp "$dir/one.key" "$dir/live.key"
printf 'Comet.TlsCert = %s\nComet.TlsKey = %s\n' "$dir/live.crt" "$dir/live.key" > "$dir/tls.conf"
"$NODE" --config "$dir/tls.conf" --port 0 --host 127.0.0.1 --secret-file "$dir/secret" \
  --api-key-file "$dir/key" --threads 2 2> "$dir/tls.err" &
tpid=$!
if ! wait_for "$dir/tls.err" "listening on port [0-9]* (TLS)"; then
  bad "comet4j-node starts with TLS" "$dir/tls.err"
  echo "test/node: $pass passed, $fail failed"; exit 1
fi
tport=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$dir/tls.err" | head -1)
ok "starts with TLS on port $tport"
"$CLIENT" "tls:$tport" "$secret" DDDDDDDDDDDDDDDDDDDDDD dave news 30 > "$dir/tls1.out" 2>&1 &
cpid=$!
check "a client attaches over TLS 1.3 with ALPN http/1.1 and the first certificate" \
  'wait_for "$dir/tls1.out" "\"t\":\"open\"" && grep -q "^tls: TLSv1.3 http/1.1 CN=one$" "$dir/tls1.out"' "$dir/tls1.out"
out=$(curl -sk -w ' %{http_code}' -H "X-Api-Key: $key" -d '{"channel":"news","data":"over tls"}' \
  "https://127.0.0.1:$tport/api/publish")
check "curl over https: POST /api/publish" '[ "$out" = "{\"ok\":true} 200" ]' <(echo "got: $out")
curl -skv -H "X-Api-Key: $key" -d '{"channel":"news","data":"kept over tls"}' \
  "https://127.0.0.1:$tport/api/publish" "https://127.0.0.1:$tport/api/publish" \
  > "$dir/tkeep.out" 2> "$dir/tkeep.err"
check "keep-alive over https: curl re-uses its TLS connection" \
  '[ "$(grep -c "Re-using existing connection" "$dir/tkeep.err")" = 1 ] &&
   [ "$(grep -o "{\"ok\":true}" "$dir/tkeep.out" | wc -l)" = 2 ]' "$dir/tkeep.err"
check "the TLS client got the broadcast" 'wait_for "$dir/tls1.out" "over tls"' "$dir/tls1.out"
openssl s_client -connect "127.0.0.1:$tport" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null \
  > "$dir/tls11.out" 2>&1; rc=$?
check "openssl s_client -tls1_1 is refused (protocol version)" \
  '[ $rc -ne 0 ] && grep -q "protocol version" "$dir/tls11.out"' "$dir/tls11.out"
openssl s_client -connect "127.0.0.1:$tport" -alpn h2,http/1.1 </dev/null > "$dir/s_client.out" 2>&1
check "openssl s_client: TLSv1.3, ALPN http/1.1 out of h2,http/1.1" \
  'grep -q "ALPN protocol: http/1.1" "$dir/s_client.out" && grep -q "TLSv1.3" "$dir/s_client.out"' "$dir/s_client.out"
out=$(curl -s "http://127.0.0.1:$tport/api/online")
check "plain HTTP on the TLS port gets a clear answer" '[[ "$out" == *"this port speaks TLS"* ]]' <(echo "got: $out")

# SIGHUP: a renewed certificate for the next connections.
cp "$dir/two.crt" "$dir/live.crt"; cp "$dir/two.key" "$dir/live.key"
kill -HUP "$tpid"
check "SIGHUP: the log says reloaded" 'wait_for "$dir/tls.err" "SIGHUP: TLS certificate reloaded from $dir/live.crt"' "$dir/tls.err"
"$CLIENT" "tls:$tport" "$secret" EEEEEEEEEEEEEEEEEEEEEE erin news 2 > "$dir/tls2.out" 2>&1
check "the next connection gets the new certificate" 'grep -q "^tls: TLSv1.3 http/1.1 CN=two$" "$dir/tls2.out"' "$dir/tls2.out"
openssl s_client -connect "127.0.0.1:$tport" </dev/null 2>/dev/null | openssl x509 -noout -subject > "$dir/subject.out" 2>&1
check "openssl s_client sees it too" 'grep -q "CN *= *two" "$dir/subject.out"' "$dir/subject.out"
curl -sk -H "X-Api-Key: $key" -d '{"channel":"news","data":"after reload"}' "https://127.0.0.1:$tport/api/publish" >/dev/null
check "the connection made before the reload goes on" 'wait_for "$dir/tls1.out" "after reload"' "$dir/tls1.out"
# A broken key: the error, and the last good certificate kept.
printf 'not a key\n' > "$dir/live.key"
kill -HUP "$tpid"
check "SIGHUP with a broken key: the error and keeping the old certificate" \
  'wait_for "$dir/tls.err" "SIGHUP: Comet.TlsKey: not a PEM private key.*: keeping the old certificate"' "$dir/tls.err"
"$CLIENT" "tls:$tport" "$secret" FFFFFFFFFFFFFFFFFFFFFF fred news 2 > "$dir/tls3.out" 2>&1
check "and new connections still get it" 'grep -q "CN=two$" "$dir/tls3.out" && grep -q "\"t\":\"open\"" "$dir/tls3.out"' "$dir/tls3.out"
kill -TERM "$tpid"
for _ in $(seq 100); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$tpid" 2>/dev/null; then rc=timeout; else wait "$tpid"; rc=$?; fi
tpid=
check "TLS node: SIGTERM, exit 0" '[ "$rc" = 0 ]' "$dir/tls.err"
check "TLS node: no ASan/UBSan report" '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$dir/tls.err"' "$dir/tls.err"
check "the TLS client got close 1001" 'wait_for "$dir/tls1.out" "close 1001"' "$dir/tls1.out"
wait "$cpid" 2>/dev/null; cpid=

echo "test/node: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
