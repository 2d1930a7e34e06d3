#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the uWebSockets side of the broadcast comparison outside the repository: exports
# uWebSockets and uSockets from git with `git archive` into $OUT (their code is never copied into
# this tree), then builds with gcc/g++ -O3 -DNDEBUG, no SSL (LIBUS_NO_SSL), no zlib (UWS_NO_ZLIB):
#   $OUT/broadcast_test        uWebSockets' benchmarks/broadcast_test.c on uSockets (4th arg ssl = 0)
#   $OUT/uws_broadcast_server  our bench/uws_broadcast_server.cpp on uWebSockets' topics
#
#   bench/uws_build.sh
#   OUT=/tmp/uws UWS_GIT=~/src/uWebSockets/.git USOCKETS_GIT=~/src/uSockets/.git bench/uws_build.sh
#   taskset -c 0 /tmp/uws-build/uws_broadcast_server --port 9001 &
#   taskset -c 1 /tmp/uws-build/broadcast_test 100 127.0.0.1 9001 0
#
# Environment (defaults in brackets): UWS_GIT [/work/.mirror/uNetworking+uWebSockets/repo],
# USOCKETS_GIT [/work/.mirror/uNetworking+uSockets/repo] (git dirs, bare or not; HEAD is used),
# OUT [/tmp/uws-build], CC [gcc], CXX [g++].
# Idempotent: every run re-exports both trees into $OUT/src and rebuilds everything (a few
# seconds), so $OUT always matches the current HEADs and our server source.
# Prints the two binary paths last; exit status non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

UWS_GIT=${UWS_GIT:-/work/.mirror/uNetworking+uWebSockets/repo}
USOCKETS_GIT=${USOCKETS_GIT:-/work/.mirror/uNetworking+uSockets/repo}
OUT=${OUT:-/tmp/uws-build}
CC=${CC:-gcc}
CXX=${CXX:-g++}
SERVER_SRC=$PWD/bench/uws_broadcast_server.cpp

die() {
    echo "uws_build.sh: $*" >&2
    exit 1
}

[[ -f $SERVER_SRC ]] || die "missing $SERVER_SRC"
command -v git >/dev/null || die "git not found"
command -v "$CC" >/dev/null || die "$CC not found"
command -v "$CXX" >/dev/null || die "$CXX not found"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SRC=$OUT/src
OBJ=$OUT/obj

# export GIT_DIR DEST: a clean copy of HEAD, replacing whatever an earlier run left.
export_tree() {
    local git_dir=$1 dest=$2
    git --git-dir="$git_dir" rev-parse --verify -q HEAD >/dev/null || die "no HEAD in $git_dir"
    rm -rf "$dest"
    mkdir -p "$dest"
    git --git-dir="$git_dir" archive --format=tar HEAD | tar -x -C "$dest"
    echo "uws_build.sh: $(basename "$dest") $(git --git-dir="$git_dir" rev-parse HEAD)"
}

export_tree "$UWS_GIT" "$SRC/uWebSockets"
export_tree "$USOCKETS_GIT" "$SRC/uSockets"

US=$SRC/uSockets/src
UWS=$SRC/uWebSockets
[[ -f $UWS/benchmarks/broadcast_test.c ]] || die "no benchmarks/broadcast_test.c in $UWS_GIT"
[[ -f $UWS/src/App.h ]] || die "no src/App.h in $UWS_GIT"
[[ -f $US/libusockets.h ]] || die "no src/libusockets.h in $USOCKETS_GIT"

COMMON_FLAGS=(-O3 -DNDEBUG -DLIBUS_NO_SSL)

# uSockets: the plain-socket core and the epoll loop. The other event loops, io_uring, QUIC and
# the OpenSSL glue compile to nothing without their LIBUS_USE_* macro; sni_tree.cpp is SSL-only.
rm -rf "$OBJ"
mkdir -p "$OBJ"
US_OBJS=()
for c in "$US"/*.c "$US"/eventing/*.c "$US"/crypto/*.c; do
    o=$OBJ/$(basename "$(dirname "$c")")_$(basename "${c%.c}").o
    (set -x && "$CC" "${COMMON_FLAGS[@]}" -std=c11 -I"$US" -c "$c" -o "$o")
    US_OBJS+=("$o")
done

# broadcast_test.c uses `= {}` (a GNU C extension before C23), hence gnu11 rather than c11.
(set -x && "$CC" "${COMMON_FLAGS[@]}" -std=gnu11 -I"$US" \
    "$UWS/benchmarks/broadcast_test.c" "${US_OBJS[@]}" -o "$OUT/broadcast_test")

# Our server: header-only uWebSockets on the same uSockets objects. permessage-deflate is
# compiled out (the server disables it anyway), so no zlib headers or -lz.
(set -x && "$CXX" "${COMMON_FLAGS[@]}" -DUWS_NO_ZLIB -std=c++20 -I"$UWS/src" -I"$US" \
    "$SERVER_SRC" "${US_OBJS[@]}" -o "$OUT/uws_broadcast_server")

echo "$OUT/broadcast_test"
echo "$OUT/uws_broadcast_server"
