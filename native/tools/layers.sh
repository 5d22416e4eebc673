#!/usr/bin/env bash
# layers.sh TABLE OBJECT... - checks that no object of the core calls a
# function or uses a variable defined in an object of a higher layer.
#
# TABLE has one line per source file, "<layer-number> <file.c>" (a lower
# number is a lower layer; "#" starts a comment).  An object x.o is the
# file x.c of the table, whatever its folder.  A symbol an object leaves
# undefined (nm's U) and another object given defines is a use of that
# object; calls to libraries (libuv, jansson, libc...) are not looked at.
# Same-layer uses are allowed.
#
# Prints one line per use of a higher layer, and one per object missing
# from the table (a new file must be placed), then exits 1; exits 0 when
# there is none, 2 on a usage error.  A line of the table whose file has no
# object is only warned about.  Needs bash, binutils' nm and awk.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 TABLE OBJECT..." >&2
  exit 2
fi
table=$1
shift
[ -r "$table" ] || { echo "layers: cannot read $table" >&2; exit 2; }
for o in "$@"; do
  [ -r "$o" ] || { echo "layers: cannot read $o" >&2; exit 2; }
done

# nm -P -A: "FILE: SYMBOL TYPE [VALUE SIZE]", one line per symbol.
nm -P -A "$@" | awk -v table="$table" '
  BEGIN {
    while ((rc = getline line < table) > 0) {
      ln++
      sub(/#.*/, "", line)
      if (line ~ /^[ \t]*$/) continue
      n = split(line, f)
      if (n != 2 || f[1] !~ /^[0-9]+$/ || f[2] !~ /\.c$/) {
        printf "layers: %s:%d: not \"<layer> <file.c>\": %s\n", table, ln, line
        bad_table = 1
        continue
      }
      sub(/.*\//, "", f[2])
      if (f[2] in layer) {
        printf "layers: %s:%d: %s is in the table twice\n", table, ln, f[2]
        bad_table = 1
        continue
      }
      layer[f[2]] = f[1] + 0
    }
    if (rc < 0) { printf "layers: cannot read %s\n", table; fatal = 2 }
    if (bad_table) fatal = 2
    if (fatal) exit fatal
  }
  {
    file = $1
    sub(/:$/, "", file)
    sub(/.*\//, "", file)
    sub(/\.o$/, ".c", file)
    seen[file] = 1
    sym = $2; type = $3
    if (type == "U" || type == "w" || type == "v") {
      uses[++nuses] = file SUBSEP sym
    } else if (type ~ /^[A-Z]$/) {
      def[sym] = file
      kind[sym] = type ~ /^[TW]$/ ? "calls" : "uses"
    }
  }
  END {
    if (fatal) exit fatal   # awk runs END after an exit in BEGIN
    for (name in seen)
      if (!(name in layer)) {
        printf "layers: %s is not in %s: give it a layer\n", name, table
        bad++
      }
    # A stale line is only a warning: the check may run on fewer objects.
    for (name in layer)
      if (!(name in seen))
        printf "layers: warning: %s of %s has no object\n", name, table \
          > "/dev/stderr"
    for (i = 1; i <= nuses; i++) {
      split(uses[i], u, SUBSEP)
      caller = u[1]; sym = u[2]
      if (!(sym in def)) continue          # a library
      callee = def[sym]
      if (!(caller in layer) || !(callee in layer)) continue
      if (layer[callee] > layer[caller]) {
        printf "layers: %s (layer %d) %s %s of %s (layer %d)\n", caller,
               layer[caller], kind[sym], sym, callee, layer[callee]
        bad++
      }
    }
    if (bad) { printf "layers: %d problem(s)\n", bad; exit 1 }
  }'
