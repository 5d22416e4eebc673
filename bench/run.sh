#!/usr/bin/env bash
# make bench: the figures of the foundation issue, side by side with the
# kernel's own floor on this machine.
#   1. memory per idle connection and broadcast fan-out to 10,000 WebSocket
#      clients, with Comet.Threads=1 and =2 (bench/fanout.sh);
#   2. the floor: bare write() to 9,900 loopback sockets (bench/floor.c);
#   3. long-polling delivery latency, 2,000 clients, one message a second
#      (bench/lpool.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
cc -O2 -Wall -o bench/out/floor bench/floor.c -lpthread
for t in 1 2; do bash bench/fanout.sh 10000 "$t" 20 250; done
for t in 1 2; do bench/out/floor 9900 "$t"; done
bash bench/lpool.sh 2000 2 20
