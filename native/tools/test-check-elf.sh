#!/usr/bin/env bash
# test-check-elf.sh CC DIR [FILE...] - the self-test of check-elf.sh (make
# test-elf, run by make test): throwaway shared objects built in DIR that
# need libz (zlib1g-dev), call arc4random (GLIBC_2.36, above the 2.34 baseline) or export
# a function besides JNI_OnLoad must each fail it, naming the cause; a
# clean one passes; then every FILE given (the real libcomet4j.so and
# comet4j-node) passes. Ends with "test/check-elf: N passed, N failed".
set -u
CC=${1:-cc} dir=${2:-build/check-elf-test}
shift 2 || shift $#
tool="$(dirname "$0")/check-elf.sh"
mkdir -p "$dir"
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "  ok: $1"; }
bad() { fail=$((fail+1)); echo "  FAILED: $1"; sed 's/^/    | /' "$dir/out"; }

# so NAME SOURCE [LIBS]: a shared object with a version script keeping only
# JNI_OnLoad and what SOURCE marks visible.
so() {
  printf '%s\n' "$2" > "$dir/$1.c"
  $CC -shared -fPIC -fvisibility=hidden -o "$dir/$1.so" "$dir/$1.c" ${3:-} 2> "$dir/$1.log"
}
# expect NAME STATUS ARGS... PATTERN: runs the tool; passes when it exits
# STATUS and its output matches PATTERN (a grep -E expression).
expect() {
  local what=$1 want=$2; shift 2
  local pat=${*: -1}
  "$tool" "${@:1:$#-1}" > "$dir/out" 2>&1; local rc=$?
  if [ "$rc" -eq "$want" ] && grep -Eq -- "$pat" "$dir/out"; then ok "$what"; else bad "$what (exit $rc)"; fi
}

V='__attribute__((visibility("default")))'
so clean "#include <unistd.h>
$V int JNI_OnLoad(void *vm, void *r) { return (int)getpid(); }" || { echo "test/check-elf: 0 passed, 1 failed"; exit 1; }
so zlib "#include <zlib.h>
$V int JNI_OnLoad(void *vm, void *r) { return (int)zlibVersion()[0]; }" "-Wl,--no-as-needed -lz"
so glibc236 "#include <stdlib.h>
$V int JNI_OnLoad(void *vm, void *r) { return (int)arc4random(); }"
so export "$V int JNI_OnLoad(void *vm, void *r) { return 0; }
$V int uv_run(void *l, int m) { return m; }"

expect "a clean library passes" 0 --exports JNI_OnLoad,JNI_OnUnload "$dir/clean.so" 'clean.so: ok: NEEDED libc.so.6'
expect "NEEDED libz.so.1 fails, named" 1 "$dir/zlib.so" 'zlib.so: needs libz\.so\.1 \(only the C library family'
expect "arc4random needs GLIBC_2.36: fails naming the symbol" 1 "$dir/glibc236.so" \
  'glibc236.so: requires GLIBC_2\.36 \(the baseline is 2\.34.*arc4random@GLIBC_2\.36'
expect "the same passes with --glibc 2.36" 0 --glibc 2.36 "$dir/glibc236.so" 'ok: .*GLIBC <= 2\.36'
expect "an extra export fails, named" 1 --exports JNI_OnLoad,JNI_OnUnload "$dir/export.so" \
  'export.so: exports uv_run \(only JNI_OnLoad, JNI_OnUnload'
expect "not an ELF file fails" 1 "$dir/clean.c" 'not an ELF file'
for f in "$@"; do
  case $f in
    *.so) expect "${f##*/}: only the C library family, GLIBC <= 2.34, exports JNI_On*" 0 \
            --exports JNI_OnLoad,JNI_OnUnload "$f" 'ok: NEEDED' ;;
    *)    expect "${f##*/}: only the C library family, GLIBC <= 2.34" 0 "$f" 'ok: NEEDED' ;;
  esac
done
echo "test/check-elf: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
