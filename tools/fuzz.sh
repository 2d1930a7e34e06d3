#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds every libFuzzer harness in tests/fuzz/*.cpp with clang++ (ASan + UBSan) into build/fuzz,
# runs each for a bounded time on its committed seed corpus (tests/fuzz/corpus/<name>/) and
# dictionary (tests/fuzz/<name>.dict, if any), two at a time, and prints the executions of each.
# Exits non-zero on any crash, leak, timeout or OOM; the input is kept as build/fuzz/artifacts/<name>/.
#
#   ./tools/fuzz.sh                 # every harness, ASTER_FUZZ_SECONDS (45) each
#   ./tools/fuzz.sh utf8 url        # only these
#
# Environment: ASTER_FUZZ_SECONDS (default 45), ASTER_FUZZ_JOBS (harnesses at once, default 2),
# ASTER_FUZZ_DIR (default build/fuzz), CXX/CC (default clang++/clang), ASTER_SKIP_DEPS=1.
# A harness that fails replays with: build/fuzz/bin/<name> build/fuzz/artifacts/<name>/crash-...
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
# shellcheck source=tools/install_deps.sh
source "$root/tools/install_deps.sh"
aster_install_deps fuzz || { echo "fuzz.sh: installing dependencies failed" >&2; exit 1; }

seconds="${ASTER_FUZZ_SECONDS:-45}"  # nine harnesses, two at a time: about 3.5 minutes
jobs="${ASTER_FUZZ_JOBS:-2}"
out="${ASTER_FUZZ_DIR:-build/fuzz}"
cxx="${CXX:-clang++}"
cc="${CC:-clang}"
llhttp_src="${ASTER_LLHTTP_SOURCE_DIR:-/usr/share/llhttp}"
llhttp_inc="${ASTER_LLHTTP_INCLUDE_DIR:-/usr/share/include/llhttp}"
launcher=()
# permessage-deflate and gzip where zlib is (the harnesses for them need it).
zlib_flags=()
zlib_define=()
if [[ -f /usr/include/zlib.h ]]; then
    zlib_flags=(-lz)
    zlib_define=(-DASTER_HAS_ZLIB)
fi
command -v ccache >/dev/null 2>&1 && launcher=(ccache)

# -fno-sanitize=function: clang 14's function sanitizer cannot place its prologue data on
# coroutine pieces ("Cannot represent a difference across sections"). Asio 1.22 enables
# co_await for clang only with <experimental/coroutine>, which libstdc++ lacks: say so here.
sanitize=(-fsanitize=address,undefined -fno-sanitize=function -fno-sanitize-recover=all)
cxxflags=(-std=c++20 -O1 -g "${sanitize[@]}" -DASIO_HAS_CO_AWAIT=1 -DASIO_HAS_STD_COROUTINE=1
          "${zlib_define[@]}" -I"$root/include" -I"$llhttp_inc" -pthread)

if [[ $# -gt 0 ]]; then
    names=("$@")
else
    names=()
    for f in tests/fuzz/*.cpp; do names+=("$(basename "$f" .cpp)"); done
fi

mkdir -p "$out/obj" "$out/bin" "$out/logs" "$out/artifacts" "$out/corpus"
echo "fuzz.sh: building ${names[*]} with $cxx"
build_started=$SECONDS
for f in api http llhttp; do
    "${launcher[@]}" "$cc" -O1 -g -fsanitize=address,undefined,fuzzer-no-link -I"$llhttp_inc" \
        -c "$llhttp_src/$f.c" -o "$out/obj/llhttp_$f.o" || { echo "fuzz.sh: llhttp build failed" >&2; exit 1; }
done
# Compile (the slow, cached part) `jobs` at a time, then link each with libFuzzer.
build_one() {
    local name="$1"
    "${launcher[@]}" "$cxx" "${cxxflags[@]}" -fsanitize=fuzzer-no-link -c "tests/fuzz/$name.cpp" \
        -o "$out/obj/$name.o" >"$out/logs/$name.build" 2>&1 &&
        "$cxx" "${cxxflags[@]}" -fsanitize=fuzzer "$out/obj/$name.o" "$out"/obj/llhttp_*.o \
            "${zlib_flags[@]}" -o "$out/bin/$name" >>"$out/logs/$name.build" 2>&1
}
declare -A build_pid
build_failed=0
for name in "${names[@]}"; do
    [[ -f "tests/fuzz/$name.cpp" ]] || { echo "fuzz.sh: no harness tests/fuzz/$name.cpp" >&2; exit 1; }
    while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do wait -n; done
    build_one "$name" &
    build_pid[$name]=$!
done
for name in "${names[@]}"; do
    if ! wait "${build_pid[$name]}"; then
        echo "fuzz.sh: building $name failed:" >&2
        cat "$out/logs/$name.build" >&2
        build_failed=1
    fi
done
[[ $build_failed -eq 0 ]] || exit 1
echo "fuzz.sh: built in $((SECONDS - build_started)) s; running each for $seconds s, $jobs at a time"

run_one() {
    local name="$1" seeds="tests/fuzz/corpus/$1" dict=()
    mkdir -p "$out/corpus/$name" "$out/artifacts/$name" "$seeds"
    [[ -f "tests/fuzz/$name.dict" ]] && dict=(-dict="tests/fuzz/$name.dict")
    # The first corpus directory is the writable one: new inputs go to build/, never the seeds.
    "$out/bin/$name" "$out/corpus/$name" "$seeds" "${dict[@]}" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$name/" >"$out/logs/$name.log" 2>&1
}
declare -A run_pid
run_started=$SECONDS
for name in "${names[@]}"; do
    while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do wait -n; done
    run_one "$name" &
    run_pid[$name]=$!
done
failed=0
declare -A status
for name in "${names[@]}"; do
    if wait "${run_pid[$name]}"; then status[$name]=ok; else status[$name]=FAILED; failed=1; fi
done

echo
printf '%-16s %-8s %14s %10s %s\n' harness result executions corpus artifact
for name in "${names[@]}"; do
    log="$out/logs/$name.log"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    units=$(find "$out/corpus/$name" -type f | wc -l)
    artifact=$(find "$out/artifacts/$name" -type f -newer "$out/bin/$name" | head -1)
    printf '%-16s %-8s %14s %10s %s\n' "$name" "${status[$name]}" "${execs:-?}" "$units" "${artifact:--}"
done
echo "fuzz.sh: ran in $((SECONDS - run_started)) s"
if [[ $failed -ne 0 ]]; then
    for name in "${names[@]}"; do
        if [[ ${status[$name]} != ok ]]; then
            echo
            echo "==> $name failed; the end of $out/logs/$name.log:"
            grep -v '^#[0-9]' "$out/logs/$name.log" | tail -40
        fi
    done
    exit 1
fi
