#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# WebSocket echo throughput, aster against Boost.Beast: bench/ws_load pinned to one core drives
# each server pinned to the other, the servers alternating round by round; prints the medians,
# aster/beast per scenario and, for aster, text16k/binary16k. See bench/README.md.
#
#   bench/ws_run.sh                       # 3 rounds of 5 s per server and scenario
#   ROUNDS=5 DURATION=10 SCENARIOS="k1 k16" bench/ws_run.sh
#
# Scenarios: k1 (32-byte text, 1 in flight per connection), k16 (32-byte text, 16 in flight),
# text16k and binary16k (16 KiB, 1 in flight); not run unless named: k16lockstep (32-byte text,
# 16 sent together once all 16 echoes are back, so every client write holds 16 frames).
# Environment (defaults in brackets): ROUNDS [3], DURATION [5], WARMUP [1], QUIET_WAIT [30],
# CONNECTIONS [50], SCENARIOS ["k1 k16 text16k binary16k"], SERVER_CPU [0], CLIENT_CPU [1],
# ASTER_PORT [18402], BEAST_PORT [18403], BUILD_DIR [build/bench], LLHTTP_SRC, LLHTTP_INCLUDE.
# Exit status: 0 when everything built and ran (whatever the ratios), non-zero otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
QUIET_WAIT=${QUIET_WAIT:-30}
CONNECTIONS=${CONNECTIONS:-50}
SCENARIOS=${SCENARIOS:-k1 k16 text16k binary16k}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
ASTER_PORT=${ASTER_PORT:-18402}
BEAST_PORT=${BEAST_PORT:-18403}
BUILD_DIR=${BUILD_DIR:-build/bench}
LLHTTP_SRC=${LLHTTP_SRC:-/usr/share/llhttp}
LLHTTP_INCLUDE=${LLHTTP_INCLUDE:-/usr/share/include/llhttp}

die() {
    echo "ws_run.sh: $*" >&2
    exit 1
}

for var in ROUNDS DURATION WARMUP QUIET_WAIT CONNECTIONS SERVER_CPU CLIENT_CPU ASTER_PORT BEAST_PORT; do
    [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a whole number, not '${!var}'"
done
((ROUNDS >= 1 && DURATION >= 1 && CONNECTIONS >= 1)) || die "ROUNDS, DURATION and CONNECTIONS must be at least 1"

# The load each scenario puts on the servers: ws_load arguments.
scenario_args() {
    case $1 in
    k1) echo "--size 32 --depth 1" ;;
    k16) echo "--size 32 --depth 16" ;;
    text16k) echo "--size 16384 --depth 1" ;;
    binary16k) echo "--size 16384 --depth 1 --binary" ;;
    k16lockstep) echo "--size 32 --depth 16 --lockstep" ;;
    *) return 1 ;;
    esac
}
for scenario in $SCENARIOS; do
    scenario_args "$scenario" >/dev/null || die "unknown scenario '$scenario' (use k1 k16 text16k binary16k k16lockstep)"
done
# shellcheck source=bench/bench_deps.sh
source bench/bench_deps.sh
bench_install_deps || die "cannot install the benchmark's packages (bench/bench_deps.sh)"
[[ -f /usr/include/boost/beast/websocket.hpp ]] || die "Boost.Beast is missing (bench/bench_deps.sh)"
for tool in g++ gcc taskset timeout; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done

# ---- build -------------------------------------------------------------------------------------
cxx=(g++)
cc=(gcc)
if command -v ccache >/dev/null; then
    cxx=(ccache g++)
    cc=(ccache gcc)
fi
cxxflags=(-std=c++20 -O2 -DNDEBUG)
mkdir -p "$BUILD_DIR/logs"
echo "== build (${cxx[*]} ${cxxflags[*]}) into $BUILD_DIR"
llhttp_objects=()
# permessage-deflate compiled in where zlib is, as the examples build it (switched on explicitly).
libs=(-pthread)
if [[ -f /usr/include/zlib.h ]]; then
    libs+=(-lz)
    cxxflags+=(-DASTER_HAS_ZLIB)
fi
for part in api http llhttp; do
    "${cc[@]}" -O2 -DNDEBUG -I "$LLHTTP_INCLUDE" -c "$LLHTTP_SRC/$part.c" \
        -o "$BUILD_DIR/llhttp_$part.o" || die "cannot compile $LLHTTP_SRC/$part.c"
    llhttp_objects+=("$BUILD_DIR/llhttp_$part.o")
done
"${cxx[@]}" "${cxxflags[@]}" -I include -I "$LLHTTP_INCLUDE" -c bench/ws_echo.cpp \
    -o "$BUILD_DIR/ws_echo.o" || die "cannot compile bench/ws_echo.cpp"
g++ "$BUILD_DIR/ws_echo.o" "${llhttp_objects[@]}" "${libs[@]}" -o "$BUILD_DIR/ws_echo" ||
    die "cannot link ws_echo"
"${cxx[@]}" "${cxxflags[@]}" bench/ws_beast_echo.cpp -pthread -o "$BUILD_DIR/ws_beast_echo" ||
    die "cannot build bench/ws_beast_echo.cpp"
"${cxx[@]}" "${cxxflags[@]}" bench/ws_load.cpp -pthread -o "$BUILD_DIR/ws_load" ||
    die "cannot build bench/ws_load.cpp"

# ---- servers -----------------------------------------------------------------------------------
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

port_of() { if [[ $1 == aster ]]; then echo "$ASTER_PORT"; else echo "$BEAST_PORT"; fi; }
binary_of() { if [[ $1 == aster ]]; then echo "$BUILD_DIR/ws_echo"; else echo "$BUILD_DIR/ws_beast_echo"; fi; }
port_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_server() { # name
    local name=$1 port tries
    port=$(port_of "$name")
    port_accepts "$port" && die "port $port is already in use; set ${name^^}_PORT"
    taskset -c "$SERVER_CPU" "$(binary_of "$name")" --port "$port" \
        >>"$BUILD_DIR/logs/ws.$name.server.log" 2>&1 &
    server_pid=$!
    for ((tries = 0; tries < 100; tries++)); do
        port_accepts "$port" && return 0
        kill -0 "$server_pid" 2>/dev/null ||
            die "$name server exited at start; see $BUILD_DIR/logs/ws.$name.server.log"
        sleep 0.05
    done
    die "$name server did not accept on port $port within 5 s"
}

stop_server() {
    [[ -n $server_pid ]] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    local tries
    for ((tries = 0; tries < 60; tries++)); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

idle_percent() {
    local a b
    read -ra a < <(head -n1 /proc/stat)
    sleep 0.5
    read -ra b < <(head -n1 /proc/stat)
    local total=0 i
    for ((i = 1; i < ${#a[@]}; i++)); do total=$((total + b[i] - a[i])); done
    echo $(((b[4] + b[5] - a[4] - a[5]) * 100 / (total > 0 ? total : 1)))
}

# Other people's compiles share these two cores: wait (up to QUIET_WAIT s) for an idle machine.
wait_quiet() {
    local deadline=$((SECONDS + QUIET_WAIT))
    while (($(idle_percent) < 90)); do
        ((SECONDS < deadline)) || { echo "  (machine still busy after ${QUIET_WAIT}s; measuring anyway)"; return; }
    done
}

# ws_load reads the server's CPU time (/proc/<pid>/stat) at both ends of its measured window,
# after its connections opened and its warm-up ran.
declare -A results
measure() { # name scenario round
    local name=$1 scenario=$2 round=$3 port output log args
    port=$(port_of "$name")
    log="$BUILD_DIR/logs/ws.$scenario.$name.$round.txt"
    read -ra args <<<"$(scenario_args "$scenario")"
    start_server "$name"
    wait_quiet
    output=$(timeout $((DURATION + WARMUP + 30)) taskset -c "$CLIENT_CPU" "$BUILD_DIR/ws_load" \
        --port "$port" --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" \
        --server-pid "$server_pid" "${args[@]}" 2>&1) ||
        { printf '%s\n' "$output" >"$log"; die "ws_load failed against $name ($scenario): $output"; }
    kill -0 "$server_pid" 2>/dev/null || die "$name server died during $scenario"
    printf '%s\n' "$output" >"$log"
    stop_server
    local rate echoes client_cpu cpu us_per_message
    read -r rate echoes client_cpu cpu us_per_message < <(awk '/^messages\/s/ { print $2, $4, $8, $10, $12 }' <<<"$output")
    [[ -n $rate && $echoes -gt 0 ]] || die "no message count in ws_load output; see $log"
    cpu=${cpu%\%}
    printf '  round %d/%d  %-9s  %-5s  %9d msg/s  server cpu %3d%%  %7.3f us/msg  client cpu %s\n' \
        "$round" "$ROUNDS" "$scenario" "$name" "$rate" "$cpu" "$us_per_message" "$client_cpu"
    results[$scenario.$name]+="$rate "
    results[$scenario.$name.us]+="$us_per_message "
    results[$scenario.$name.cpu]+="$cpu "
    results[$scenario.$name.client]+="${client_cpu%\%} "
    results[$scenario.$name.last]=$rate
    return 0
}

median() { # values [printf format]
    # shellcheck disable=SC2086 # split on purpose: one number per word
    printf '%s\n' $1 | sort -g | awk -v f="${2:-%.0f}" '{ v[NR] = $1 } END {
        printf f "\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $(g++ --version | head -n1); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg); servers on cpu $SERVER_CPU, ws_load on cpu $CLIENT_CPU"
echo "== $ROUNDS rounds: ws_load --connections $CONNECTIONS --duration $DURATION --warmup $WARMUP"
for ((round = 1; round <= ROUNDS; round++)); do
    for scenario in $SCENARIOS; do
        # Alternate which server goes first, so a slow stretch does not always hit the same one.
        if ((round % 2)); then
            measure aster "$scenario" "$round"
            measure beast "$scenario" "$round"
        else
            measure beast "$scenario" "$round"
            measure aster "$scenario" "$round"
        fi
        results[$scenario.ratio]+="$(awk -v a="${results[$scenario.aster.last]}" \
            -v b="${results[$scenario.beast.last]}" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }') "
    done
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
printf '%-10s %11s %11s %11s %9s %9s %9s %11s %11s %9s %9s\n' scenario "aster msg/s" "beast msg/s" \
    "aster/beast" "of pairs" "aster cpu" "beast cpu" "aster us/msg" "beast us/msg" "capacity" "load cpu"
for scenario in $SCENARIOS; do
    aster=$(median "${results[$scenario.aster]}")
    beast=$(median "${results[$scenario.beast]}")
    aster_us=$(median "${results[$scenario.aster.us]}" %.3f)
    beast_us=$(median "${results[$scenario.beast.us]}" %.3f)
    printf '%-10s %11d %11d %11s %9s %8s%% %8s%% %11s %11s %9s %8s%%\n' "$scenario" "$aster" "$beast" \
        "$(awk -v a="$aster" -v b="$beast" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')" \
        "$(median "${results[$scenario.ratio]}" %.3f)" \
        "$(median "${results[$scenario.aster.cpu]}")" "$(median "${results[$scenario.beast.cpu]}")" \
        "$aster_us" "$beast_us" \
        "$(awk -v a="$aster_us" -v b="$beast_us" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')" \
        "$(median "${results[$scenario.aster.client]} ${results[$scenario.beast.client]}")"
done
if [[ -n ${results[text16k.aster]:-} && -n ${results[binary16k.aster]:-} ]]; then
    for name in aster beast; do
        text=$(median "${results[text16k.$name]}")
        binary=$(median "${results[binary16k.$name]}")
        echo "$name text16k/binary16k: $(awk -v a="$text" -v b="$binary" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')" \
            "(msg/s; CPU per message $(median "${results[binary16k.$name.us]}" %.3f) us binary," \
            "$(median "${results[text16k.$name.us]}" %.3f) us text: text pays for UTF-8 validation)"
    done
fi
echo "(medians of $ROUNDS rounds. of pairs: median of each round's aster/beast; cpu: the server's share"
echo " of its core; us/msg: server CPU time per echoed message; capacity: beast us/msg / aster us/msg,"
echo " the ratio if both were saturated; load cpu: ws_load's share of its core, near 100% meaning the"
echo " load generator set the pace. Raw output in $BUILD_DIR/logs/ws.*.)"
