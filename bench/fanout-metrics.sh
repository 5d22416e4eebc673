#!/usr/bin/env bash
# The cost of the counters (docs/metrics.md): bench/fanout.sh's broadcast
# fan-out to N WebSocket clients, run twice in one go against the same JVM
# server (BenchServer): first with a core built -DC4J_NO_METRICS (the
# counters and the fan-out timing compiled out: the baseline), then with
# the jar's core as built (metrics on), ROUNDS times each in the order
# off on on off off on ... (so that a drift of the machine's load weighs on
# both alike).  Prints every fanout line, then for each side the median of
# its runs' fan-out medians and of its server CPU a broadcast (wsbench's
# figures), and their differences.
# Usage: bench/fanout-metrics.sh [N=10000] [THREADS=2] [MESSAGES=20] [INTERVAL_MS=250] [ROUNDS=2]
N=${1:-10000}; THREADS=${2:-2}; MESSAGES=${3:-20}; INTERVAL=${4:-250}; ROUNDS=${5:-2}
source "$(dirname "$0")/lib.sh"

# The baseline core, into a copy of the jar (objects under build/nometrics).
make -s -C native BUILD=build/nometrics DEPS=build/deps CFLAGS="-O2 -g -DC4J_NO_METRICS" \
  jni JNI_OUT="$PWD/$out/nometrics/native/linux-x86_64" >/dev/null
cp "$jar" "$work/nometrics.jar"
(cd "$out/nometrics" && jar uf "$work/nometrics.jar" native/linux-x86_64/libcomet4j.so)
metrics_jar=$jar

# run LABEL JAR: one fan-out run against a fresh server from JAR.
run() {
  jar=$2
  start_server "$N" "$THREADS"
  echo "fanout ($1): $N clients, Comet.Threads=$THREADS, $MESSAGES messages of 100 bytes every $INTERVAL ms"
  "$bin/wsbench" -p "$port" -t "$work/tickets" -n "$N" -pid "$pid" -cmd "$work/cmd" \
    -m "$MESSAGES" -i "$INTERVAL" | tee "$work/$1.out" || { server_log; exit 1; }
  stop_server
}

for ((r = 0; r < ROUNDS; r++)); do
  if ((r % 2 == 0)); then order="off on"; else order="on off"; fi
  for side in $order; do
    if [ "$side" = off ]; then run off "$work/nometrics.jar"; else run on "$metrics_jar"; fi
    sed -n 's/.*complete: median \([0-9.]*\) ms.*/\1/p' "$work/$side.out" | head -1 >> "$work/$side.medians"
    sed -n 's/.*server CPU \([0-9.]*\) ms a broadcast.*/\1/p' "$work/$side.out" | head -1 >> "$work/$side.cpu"
  done
done
median() { sort -n "$work/$1" | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
off=$(median off.medians); on=$(median on.medians)
if [ -n "$off" ] && [ -n "$on" ]; then
  awk -v a="$off" -v b="$on" -v r="$ROUNDS" 'BEGIN { printf "metrics cost: %d runs each, median of the fan-out medians %.2f ms off, %.2f ms on: %+.1f %%\n", r, a, b, (b - a) * 100 / a }'
fi
off=$(median off.cpu); on=$(median on.cpu)
if [ -n "$off" ] && [ -n "$on" ]; then
  awk -v a="$off" -v b="$on" 'BEGIN { printf "metrics cost: median server CPU a broadcast %.1f ms off, %.1f ms on: %+.1f %%\n", a, b, (b - a) * 100 / a }'
fi
