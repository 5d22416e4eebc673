#!/usr/bin/env bash
# tools/fuzz.sh SECONDS BUILD TARGET... - runs each libFuzzer target
# BUILD/fuzz/TARGET for SECONDS on its corpus (BUILD/fuzz/corpus/TARGET,
# which grows, over the seeds of fuzz/corpus/TARGET), then prints for each
# one line: executions, executions a second, libFuzzer's coverage figures
# (cov: code edges reached, ft: features, from its final line), the
# corpus size, and OK or the path of the crash it wrote (or the log when
# it failed otherwise, e.g. a leak found at exit).  Exits 1 when any target
# failed, after running them all.  Run by `make fuzz` (FUZZ_SECONDS,
# FUZZ_TARGETS); the full log of each target is BUILD/fuzz/TARGET.log.
set -uo pipefail

secs=$1 build=$2
shift 2
failed=0
summary=()
for t in "$@"; do
  bin=$build/fuzz/$t log=$build/fuzz/$t.log
  mkdir -p "$build/fuzz/corpus/$t"
  echo "== $t ($secs s)"
  # -timeout: one input over 25 s is a hang (the engine targets bound
  # every wait well below it); crashes go to BUILD/fuzz/TARGET-crash-*.
  "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=25 \
    -artifact_prefix="$build/fuzz/$t-" \
    "$build/fuzz/corpus/$t" "fuzz/corpus/$t" > "$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    result=OK
  else
    failed=1
    grep -E '^==[0-9]+==ERROR|^SUMMARY|^INFO: libFuzzer|deadly signal' \
      "$log" | head -5
    result="FAILED (exit $rc): ${crash:-see $log}"
  fi
  line=$(printf '%-12s %10s runs %7s exec/s  cov %5s  ft %6s  corpus %-10s %s' \
    "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
    "$result")
  echo "$line"
  summary+=("$line")
done
echo "== fuzz: $secs s each"
printf '%s\n' "${summary[@]}"
exit $failed
