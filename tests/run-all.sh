#!/usr/bin/env bash
# Runs every suite in order (native under ASan/UBSan, Java through the real
# JNI library, the JS client, end-to-end in Tomcat + Chromium), shows each
# one's own output, and ends with one summary line counting tests.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0; failed=0; broken=()

# run NAME CMD...: runs a suite, tees its output, keeps its exit status.
run() {
  local name=$1; shift
  echo "===== $name: $*"
  local start=$SECONDS
  "$@" 2>&1 | tee "$log/$name.out"
  local rc=${PIPESTATUS[0]}
  echo "===== $name: exit $rc in $((SECONDS - start)) s"
  [ "$rc" -eq 0 ] || broken+=("$name")
}

# count NAME: adds a suite's own pass/fail counts to the totals.
count() {
  local f="$log/$1.out" p=0 q=0
  case $1 in
    native) # "file: N passed, N failed" per test program
      p=$(grep -E '^test/' "$f" | grep -Eo '[0-9]+ passed, [0-9]+ failed' | awk '{s+=$1} END {print s+0}')
      q=$(grep -E '^test/' "$f" | grep -Eo '[0-9]+ passed, [0-9]+ failed' | awk '{s+=$3} END {print s+0}') ;;
    java)   # surefire's per-module "Tests run: N, Failures: F, Errors: E, Skipped: S"
      read -r p q < <(grep -E '^\[?(INFO|ERROR|WARNING)?\]? ?Tests run: [0-9]+, Failures' "$f" \
        | grep -v ' in ' | sed -E 's/.*Tests run: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+), Skipped: ([0-9]+).*/\1 \2 \3 \4/' \
        | awk '{t+=$1; f+=$2+$3; s+=$4} END {print t-f-s+0, f+0}') ;;
    *)      # node --test: "# pass N" / "# fail N"
      p=$(awk '/^# pass /{s+=$3} END {print s+0}' "$f")
      q=$(awk '/^# fail /{s+=$3} END {print s+0}' "$f") ;;
  esac
  echo "  $1: $p passed, $q failed"
  passed=$((passed + p)); failed=$((failed + q))
}

run native make -C native test
run java mvn -B install
run js bash -c 'cd js && node --test test/'
run e2e bash -c 'cd tests && node --test --test-concurrency=1 e2e/'
run stress bash -c 'cd tests && node --test --test-concurrency=1 stress/'

echo "===== summary"
for s in native java js e2e stress; do count "$s"; done
# A suite that died before counting still fails the run.
for s in "${broken[@]}"; do
  echo "  suite $s failed"
  [ "$failed" -gt 0 ] || failed=1
done
echo "all: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#broken[@]} -eq 0 ]
