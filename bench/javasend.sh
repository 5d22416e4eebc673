#!/usr/bin/env bash
# The Java send path (issue 15, item 4): the jar's engine in a plain JVM
# (bench/JavaSend.java), N WebSocket connections (sendbench, one libuv
# loop, bound to 127.0.0.2, 127.0.0.3, ...) over N/2 users, two pages a
# user, and SENDERS application threads calling CometEngine.sendTo (to a
# connection) and then sendToUser (to a user) with 100-byte messages, CALLS
# calls in each phase, as fast as they can.  Every message must arrive:
# each connection counts what it gets, checks the order of each thread's
# messages, and compares at the phase's end with what the application sent
# it; the run fails otherwise.  Prints first the microbenchmarks (the JNI
# crossing, the JSON encoding, the queueing into the core with nobody to
# deliver to), then per phase: calls a second, the senders' CPU a call, the
# JVM's CPU a call and a delivery (process CPU from the phase's start until
# the last delivery), deliveries a second.
# Usage: bench/javasend.sh [N=10000] [SENDERS=4] [CALLS=2000000] [THREADS=2]
# (THREADS: Comet.Threads, the core's loops; C4J_JAVASEND_OPTS: more JVM
# options.)
N=${1:-10000}; SENDERS=${2:-4}; CALLS=${3:-2000000}; THREADS=${4:-2}
source "$(dirname "$0")/lib.sh"
javac -d "$out" -cp "$jar:$servlet" bench/JavaSend.java

client=
trap '[ -n "$client" ] && kill $client 2>/dev/null; [ -n "$server" ] && kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# wait_for FILE PATTERN COUNT SECONDS PID: until FILE has COUNT lines
# matching PATTERN; fails when PID ends first or after SECONDS.
wait_for() {
  local i
  for ((i = 0; i < $4 * 10; i++)); do
    [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
    kill -0 "$5" 2>/dev/null || break
    sleep 0.1
  done
  echo "javasend: no \"$2\" in $1 (${4} s)" >&2
  tail -n 5 "$work/server.err" "$work/client.err" "$work/client.out" >&2
  exit 1
}

mkfifo "$work/cmd"
exec 3<>"$work/cmd"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "javasend: $N connections over $((N / 2)) users, $SENDERS sending threads," \
  "$CALLS calls a phase, Comet.Threads=$THREADS; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
java -Xms1g -Xmx1g ${C4J_JAVASEND_OPTS:-} -cp "$jar:$servlet:$out" org.comet4j.core.JavaSend \
  "$port" "$THREADS" "$N" "$SENDERS" "$CALLS" "$work/tickets" \
  <"$work/cmd" >"$work/server.out" 2>"$work/server.err" &
server=$!
wait_for "$work/server.out" '^ready' 1 300 "$server"
grep '^micro' "$work/server.out"

# A first source address of its own for each run (127.0.0.2 to .241):
# the ports a run before left in TIME_WAIT are on other addresses.
src=$((2 + RANDOM % 240))
"$bin/sendbench" -p "$port" -t "$work/tickets" -n "$N" -src "$src" \
  >"$work/client.out" 2>"$work/client.err" &
client=$!
wait_for "$work/client.out" '^open' 1 120 "$client"

phases=(to "user last")
for i in 0 1; do
  echo "run ${phases[$i]}" >&3
  wait_for "$work/client.out" "^phase $((i + 1)):" 1 600 "$client"
  echo cpu >&3
  wait_for "$work/server.out" '^cpu' $((i + 1)) 30 "$server"
done
echo quit >&3
grep -e '^sent' -e '^cpu' "$work/server.out"
grep '^phase' "$work/client.out"

rc=0
(python3 - "$work/server.out" "$work/client.out" <<'EOF'
import re, sys
srv = open(sys.argv[1]).read().splitlines()
cli = open(sys.argv[2]).read().splitlines()
sent = [l for l in srv if l.startswith('sent:')]
cpu = [l for l in srv if l.startswith('cpu:')]
got = [l for l in cli if l.startswith('phase ')]
ok = True
print('%-10s %12s %12s %12s %12s %14s %12s' % ('phase', 'calls/s', 'senders ns', 'JVM ns', 'JVM ns', 'deliveries/s', 'delivered'))
print('%-10s %12s %12s %12s %12s %14s %12s' % ('', '', 'CPU a call', 'CPU a call', 'a delivery', '', ''))
for s, c, g in zip(sent, cpu, got):
    name = s.split()[3].rstrip(':')
    calls = int(re.search(r': (\d+) calls', s).group(1))
    rate = float(re.search(r'([\d.]+) calls/s', s).group(1))
    sns = float(re.search(r"CPU ([\d.]+) ns a call", s).group(1))
    owed = int(re.search(r'(\d+) deliveries owed', s).group(1))
    start = int(re.search(r'start_us (\d+)', s).group(1))
    jvm_ms = float(re.search(r'cpu: ([\d.]+) ms', c).group(1))
    d = int(re.search(r': (\d+) deliveries', g).group(1))
    off = int(re.search(r'(\d+) connections off', g).group(1))
    order = int(re.search(r'(\d+) out of order', g).group(1))
    last = int(re.search(r'last_us (\d+)', g).group(1))
    good = d == owed and off == 0 and order == 0
    ok = ok and good
    print('%-10s %12.0f %12.0f %12.0f %12.0f %14.0f %12s' % (name, rate, sns, jvm_ms * 1e6 / calls,
          jvm_ms * 1e6 / d if d else 0, d / ((last - start) / 1e6), '%d/%d%s' % (d, owed, '' if good else ' FAIL')))
sys.exit(0 if ok and len(got) == len(sent) == 2 else 1)
EOF
) || rc=$?

echo "javasend: load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
