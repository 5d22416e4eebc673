#!/usr/bin/env bash
# make bench: the figures of the foundation issue, side by side with the
# kernel's own floor on this machine.
#   1. memory per idle connection and broadcast fan-out to 10,000 WebSocket
#      clients, with Comet.Threads=1 and =2 (bench/fanout.sh);
#   2. the floor: bare write() to 9,900 loopback sockets (bench/floor.c);
#   3. long-polling delivery latency, 2,000 clients, one message a second
#      (bench/lpool.sh);
#   3b. the native port with TLS (issue 10, figure (d)): memory per idle
#      connection and fan-out, 10,000 TLS 1.3 WebSocket clients beside the
#      same number of plain ones (bench/tls.sh);
#   4. the Redis hub (issue 5): cross-node publish-to-delivery latency at
#      10,000 messages a second, published by a HubServer JVM and through
#      node A's HTTP API, to 20 subscribers on node B (bench/hub-latency.sh);
#      72,000 connections across 4 comet4j-node processes, one broadcast
#      (bench/hub-conns.sh);
#   5. issue 10: memory per connection and fan-out for each way a page
#      reaches the core, in a real Tomcat, and Tomcat's own JSR-356
#      endpoint for scale (bench/modes.sh; every mode at the largest N
#      the container way holds under 20,000 open files, then the others
#      at 10,000).
#   6. issue 15: the Java send path, sendTo and sendToUser from 4
#      application threads to 10,000 connections over 5,000 users, every
#      message counted (bench/javasend.sh).
#   7. issue 15: what a connection keeps in Tomcat, handshake included
#      (bench/conn-memory.sh), and handshakes a second with 10,000 pages
#      back at once (bench/handshakes.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
cc -O2 -Wall -o bench/out/floor bench/floor.c -lpthread
for t in 1 2; do bash bench/fanout.sh 10000 "$t" 20 250; done
for t in 1 2; do bench/out/floor 9900 "$t"; done
bash bench/lpool.sh 2000 2 20
bash bench/tls.sh 10000 2 20 250
bash bench/hub-latency.sh 20 10000 5 1 jvm
bash bench/hub-latency.sh 20 10000 5 1 api
bash bench/hub-conns.sh 18000 4 2
bash bench/modes.sh 10000 20 250
bash bench/javasend.sh 10000 4 2000000 2
bash bench/conn-memory.sh 10000 19000
bash bench/handshakes.sh 10000 1000
