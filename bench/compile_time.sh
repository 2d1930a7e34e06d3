#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Compile time of a user's file: `g++ -std=c++20 -O2 -c examples/hello/main.cpp`, header-only
# and with ASTER_SEPARATE_COMPILATION, against bench/bare_echo.cpp (a bare Asio coroutine echo
# server). Alternating rounds, medians, ratios. ROUNDS (default 3) and CXX are settings.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-3}
cxx=${CXX:-g++}
llhttp_include=${LLHTTP_INCLUDE:-/usr/share/include/llhttp}
flags=(-std=c++20 -O2 -c -o /dev/null -I"$root/include" -I"$llhttp_include")

seconds() { # prints the wall time of one compile
    local start end
    start=$(date +%s.%N)
    "$cxx" "${flags[@]}" "$@"
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f\n", b - a}'
}
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

declare -a bare=() header_only=() separate=()
for ((i = 1; i <= rounds; i++)); do
    bare+=("$(seconds "$root/bench/bare_echo.cpp")")
    header_only+=("$(seconds -I"$root/examples/hello" "$root/examples/hello/main.cpp")")
    separate+=("$(seconds -DASTER_SEPARATE_COMPILATION -I"$root/examples/hello" "$root/examples/hello/main.cpp")")
    echo "round $i: bare ${bare[-1]} s, header-only ${header_only[-1]} s, separate ${separate[-1]} s"
done
b=$(printf '%s\n' "${bare[@]}" | median)
h=$(printf '%s\n' "${header_only[@]}" | median)
s=$(printf '%s\n' "${separate[@]}" | median)
echo
echo "median over $rounds rounds ($cxx -O2 -c)"
printf '%-46s %6.2f s\n' "bench/bare_echo.cpp (bare Asio coroutine echo)" "$b"
printf '%-46s %6.2f s  %.2fx bare\n' "examples/hello/main.cpp, header-only" "$h" "$(awk -v x="$h" -v y="$b" 'BEGIN {print x / y}')"
printf '%-46s %6.2f s  %.2fx bare  (target < 1.3x)\n' "examples/hello/main.cpp, separate compilation" "$s" "$(awk -v x="$s" -v y="$b" 'BEGIN {print x / y}')"
