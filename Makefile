# comet4j-native: the two commands of the README, and a few helpers.
#
#   make demo    install what is missing, build, run Tomcat with the example
#   make test    install, build, run every suite, print a summary line
#   make bench   the figures: memory per connection, broadcast fan-out, the
#                hub (cross-node latency, connections across 4 nodes), the
#                kernel's floor for the same fan-out, and each way a page
#                reaches the core in a real Tomcat (bench/README.md)
#   make bench-peers  the same client against comet4j-node, the jar in
#                Tomcat, nchan, node's ws, Tomcat's JSR-356 endpoint and the
#                kernel's floor, two rounds, one table (bench/peers.sh;
#                installs nginx and nchan through .ci/install-bench)
#   make bench-sustained  sustained throughput: 10,000 subscribers, the
#                broadcast rate stepped up until p99 passes 100 ms, for
#                comet4j-node, nchan and the machine's floor: plain
#                writes from a minimal C server (bench/sustained.sh)
#   make bench-javasend  the Java send path: application threads calling
#                sendTo and sendToUser to 10,000 connections, every message
#                counted, and the costs of a send's parts (bench/javasend.sh)
#   make bench-conn-memory  what a connection keeps in Tomcat, handshake
#                included: 10,000 and 19,000 through CometServlet, a fixed
#                pre-touched heap and Tomcat's default (bench/conn-memory.sh)
#   make bench-handshakes  10,000 pages back at once: CometServlet
#                handshakes a second and the RSS left (bench/handshakes.sh)
#   make bench-deflate  permessage-deflate off and on: bytes on the wire and
#                server CPU for a JSON stream (bench/deflate.sh)
#   make bench-many  half a million WebSocket connections across
#                comet4j-node processes on one Redis hub, one broadcast to
#                all, memory per connection in user space and in the kernel
#                (bench/many-nodes.sh; raises a sysctl for the run if needed)
#   make fuzz    the libFuzzer targets of native/fuzz/, FUZZ_SECONDS each
#                (60), then each one's executions and coverage; fails on a
#                crash (clang and libclang-rt-14-dev come from .ci/install)
#   make dist    the release jars with linux-x86_64 and linux-aarch64 inside:
#                installs the cross toolchain, arm64 libraries and qemu-user
#                (.ci/install-cross, which adds the arm64 dpkg architecture:
#                only this target does), cross-builds the aarch64 library and
#                comet4j-node, runs their unit tests under qemu, then mvn
#                (tests skipped: make test runs them; .ci/run runs both)

.PHONY: all install build test demo bench bench-peers stress fuzz clean dist bench-javasend \
        bench-conn-memory bench-handshakes bench-deflate bench-many \
        bench-sustained

all: build

install:
	bash .ci/install

build: install
	mvn -B -q -DskipTests install

test: install
	bash tests/run-all.sh

demo: build
	bash tests/demo.sh

bench: build
	bash bench/run.sh

# PEERS_ARGS: bench/peers.sh's N MESSAGES INTERVAL_MS SIZE (10000 20 250 64).
bench-peers: build
	bash .ci/install-bench
	bash bench/peers.sh $(PEERS_ARGS)

# SUSTAINED_ARGS: bench/sustained.sh's N "RATES" STEP_S SIZE (10000
# "10 25 50 100 200 400 800 1600 3200 6400" 3 64).
bench-sustained: build
	bash .ci/install-bench
	bash bench/sustained.sh $(SUSTAINED_ARGS)

# JAVASEND_ARGS: bench/javasend.sh's N SENDERS CALLS THREADS (10000 4 2000000 2).
bench-javasend: build
	bash bench/javasend.sh $(JAVASEND_ARGS)

bench-conn-memory: build
	bash bench/conn-memory.sh 10000 19000

bench-handshakes: build
	bash bench/handshakes.sh 10000 1000

# DEFLATE_ARGS: bench/deflate.sh's N MESSAGES INTERVAL_MS (5000 200 20).
bench-deflate:
	bash bench/deflate.sh $(DEFLATE_ARGS)

# MANY_ARGS: bench/many-nodes.sh's N PER_NODE THREADS STEP_NODES
# (500000 18000 1 4); it needs only comet4j-node and the bench clients.
bench-many: install
	$(MAKE) -C native node
	bash bench/many-nodes.sh $(MANY_ARGS)

# The stress suite at full size (tests/stress/README.md) and the slowloris
# scenario at full scale (native/test/test-slowloris.c); make test runs both short.
stress: build
	cd tests && C4J_STRESS=full node --test --test-concurrency=1 stress/
	$(MAKE) -C native stress-slowloris

fuzz: install
	$(MAKE) -C native fuzz

JARS := java/target/comet4j-native-*[0-9T].jar javax/target/comet4j-native-javax-*[0-9T].jar

dist: install
	bash .ci/install-cross
	$(MAKE) -C native ARCH=aarch64 test-cross
	mvn -B -q -DskipTests -Pnative-aarch64 install
	@for j in $(JARS); do \
	  for p in linux-x86_64 linux-aarch64; do \
	    jar tf $$j | grep -qx "native/$$p/libcomet4j.so" || \
	      { echo "dist: $$j has no native/$$p/libcomet4j.so" >&2; exit 1; }; \
	  done; echo "dist: $$j: linux-x86_64 and linux-aarch64"; \
	done

clean:
	mvn -B -q clean
	$(MAKE) -C native clean
