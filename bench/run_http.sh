#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Measures aster's plaintext server against the bare Asio + llhttp floor and an idiomatic
# Boost.Beast server with wrk, server pinned to one core and wrk to the other, alternating the
# servers round by round; prints the medians and the ratios aster/bare and aster/beast per
# scenario. See bench/README.md.
#
#   bench/run_http.sh                      # 3 rounds of 5 s per server and scenario
#   ROUNDS=5 DURATION=10 bench/run_http.sh
#
# Environment (defaults in brackets): ROUNDS [3], DURATION seconds per measurement [5],
# WARMUP seconds of unmeasured load after each start [1], QUIET_WAIT longest wait in seconds for
# the machine to be 90% idle before each measurement [30], CONNECTIONS [50], DEPTH requests per
# pipelined write [16], SCENARIOS ["plaintext pipelined"], SERVER_CPU [0], CLIENT_CPU [1],
# BARE_PORT [18301], ASTER_PORT [18302], BEAST_PORT [18303], BUILD_DIR [build/bench], LLHTTP_SRC [/usr/share/llhttp],
# LLHTTP_INCLUDE [/usr/share/include/llhttp].
# Exit status: 0 when everything built and ran (whatever the ratio), non-zero otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
QUIET_WAIT=${QUIET_WAIT:-30}
CONNECTIONS=${CONNECTIONS:-50}
DEPTH=${DEPTH:-16}
SCENARIOS=${SCENARIOS:-plaintext pipelined}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BARE_PORT=${BARE_PORT:-18301}
ASTER_PORT=${ASTER_PORT:-18302}
BEAST_PORT=${BEAST_PORT:-18303}
BUILD_DIR=${BUILD_DIR:-build/bench}
LLHTTP_SRC=${LLHTTP_SRC:-/usr/share/llhttp}
LLHTTP_INCLUDE=${LLHTTP_INCLUDE:-/usr/share/include/llhttp}

die() {
    echo "run_http.sh: $*" >&2
    exit 1
}

for var in ROUNDS DURATION WARMUP QUIET_WAIT CONNECTIONS DEPTH SERVER_CPU CLIENT_CPU BARE_PORT ASTER_PORT BEAST_PORT; do
    [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a whole number, not '${!var}'"
done
((ROUNDS >= 1 && DURATION >= 1 && CONNECTIONS >= 1 && DEPTH >= 1)) ||
    die "ROUNDS, DURATION, CONNECTIONS and DEPTH must be at least 1"
for scenario in $SCENARIOS; do
    [[ $scenario == plaintext || $scenario == pipelined ]] ||
        die "unknown scenario '$scenario' (use plaintext and/or pipelined)"
done
# shellcheck source=bench/bench_deps.sh
source bench/bench_deps.sh
bench_install_deps || die "cannot install the benchmark's packages (bench/bench_deps.sh)"
for tool in g++ gcc wrk taskset timeout; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done

# ---- build -------------------------------------------------------------------------------------
[[ -f /usr/include/boost/beast/http.hpp ]] || die "Boost.Beast is missing (bench/bench_deps.sh)"
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
"${cxx[@]}" "${cxxflags[@]}" -I "$LLHTTP_INCLUDE" -c bench/bare_server.cpp \
    -o "$BUILD_DIR/bare_server.o" || die "cannot compile bench/bare_server.cpp"
g++ "$BUILD_DIR/bare_server.o" "${llhttp_objects[@]}" "${libs[@]}" -o "$BUILD_DIR/bare_server" ||
    die "cannot link bare_server"
"${cxx[@]}" "${cxxflags[@]}" -I include -I "$LLHTTP_INCLUDE" -c bench/plaintext.cpp \
    -o "$BUILD_DIR/plaintext.o" || die "cannot compile bench/plaintext.cpp"
g++ "$BUILD_DIR/plaintext.o" "${llhttp_objects[@]}" "${libs[@]}" -o "$BUILD_DIR/plaintext" ||
    die "cannot link plaintext"
"${cxx[@]}" "${cxxflags[@]}" bench/http_beast_server.cpp -pthread -o "$BUILD_DIR/http_beast_server" ||
    die "cannot build bench/http_beast_server.cpp"

# ---- servers -----------------------------------------------------------------------------------
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

port_of() {
    case $1 in
    bare) echo "$BARE_PORT" ;;
    aster) echo "$ASTER_PORT" ;;
    beast) echo "$BEAST_PORT" ;;
    esac
}
binary_of() {
    case $1 in
    bare) echo "$BUILD_DIR/bare_server" ;;
    aster) echo "$BUILD_DIR/plaintext" ;;
    beast) echo "$BUILD_DIR/http_beast_server" ;;
    esac
}

port_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_server() { # name
    local name=$1 port
    port=$(port_of "$name")
    port_accepts "$port" && die "port $port is already in use; set ${name^^}_PORT"
    taskset -c "$SERVER_CPU" "$(binary_of "$name")" --port "$port" \
        >>"$BUILD_DIR/logs/$name.server.log" 2>&1 &
    server_pid=$!
    local tries
    for ((tries = 0; tries < 100; tries++)); do # at most about 5 s
        port_accepts "$port" && return 0
        kill -0 "$server_pid" 2>/dev/null ||
            die "$name server exited at start; see $BUILD_DIR/logs/$name.server.log"
        sleep 0.05
    done
    die "$name server did not accept on port $port within 5 s"
}

stop_server() {
    [[ -n $server_pid ]] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    local tries
    for ((tries = 0; tries < 60; tries++)); do # at most about 3 s
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

# Sends `count` requests in one write, the last asking to close, and prints the raw reply.
probe() { # port count
    local request="" i
    for ((i = 1; i < $2; i++)); do request+='GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'; done
    request+='GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
    # shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
    timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%b" "$2" >&3 && cat <&3' \
        probe "$1" "$request"
}

# All servers must answer every pipelined request, in one piece, with the same bytes.
check_servers() {
    local name reply count first_reply=() i=0 same=1
    for name in bare aster beast; do
        start_server "$name"
        reply=$(probe "$(port_of "$name")" "$DEPTH") || true
        stop_server
        # Pipelined responses follow each other with no newline between them: count matches.
        count=$(grep -o 'HTTP/1.1 200 OK' <<<"$reply" | wc -l)
        [[ $count == "$DEPTH" ]] ||
            die "$name server answered $count of $DEPTH pipelined requests with 200 OK"
        # The first response with the date blanked out; the last one differs (Connection: close).
        # shellcheck disable=SC2001 # a line-anchored edit on a multi-line reply
        first_reply[i++]=$(sed -e 's/^Date: .*/Date: -/' <<<"${reply%%Hello, World!*}")
    done
    for i in 1 2; do
        if [[ ${first_reply[0]} != "${first_reply[i]}" ]]; then
            same=0
            echo "warning: the bare server's and server $((i + 1))'s responses differ (beyond the Date value):" >&2
            diff <(printf '%s\n' "${first_reply[0]}") <(printf '%s\n' "${first_reply[i]}") >&2 || true
        fi
    done
    ((same)) && echo "== check: all three servers answer $DEPTH pipelined requests with identical responses"
    return 0
}

# ---- measurement -------------------------------------------------------------------------------
run_wrk() { # port scenario seconds
    local args=(-t1 "-c$CONNECTIONS" "-d${3}s" --timeout 2s)
    [[ $2 == pipelined ]] && args+=(-s bench/pipeline.lua)
    args+=("http://127.0.0.1:$1/plaintext")
    [[ $2 == pipelined ]] && args+=(-- "$DEPTH")
    timeout $(($3 + 30)) taskset -c "$CLIENT_CPU" wrk "${args[@]}"
}

# Percent of the machine's CPU time that was idle over half a second.
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

# CPU time (user + system, in clock ticks) the process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
clock_tick=$(getconf CLK_TCK)

declare -A results
measure() { # name scenario round
    local name=$1 scenario=$2 round=$3 port output rate log before after
    port=$(port_of "$name")
    log="$BUILD_DIR/logs/$scenario.$name.$round.wrk.txt"
    start_server "$name"
    if ((WARMUP > 0)); then
        run_wrk "$port" "$scenario" "$WARMUP" >/dev/null || die "wrk failed warming up $name"
    fi
    wait_quiet
    before=$(cpu_ticks "$server_pid")
    output=$(run_wrk "$port" "$scenario" "$DURATION") || die "wrk failed against $name ($scenario)"
    after=$(cpu_ticks "$server_pid" 2>/dev/null) ||
        die "$name server died during $scenario; see $log"
    printf '%s\n' "$output" >"$log"
    stop_server
    # Below ~95% the server was waiting on wrk or was preempted by something else on its core.
    local cpu=$(((after - before) * 100 / (clock_tick * DURATION))) requests
    requests=$(awk '/ requests in / { print $1 }' <<<"$output")
    [[ -n $requests && $requests -gt 0 ]] || die "no request count in wrk output; see $log"
    # Server CPU time per answered request: its cost whether or not wrk kept it saturated.
    local us_per_request
    us_per_request=$(awk -v t="$((after - before))" -v hz="$clock_tick" -v n="$requests" \
        'BEGIN { printf "%.3f", t / hz * 1e6 / n }')
    grep -q 'Non-2xx' <<<"$output" && die "$name answered non-2xx responses; see $log"
    rate=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$output")
    [[ -n $rate ]] || die "no Requests/sec in wrk output; see $log"
    local errors
    errors=$(grep 'Socket errors' <<<"$output" || true)
    printf '  round %d/%d  %-9s  %-5s  %9d req/s  server cpu %3d%%  %6.3f us/req  %s\n' "$round" \
        "$ROUNDS" "$scenario" "$name" "$rate" "$cpu" "$us_per_request" "${errors:+($errors)}"
    results[$scenario.$name]+="$rate "
    results[$scenario.$name.us]+="$us_per_request "
    [[ $name == aster ]] && results[$scenario.ratio]+="$(awk -v a="$rate" -v b="$last_bare" \
        'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }') "
    [[ $name == beast ]] && results[$scenario.beast_ratio]+="$(awk -v a="$last_aster" -v b="$rate" \
        'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }') "
    [[ $name == bare ]] && last_bare=$rate
    [[ $name == aster ]] && last_aster=$rate
    return 0
}

median() { # values [printf format]
    # shellcheck disable=SC2086 # split on purpose: one number per word
    printf '%s\n' $1 | sort -g | awk -v f="${2:-%.0f}" '{ v[NR] = $1 } END {
        printf f "\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

last_bare=0
last_aster=0
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $(g++ --version | head -n1); $(wrk --version 2>&1 | head -n1 | awk '{ print $1, $2 }')"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg); server on cpu $SERVER_CPU, wrk on cpu $CLIENT_CPU"
check_servers
echo "== $ROUNDS rounds: wrk -t1 -c$CONNECTIONS -d${DURATION}s (+${WARMUP}s warm-up), pipelined depth $DEPTH"
for ((round = 1; round <= ROUNDS; round++)); do
    for scenario in $SCENARIOS; do
        measure bare "$scenario" "$round"
        measure aster "$scenario" "$round"
        measure beast "$scenario" "$round"
    done
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
printf '%-22s %11s %11s %10s %9s %12s %12s %9s | %11s %11s %9s %12s %9s\n' scenario "bare req/s" \
    "aster req/s" "aster/bare" "of pairs" "bare us/req" "aster us/req" "capacity" "beast req/s" \
    "aster/beast" "of pairs" "beast us/req" "capacity"
for scenario in $SCENARIOS; do
    bare=$(median "${results[$scenario.bare]}")
    aster=$(median "${results[$scenario.aster]}")
    bare_us=$(median "${results[$scenario.bare.us]}" %.3f)
    aster_us=$(median "${results[$scenario.aster.us]}" %.3f)
    beast=$(median "${results[$scenario.beast]}")
    beast_us=$(median "${results[$scenario.beast.us]}" %.3f)
    label=$scenario
    [[ $scenario == pipelined ]] && label="pipelined ($DEPTH/write)"
    printf '%-22s %11d %11d %10s %9s %12s %12s %9s | %11d %11s %9s %12s %9s\n' "$label" "$bare" "$aster" \
        "$(awk -v a="$aster" -v b="$bare" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')" \
        "$(median "${results[$scenario.ratio]}" %.3f)" "$bare_us" "$aster_us" \
        "$(awk -v a="$aster_us" -v b="$bare_us" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')" \
        "$beast" "$(awk -v a="$aster" -v b="$beast" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')" \
        "$(median "${results[$scenario.beast_ratio]}" %.3f)" "$beast_us" \
        "$(awk -v a="$aster_us" -v b="$beast_us" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')"
done
echo "(medians of $ROUNDS rounds. aster/bare: ratio of the median req/s, the target being >= 0.9;"
echo " aster/beast: the same against Boost.Beast; of pairs: median of each round's ratio;"
echo " us/req: server CPU time per request; capacity: other us/req / aster us/req, the ratio"
echo " if both servers were saturated."
echo " Raw wrk output in $BUILD_DIR/logs.)"
