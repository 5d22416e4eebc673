# comet4j-native: the two commands of the README, and a few helpers.
#
#   make demo    install what is missing, build, run Tomcat with the example
#   make test    install, build, run every suite, print a summary line
#   make bench   the figures: memory per connection, broadcast fan-out, the
#                hub (cross-node latency, connections across 4 nodes), and
#                the kernel's floor for the same fan-out

.PHONY: all install build test demo bench fuzz clean

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

fuzz: install
	$(MAKE) -C native fuzz

clean:
	mvn -B -q clean
	$(MAKE) -C native clean
