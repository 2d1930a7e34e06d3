#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# aster as another project uses it. Installs this build of aster into a temporary prefix, moves
# the prefix elsewhere (the installed files must be relocatable), then builds and runs
# tests/package/consumer/main.cpp (examples/hello's HTTP part; it exits non-zero on a wrong
# answer) in steps 2 to 5:
#   1. install      cmake --install (CMake build) or meson install --destdir (meson build)
#   2. find_package a CMake project: find_package(aster CONFIG REQUIRED), aster::aster and
#                   aster::compiled
#   3. pkg-config   g++ main.cpp $(pkg-config --cflags --libs aster), and aster-compiled
#   4. single       only the installed include/aster.hpp copied into an empty directory, plus
#                   Asio and llhttp from the system
#   5. subproject   a meson project with aster (this source tree) in subprojects/, through
#                   dependency('aster')
# Registered as the test `package` by both builds (CMakeLists.txt via cmake/install.cmake, and
# meson.build).
#
#   tests/package/check.sh cmake BUILD_DIR [options]
#   tests/package/check.sh meson BUILD_DIR [options]
# Options: --cxx CXX --cc CC (compilers, default c++ and cc), --cmake CMAKE, --keep (keep the
#   work directory), and for step 4 either --llhttp-sources DIR (llhttp's C sources) or
#   --llhttp-library LIB (an installed llhttp: a file or link flags; default -lllhttp), with
#   --llhttp-include DIR.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="$(cd "$here/../.." && pwd)"

usage() {
    sed -n '/^#   tests/,/^#   --llhttp-include/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -ge 2 ]] || usage
build_kind="$1"
build_dir="$(cd "$2" && pwd)" || exit 2
shift 2
cxx=c++
cc=cc
cmake=cmake
llhttp_sources=""
llhttp_library="-lllhttp"
llhttp_include=""
keep=0
while [[ $# -gt 0 ]]; do
    case "$1" in
    --cxx) cxx="$2"; shift 2 ;;
    --cc) cc="$2"; shift 2 ;;
    --cmake) cmake="$2"; shift 2 ;;
    --llhttp-sources) llhttp_sources="$2"; shift 2 ;;
    --llhttp-include) llhttp_include="$2"; shift 2 ;;
    --llhttp-library) llhttp_library="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) usage ;;
    esac
done
[[ "$build_kind" == cmake || "$build_kind" == meson ]] || usage
# meson names its compilers with ccache in front; the launcher is added below where it helps.
cxx="${cxx#ccache }"
cc="${cc#ccache }"

work="$(mktemp -d "${TMPDIR:-/tmp}/aster-pkg-XXXXXX")" || exit 1
started=$SECONDS
finish() {
    local status=$?
    if [[ $status -eq 0 && $keep -eq 0 ]]; then
        rm -rf "$work"
    else
        echo "package: work directory kept: $work"
    fi
}
trap finish EXIT
cd "$work" || exit 1

fail() {
    echo "package: FAILED: $*" >&2
    exit 1
}

# step TITLE: ends the current step, printing its time, and starts the next (none: the end).
step_name=""
step_started=$SECONDS
step() {
    if [[ -n "$step_name" ]]; then
        echo "    ${step_name%%:*}: ok ($((SECONDS - step_started)) s)"
    fi
    step_name="$*"
    step_started=$SECONDS
    if [[ -n "$step_name" ]]; then
        echo
        echo "==> package: $step_name"
    fi
}

# run LOG COMMAND...: runs a command with its output in LOG; shows the output if it fails.
run() {
    local log="$1"
    shift
    echo "    \$ $*"
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        fail "command failed ($(basename "$log")): $*"
    fi
}

# ccache for the consumer builds, when present. Paths under the work directory are rewritten
# relative to it, so a later run in another temporary directory still hits the cache.
launcher=()
if command -v ccache >/dev/null 2>&1 && [[ "$cxx" != *ccache* ]]; then
    launcher=(ccache)
    export CCACHE_BASEDIR="$work"
fi

# check_headers DEPFILE DIR: the aster headers a compile in DIR read came from the installed
# prefix only. (Paths may go through lib/pkgconfig/../.., or with ccache be relative to DIR.)
check_headers() {
    local deps="$1" umbrella found=0
    while read -r umbrella; do
        [[ "$(cd "$2" && realpath -m "$umbrella")" == "$prefix/include/aster/aster.hpp" ]] ||
            fail "the build read $umbrella, not $prefix/include/aster/aster.hpp (see $deps)"
        found=1
    done < <(grep -o '[^ ]*include/aster/aster\.hpp' "$deps" | sort -u)
    [[ $found -eq 1 ]] || fail "the build did not read $prefix/include/aster/aster.hpp (see $deps)"
    if grep -q "$source_dir/include/" "$deps"; then
        fail "the build read headers from the source tree $source_dir/include (see $deps)"
    fi
    echo "    headers came from the installed prefix"
}

consumer="$here/consumer"
version="$(sed -n 's/^#define ASTER_VERSION_STRING "\([0-9.]*\)"/\1/p' "$source_dir/include/aster/version.hpp")"
[[ -n "$version" ]] || fail "no version in $source_dir/include/aster/version.hpp"

# --- 1. install ------------------------------------------------------------------------------

stage="$work/stage"
prefix="$work/prefix"
if [[ "$build_kind" == cmake ]]; then
    step "1. install: cmake --install $build_dir into a temporary prefix"
    run "$work/install.log" "$cmake" --install "$build_dir" --prefix "$stage"
    mv "$stage" "$prefix" || fail "cannot move the installed tree"
else
    step "1. install: meson install --destdir from $build_dir"
    meson_prefix="$(meson introspect "$build_dir" --buildoptions | python3 -c \
        'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')" ||
        fail "cannot read the meson prefix of $build_dir"
    run "$work/install.log" meson install -C "$build_dir" --no-rebuild --destdir "$stage"
    mv "$stage$meson_prefix" "$prefix" || fail "cannot move the installed tree"
fi
echo "    installed, then moved to $prefix (the files must find their prefix themselves)"

config="$(find "$prefix" -name aster-config.cmake -print -quit)"
pc_file="$(find "$prefix" -name aster.pc -print -quit)"
[[ -n "$config" ]] || fail "no aster-config.cmake installed"
[[ -n "$pc_file" ]] || fail "no aster.pc installed"
libdir="$(dirname "$(dirname "$pc_file")")"
for file in "$prefix/include/aster/aster.hpp" "$prefix/include/aster/test_client.hpp" \
            "$prefix/include/aster/detail/impl/http_parser.ipp" "$prefix/include/aster.hpp" \
            "$(dirname "$config")/aster-config-version.cmake" "$libdir/libaster_compiled.a"; do
    [[ -f "$file" ]] || fail "not installed: ${file#"$prefix"/}"
done
cmp -s "$prefix/include/aster.hpp" "$source_dir/single_include/aster.hpp" ||
    fail "include/aster.hpp differs from single_include/aster.hpp"
if [[ -f "$libdir/libaster_llhttp.a" ]]; then
    [[ -f "$prefix/include/aster/llhttp/llhttp.h" ]] || fail "libaster_llhttp.a without llhttp.h"
    echo "    llhttp: libaster_llhttp.a and include/aster/llhttp/llhttp.h"
fi
# Relocatable means no path of the build machine's trees in what was installed.
if grep -rl --include='*.pc' --include='*.cmake' --include='*.h' --include='*.hpp' \
        --include='*.ipp' -e "$source_dir" -e "$build_dir" -e "$stage" "$prefix" >"$work/paths.txt"; then
    cat "$work/paths.txt" >&2
    fail "installed files name the source, build or staging directory"
fi
echo "    $(find "$prefix" -type f | wc -l) files; no text file names the source, build or staging tree"

# --- 2. find_package -------------------------------------------------------------------------

step "2. find_package: CMake project with find_package(aster CONFIG REQUIRED)"
cmake_args=(-S "$consumer" -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix"
            -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON -DCMAKE_CXX_COMPILER="$cxx"
            -DASTER_EXPECTED_VERSION="$version")
if [[ ${#launcher[@]} -gt 0 ]]; then
    cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
run "$work/cmake-configure.log" "$cmake" "${cmake_args[@]}"
found_dir="$(sed -n 's/^aster_DIR:PATH=//p' "$work/cmake/CMakeCache.txt")"
[[ "$found_dir" == "$(dirname "$config")" ]] ||
    fail "find_package found aster in '$found_dir', not in the prefix ($(dirname "$config"))"
echo "    aster_DIR=$found_dir"
run "$work/cmake-build.log" "$cmake" --build "$work/cmake" -j 2
ninja -C "$work/cmake" -t deps >"$work/cmake-deps.txt" || fail "ninja -t deps failed"
check_headers "$work/cmake-deps.txt" "$work/cmake"
echo "    \$ consumer"
timeout 60 "$work/cmake/consumer" || fail "the program linked with aster::aster failed"
echo "    \$ consumer_compiled"
timeout 60 "$work/cmake/consumer_compiled" || fail "the program linked with aster::compiled failed"

# --- 3. pkg-config ---------------------------------------------------------------------------

step "3. pkg-config: g++ main.cpp \$(pkg-config --cflags --libs aster)"
PKG_CONFIG_PATH="$(dirname "$pc_file")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
got="$(pkg-config --modversion aster)" || fail "pkg-config does not find aster"
[[ "$got" == "$version" ]] || fail "pkg-config --modversion aster is '$got', not $version"
mkdir -p "$work/pkg-config" || fail "mkdir failed"
for package in aster aster-compiled; do
    flags="$(pkg-config --cflags --libs "$package")" || fail "pkg-config $package failed"
    echo "    pkg-config --cflags --libs $package: $flags"
    # The same flags to compile and to link, as `g++ main.cpp $(pkg-config ...)` passes them;
    # two commands, so that ccache can keep the compile. Word splitting of $flags is what a
    # shell user's $(pkg-config ...) does too.
    # shellcheck disable=SC2086
    run "$work/pkg-config/$package.log" "${launcher[@]}" $cxx -std=c++20 -c "$consumer/main.cpp" \
        -o "$work/pkg-config/$package.o" -MD -MF "$work/pkg-config/$package.d" $flags
    # shellcheck disable=SC2086
    run "$work/pkg-config/$package-link.log" $cxx -std=c++20 "$work/pkg-config/$package.o" \
        -o "$work/pkg-config/$package" $flags
    check_headers "$work/pkg-config/$package.d" "$work"
    echo "    \$ $package"
    timeout 60 "$work/pkg-config/$package" || fail "the program built with $package failed"
done

# --- 4. the single header --------------------------------------------------------------------

step "4. single header: include/aster.hpp alone in an empty directory"
single="$work/single"
if ! mkdir -p "$single" || ! cp "$prefix/include/aster.hpp" "$consumer/main.cpp" "$single/"; then
    fail "cannot set up $single"
fi
llhttp_flags=()
llhttp_objects=()
if [[ -n "$llhttp_sources" ]]; then
    llhttp_flags=(-I"$llhttp_include")
    for name in api http llhttp; do
        # shellcheck disable=SC2086
        run "$single/$name.log" "${launcher[@]}" $cc -O2 -c "$llhttp_sources/$name.c" \
            -I"$llhttp_include" -o "$single/$name.o"
        llhttp_objects+=("$single/$name.o")
    done
else
    llhttp_flags=(${llhttp_include:+-I"$llhttp_include"})
    read -r -a llhttp_objects <<<"$llhttp_library"
fi
# shellcheck disable=SC2086
run "$single/build.log" "${launcher[@]}" $cxx -std=c++20 -DASTER_CONSUMER_SINGLE_HEADER \
    -I"$single" "${llhttp_flags[@]}" -c "$single/main.cpp" -o "$single/main.o" -MD -MF "$single/main.d"
# shellcheck disable=SC2086
# Nothing but Asio and llhttp: the extras are off unless switched on, whatever is installed.
run "$single/link.log" $cxx "$single/main.o" "${llhttp_objects[@]}" -pthread -o "$single/consumer"
if grep -e "$source_dir/include" -e "$prefix/include" -e "/include/aster/" "$single/main.d" >&2; then
    fail "the single-header build read the headers above instead of $single/aster.hpp alone"
fi
grep -q "single/aster.hpp" "$single/main.d" || fail "the single-header build did not read aster.hpp"
echo "    only $single/aster.hpp was read"
echo "    \$ consumer"
timeout 60 "$single/consumer" || fail "the single-header program failed"

# --- 5. meson subproject ---------------------------------------------------------------------

step "5. meson subproject: dependency('aster') with aster in subprojects/"
project="$work/meson-project"
if ! mkdir -p "$project/subprojects" || ! cp "$consumer/main.cpp" "$consumer/meson.build" "$project/" ||
   ! ln -s "$source_dir" "$project/subprojects/aster"; then
    fail "cannot set up $project"
fi
# plain: no -g, so ccache hits do not depend on the temporary directory's name.
run "$work/meson-setup.log" env CXX="${launcher[*]} $cxx" CC="${launcher[*]} $cc" \
    meson setup "$project/build" "$project" -Dbuildtype=plain
run "$work/meson-build.log" meson compile -C "$project/build" -j 2
echo "    \$ consumer"
timeout 60 "$project/build/consumer" || fail "the meson subproject program failed"

step
echo
echo "package: PASSED: install ($build_kind), find_package, pkg-config, single header, meson subproject ($((SECONDS - started)) s)"
