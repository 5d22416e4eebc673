#!/usr/bin/env bash
# The native port with TLS (issue 10, figure (d)): memory per idle
# connection and one-broadcast fan-out, N WebSocket clients over TLS 1.3
# (wsbench -tls 1: OpenSSL's client, AES-128-GCM as browsers pick) and the
# same N plain ones, in one run, the same server (the jar's engine in a JVM,
# BenchServer) and the same client.  Prints each run's memory and fanout
# lines (bench/fanout.sh's), then:
#   tls: per idle connection: plain X bytes, TLS Y bytes (Y - X more)
# Memory is RSS: the slope between N/2 and N connections (what one more
# costs, after the first handshakes' transient memory is in malloc's free
# lists) and total growth / N.  Target: TLS at most 4 KiB.
# Usage: bench/tls.sh [N=2000] [THREADS=2] [MESSAGES=20] [INTERVAL_MS=250]
N=${1:-2000}; THREADS=${2:-2}; MESSAGES=${3:-20}; INTERVAL=${4:-250}
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "tls: the openssl command is needed"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
declare -A slope
for mode in plain tls; do
  if [ "$mode" = tls ]; then start_server "$N" "$THREADS" "$work/cert.pem" "$work/key.pem"
  else start_server "$N" "$THREADS"; fi
  echo "tls: $mode: $N WebSocket clients, Comet.Threads=$THREADS, $MESSAGES messages of 100 bytes every $INTERVAL ms"
  "$bin/wsbench" -p "$port" -t "$work/tickets" -n "$N" -pid "$pid" -cmd "$work/cmd" \
    -m "$MESSAGES" -i "$INTERVAL" -tls $([ "$mode" = tls ] && echo 1 || echo 0) \
    | tee "$work/$mode.out" || { server_log; exit 1; }
  slope[$mode]=$(sed -n 's/.*: \([0-9]*\) bytes per connection (slope).*/\1/p' "$work/$mode.out")
  stop_server
done
echo "tls: per idle connection: plain ${slope[plain]} bytes, TLS ${slope[tls]} bytes" \
  "($(( ${slope[tls]:-0} - ${slope[plain]:-0} )) more; target: TLS at most 4096)"
