#!/usr/bin/env bash
# deps/build.sh - the static libraries of the release build that Debian does
# not ship position-independent, built from Debian's own source packages.
#
#   deps/build.sh jansson 2.14-2 PREFIX
#   deps/build.sh libuv1 1.44.2-1+deb12u1 PREFIX
#   deps/build.sh zlib 1.2.13.dfsg-1 PREFIX
#   deps/build.sh http-parser-bin 2.9.4-5 PREFIX   (a cross build only)
#
# Environment: CC and AR (the target's compiler and archiver: the cross
# build sets aarch64-linux-gnu-gcc), C4J_CACHE (where downloads are kept,
# default ~/.cache/comet4j-native).
#
# Why: Debian's libjansson.a and libz.a are not position-independent (no
# -fPIC; libz.a's deflate.o: "recompile with -fPIC") and Debian's
# libuv_a.a is built -fPIE, whose references to libc's data (environ) cannot
# go into a shared object; neither links into libcomet4j.so. Debian's
# libhiredis.a, libhttp_parser.a and libcrypto.a do, and are used as they
# are. So jansson and libuv are compiled here, -fPIC, from the very source
# package (upstream tarball and Debian's patches) of Debian 12's binaries
# (zlib the same way, for permessage-deflate),
# pinned by version and by the sha256 of both tarballs.
#
# Cache: the tarballs are downloaded once into $C4J_CACHE/src (apt-get
# source against a private lists folder, $C4J_CACHE/apt: the machine's apt
# sources and lists are read, never changed); the built library goes into
# PREFIX (include/, lib/) with a stamp PREFIX/.NAME-VERSION that make
# depends on, so a second make builds nothing. `make clean` removes PREFIX
# (it is under native/build/), not the downloads.
#
# http-parser-bin: Debian's libhttp-parser-dev is not Multi-Arch: same, so
# the arm64 one cannot be installed beside the machine's amd64 one (apt
# removes the other). Its .deb is downloaded (apt-get download, which needs
# the arm64 architecture that the cross build's install added) and only
# unpacked into PREFIX.
set -euo pipefail

die() { echo "deps: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: $0 jansson|libuv1|zlib|http-parser-bin VERSION PREFIX"
name=$1 version=$2 prefix=$3
CC=${CC:-cc}
AR=${AR:-ar}
cache=${C4J_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/comet4j-native}
upstream=${version%-*}   # 2.14-2 -> 2.14, 1.44.2-1+deb12u1 -> 1.44.2
orig_ext=tar.gz           # the upstream tarball's compression
epoch=                    # the version's epoch, for apt-get source

# The pins: the sha256 of the upstream tarball and of Debian's part.
case $name-$version in
  jansson-2.14-2)
    orig_sha=c739578bf6b764aa0752db9a2fdadcfe921c78f1228c7ec0bb47fa804c55d17b
    deb_sha=e89fe4fd8221f6934ddb50f2e7f8404311928d0e23e49a5599f3d3d14ee8cb88 ;;
  libuv1-1.44.2-1+deb12u1)
    orig_sha=d79b4b06ef04be85fb890bf39d55942cc64c2e15fd14eaa32dae5dce94485484
    deb_sha=14fc605e7d1520137416fd8c097b58a191be9b07bdbb406f7b39c7894b7d66a5 ;;
  zlib-1.2.13.dfsg-1)
    orig_ext=tar.bz2 epoch=1:
    orig_sha=71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1
    deb_sha=f66cf3d4f2d7defcd4d1fd1fb0a11ee39f1e01b42ec7d059c9dc5c1695133c44 ;;
  http-parser-bin-*) ;;
  *) die "no pinned checksums for $name $version: add them to $0" ;;
esac

triplet=$("$CC" -dumpmachine) || die "cannot run the compiler '$CC'"
case $triplet in
  x86_64-*) debarch=amd64 ;;
  aarch64-*) debarch=arm64 ;;
  *) die "unsupported target $triplet (linux-x86_64 and linux-aarch64 only)" ;;
esac

# ---- Downloads ---------------------------------------------------------------

# The machine's Debian sources, as deb-src, in a folder of our own.
apt_opts() {
  local a=$cache/apt
  mkdir -p "$a/parts" "$a/lists/partial" "$a/archives/partial"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      > "$a/parts/debian.sources"
  elif [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$a/parts/debian.list"
  else
    die "no Debian apt sources found (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)"
  fi
  APT=(apt-get -q -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$a/parts"
    -o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a" -o "Dir::Cache::archives=$a/archives"
    -o APT::Sandbox::User=root)
}

sha_ok() { [ -f "$1" ] && echo "$2  $1" | sha256sum -c --status; }

fetch_source() {
  local src=$cache/src orig deb
  orig=$src/${name}_${upstream}.orig.$orig_ext
  deb=$src/${name}_${version}.debian.tar.xz
  if sha_ok "$orig" "$orig_sha" && sha_ok "$deb" "$deb_sha"; then
    ORIG=$orig DEB=$deb
    return
  fi
  command -v apt-get >/dev/null || die "apt-get not found: the sources of $name come from Debian"
  echo "deps: downloading Debian's source package $name=$version into $src"
  apt_opts
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  "${APT[@]}" update >"$tmp/update.log" 2>&1 ||
    { cat "$tmp/update.log" >&2; die "apt-get update of the private deb-src lists failed"; }
  (cd "$tmp" && "${APT[@]}" source --download-only "$name=$epoch$version") >"$tmp/source.log" 2>&1 ||
    { cat "$tmp/source.log" >&2
      die "apt-get source $name=$version failed: that version may have left the archive; pin the current one (native/Makefile and $0)"; }
  mkdir -p "$src"
  sha_ok "$tmp/${orig##*/}" "$orig_sha" || die "${orig##*/}: sha256 differs from the pin"
  sha_ok "$tmp/${deb##*/}" "$deb_sha" || die "${deb##*/}: sha256 differs from the pin"
  mv "$tmp/${orig##*/}" "$orig"
  mv "$tmp/${deb##*/}" "$deb"
  ORIG=$orig DEB=$deb
}

# ---- Builds ------------------------------------------------------------------

# unpack DIR: the upstream tree with Debian's patches applied, in order.
unpack() {
  local dir=$1 p opts
  rm -rf "$dir"
  mkdir -p "$dir"
  tar xaf "$ORIG" -C "$dir" --strip-components=1
  tar xJf "$DEB" -C "$dir"
  if [ -f "$dir/debian/patches/series" ]; then
    while read -r p opts; do
      case $p in ''|'#'*) continue ;; esac
      patch -d "$dir" -s -f ${opts:--p1} < "$dir/debian/patches/$p" ||
        die "Debian patch $p of $name $version does not apply"
    done < "$dir/debian/patches/series"
  fi
}

# cmake_build DIR TARGET ARGS...: configures for the target and builds one
# library target.
cmake_build() {
  local dir=$1 target=$2
  shift 2
  command -v cmake >/dev/null || die "cmake not found (apt-get install cmake; .ci/install does)"
  local cross=()
  if [ "$triplet" != "$(cc -dumpmachine 2>/dev/null)" ]; then
    cross=(-DCMAKE_SYSTEM_NAME=Linux "-DCMAKE_SYSTEM_PROCESSOR=${triplet%%-*}")
  fi
  cmake -S "$dir" -B "$dir/_build" "${cross[@]}" \
    -DCMAKE_C_COMPILER="$(command -v "$CC")" -DCMAKE_AR="$(command -v "$AR")" \
    -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="$CFLAGS_DEPS" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON "$@" >"$dir/_build.log" 2>&1 ||
    { tail -30 "$dir/_build.log" >&2; die "cmake of $name failed (log: $dir/_build.log)"; }
  cmake --build "$dir/_build" --target "$target" -j "$(nproc)" >>"$dir/_build.log" 2>&1 ||
    { tail -30 "$dir/_build.log" >&2; die "build of $name failed (log: $dir/_build.log)"; }
}

# Debian's hardening (stack protector, fortify) as in its own build, but
# -fPIC instead of -fPIE; the symbols stay hidden in what links them.
CFLAGS_DEPS="-O2 -g -fPIC -fvisibility=hidden -fstack-protector-strong -D_FORTIFY_SOURCE=2"

stamp=$prefix/.$name-$version
mkdir -p "$prefix/include" "$prefix/lib" "$prefix/src"
rm -f "$stamp"

case $name in
  jansson)
    fetch_source
    dir=$prefix/src/jansson-$version
    unpack "$dir"
    cmake_build "$dir" jansson -DJANSSON_BUILD_SHARED_LIBS=OFF -DJANSSON_EXAMPLES=OFF \
      -DJANSSON_BUILD_DOCS=OFF -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_INSTALL=OFF
    cp "$dir/src/jansson.h" "$dir/_build/include/jansson_config.h" "$prefix/include/"
    cp "$dir/_build/lib/libjansson.a" "$prefix/lib/libjansson.a"
    ;;
  libuv1)
    fetch_source
    dir=$prefix/src/libuv1-$version
    unpack "$dir"
    cmake_build "$dir" uv_a -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF -DBUILD_TESTING=OFF
    rm -rf "$prefix/include/uv"
    cp -r "$dir/include/uv.h" "$dir/include/uv" "$prefix/include/"
    cp "$dir/_build/libuv_a.a" "$prefix/lib/libuv.a"
    ;;
  zlib)
    # zlib's own Makefile: the library alone, with the flags above (its
    # configure script would pick its own; the sources need none).
    fetch_source
    dir=$prefix/src/zlib-$version
    unpack "$dir"
    objs=()
    for f in adler32 crc32 deflate infback inffast inflate inftrees trees zutil \
        compress uncompr; do
      "$CC" $CFLAGS_DEPS -DHAVE_HIDDEN -c -o "$dir/$f.o" "$dir/$f.c" ||
        die "build of zlib's $f.c failed"
      objs+=("$dir/$f.o")
    done
    rm -f "$prefix/lib/libz.a"
    "$AR" rcs "$prefix/lib/libz.a" "${objs[@]}"
    cp "$dir/zlib.h" "$dir/zconf.h" "$prefix/include/"
    ;;
  http-parser-bin)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && apt-get -q download "libhttp-parser-dev:$debarch=$version") >"$tmp/log" 2>&1 ||
      { cat "$tmp/log" >&2
        die "apt-get download libhttp-parser-dev:$debarch=$version failed (is the $debarch architecture added? .ci/install-cross does it)"; }
    dpkg-deb -x "$tmp"/libhttp-parser-dev_*.deb "$tmp/x"
    cp "$tmp/x/usr/include/http_parser.h" "$prefix/include/"
    cp "$tmp/x/usr/lib/$triplet/libhttp_parser.a" "$prefix/lib/"
    ;;
  *) die "unknown dependency $name" ;;
esac

# A stale copy in the cache is the only way to get a wrong library here:
# say what was built, from what.
echo "deps: $name $version for $triplet in $prefix"
touch "$stamp"
