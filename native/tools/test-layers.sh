#!/usr/bin/env bash
# test-layers.sh CC DIR - the self-test of layers.sh (make test-layers): two
# throwaway objects built in DIR, low.o calling a function and using a
# variable of high.o (and libc), checked against tables that put them in
# either order.  Ends with "test/layers: N passed, N failed".
set -u
CC=${1:-cc} dir=${2:-build/layers-test}
tool="$(dirname "$0")/layers.sh"
mkdir -p "$dir"
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "  ok: $1"; }
bad() { fail=$((fail+1)); echo "  FAILED: $1"; sed 's/^/    | /' "$dir/out"; }

cat > "$dir/low.c" <<'EOF'
#include <string.h>
extern int high_var;
int high_fn(const char *s);
int low_fn(const char *s) { return high_fn(s) + high_var + (int)strlen(s); }
EOF
cat > "$dir/high.c" <<'EOF'
int high_var = 1;
int high_fn(const char *s) { return s[0]; }
EOF
if ! $CC -c -o "$dir/low.o" "$dir/low.c" ||
   ! $CC -c -o "$dir/high.o" "$dir/high.c"; then
  echo "test/layers: 0 passed, 1 failed"; exit 1
fi

# expect NAME STATUS TABLE-TEXT [PATTERN...]: runs the tool on both objects
# with that table; passes when it exits STATUS and prints every PATTERN.
expect() {
  local name=$1 want=$2 text=$3 rc p; shift 3
  printf '%b' "$text" > "$dir/layers.txt"
  bash "$tool" "$dir/layers.txt" "$dir/low.o" "$dir/high.o" \
    > "$dir/out" 2>&1
  rc=$?
  if [ "$rc" -ne "$want" ]; then bad "$name (exit $rc, not $want)"; return; fi
  for p in "$@"; do
    grep -qF -- "$p" "$dir/out" || { bad "$name (no \"$p\")"; return; }
  done
  ok "$name"
}

expect "a lower layer calling a higher one fails, naming both" 1 \
  '1 low.c\n2 high.c\n' \
  "low.c (layer 1) calls high_fn of high.c (layer 2)" \
  "low.c (layer 1) uses high_var of high.c (layer 2)"
expect "the reverse passes; libc is not looked at" 0 \
  '# a comment\n\n2 low.c  # caller\n1 high.c\n'
expect "the same layer passes" 0 '3 low.c\n3 high.c\n'
expect "an object missing from the table fails" 1 '2 high.c\n' "low.c is not in"
expect "a folder in the table is ignored" 0 '2 src/low.c\n1 src/high.c\n'
expect "a line without an object is only a warning" 0 \
  '2 low.c\n1 high.c\n3 gone.c\n' "warning: gone.c of"
expect "a bad table line is a usage error" 2 'one low.c\n2 high.c\n' \
  "not \"<layer> <file.c>\""
expect "a file twice in the table is a usage error" 2 \
  '1 low.c\n2 low.c\n1 high.c\n' "twice"

echo "test/layers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
