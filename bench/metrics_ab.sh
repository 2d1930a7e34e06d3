#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What counting every request costs: bench/plaintext with and without metrics_route, rounds
# alternating, server pinned to SERVER_CPU and wrk to CLIENT_CPU; medians of req/s and of server
# CPU per request. Reuses run_http.sh's build of bench/plaintext (in BUILD_DIR).
#
#   bench/metrics_ab.sh                         # 5 rounds of 5 s each way, plaintext
#   ROUNDS=7 PIPELINE=16 bench/metrics_ab.sh    # pipelined (wrk with bench/pipeline.lua)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
PIPELINE=${PIPELINE:-0}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-18341}
BUILD_DIR=${BUILD_DIR:-build/bench}
die() { echo "metrics_ab.sh: $*" >&2; exit 1; }
[[ -x $BUILD_DIR/plaintext ]] || SCENARIOS=plaintext ROUNDS=1 DURATION=1 bench/run_http.sh >/dev/null ||
    die "cannot build bench/plaintext (bench/run_http.sh)"
command -v wrk >/dev/null || die "wrk is missing (bench/bench_deps.sh)"

declare -A rates cpus
server_pid=
trap '[[ -n $server_pid ]] && kill -KILL "$server_pid" 2>/dev/null || true' EXIT
ticks=$(getconf CLK_TCK)
measure() { # off|on
    local args=()
    [[ $1 == on ]] && args=(--metrics)
    taskset -c "$SERVER_CPU" "$BUILD_DIR/plaintext" "${args[@]}" --port "$PORT" >/dev/null 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
    local wrk=(wrk -t1 -c50 -d"${DURATION}s" "http://127.0.0.1:$PORT/plaintext")
    [[ $PIPELINE -gt 0 ]] && wrk+=(-s bench/pipeline.lua -- "$PIPELINE")
    taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d1s "http://127.0.0.1:$PORT/plaintext" >/dev/null
    local before after out
    before=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
    out=$(taskset -c "$CLIENT_CPU" "${wrk[@]}")
    after=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
    local rate requests
    rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    rates[$1]+="$rate "
    cpus[$1]+="$(awk -v t="$((after - before))" -v k="$ticks" -v n="$requests" 'BEGIN { printf "%.3f", t / k * 1e6 / n }') "
    kill -KILL "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    printf '  %-3s %10s req/s\n' "$1" "$rate"
}
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
for ((round = 1; round <= ROUNDS; round++)); do
    echo "round $round"
    measure off
    measure on
done
off=$(median "${rates[off]}") on=$(median "${rates[on]}")
off_us=$(median "${cpus[off]}") on_us=$(median "${cpus[on]}")
echo
echo "metrics off: $off req/s, $off_us us of server CPU per request (${rates[off]% })"
echo "metrics on:  $on req/s, $on_us us of server CPU per request (${rates[on]% })"
awk -v a="$on" -v b="$off" -v c="$on_us" -v d="$off_us" \
    'BEGIN { printf "on/off: %.3f by req/s, %.3f by CPU per request\n", a / b, c / d }'
