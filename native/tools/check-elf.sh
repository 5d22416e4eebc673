#!/usr/bin/env bash
# check-elf.sh [--glibc MAX] [--exports A,B] FILE... - the self-contained
# check of what ships (make jni and make node run it on each link): FILE
# needs only the C library family, no GLIBC symbol version above MAX
# (default 2.34), and, with --exports, defines no dynamic symbol but those
# listed. Prints one line per file; on a violation, says which entry or
# which symbols and exits 1. readelf reads any architecture's ELF, so the
# same check serves the aarch64 cross build.
set -uo pipefail

max=2.34 exports=
while [ $# -gt 0 ]; do
  case $1 in
    --glibc) max=$2; shift 2 ;;
    --exports) exports=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "check-elf: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--glibc MAX] [--exports A,B] FILE..." >&2; exit 2; }
command -v readelf >/dev/null || { echo "check-elf: readelf not found (binutils)" >&2; exit 2; }

# The C library family: what every glibc system has.
allowed='^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$'

# newer A B: true if version A is above version B (2.35 > 2.34, 2.4 < 2.34).
newer() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" = "$1" ]; }

status=0
for f in "$@"; do
  name=${f##*/}
  if ! readelf -h "$f" >/dev/null 2>&1; then
    echo "check-elf: $f: not an ELF file" >&2; status=1; continue
  fi
  problems=()

  needed=$(readelf -d -W "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  bad=$(printf '%s\n' "$needed" | grep -Ev "$allowed" | grep -v '^$' | tr '\n' ' ')
  [ -z "$bad" ] || problems+=("needs ${bad% } (only the C library family may be NEEDED: libc, libm, libpthread, libdl, librt, ld-linux; link the library statically)")

  # Every GLIBC version the file requires (.gnu.version_r), and the symbols
  # that require the ones above the baseline.
  versions=$(readelf -V -W "$f" | grep -o 'Name: GLIBC_[0-9.]*' | sed 's/Name: GLIBC_//' | sort -uV)
  top=$(printf '%s\n' "$versions" | tail -1)
  over=()
  for v in $versions; do newer "$v" "$max" && over+=("$v"); done
  if [ ${#over[@]} -gt 0 ]; then
    syms=$(readelf --dyn-syms -W "$f" | awk '{print $8}' | grep -E "@GLIBC_($(IFS='|'; echo "${over[*]}" | sed 's/\./\\./g'))( |$)" | sort -u | tr '\n' ' ')
    problems+=("requires GLIBC_${top} (the baseline is ${max}: Debian 12, Ubuntu 22.04, RHEL 9): ${syms% }")
  fi

  if [ -n "$exports" ]; then
    extra=$(readelf --dyn-syms -W "$f" | awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && $5 != "LOCAL" && $8 != "" {sub(/@.*/, "", $8); print $8}' \
      | grep -Evx "$(echo "$exports" | tr ',' '|')" | sort -u | tr '\n' ' ')
    [ -z "$extra" ] || problems+=("exports ${extra% } (only ${exports//,/, } may be: tools/jni.map)")
  fi

  if [ ${#problems[@]} -gt 0 ]; then
    for p in "${problems[@]}"; do echo "check-elf: $name: $p" >&2; done
    status=1
  else
    echo "check-elf: $name: ok: NEEDED $(echo $needed | tr ' ' ','), GLIBC <= ${top:-none} (baseline $max)"
  fi
done
exit $status
