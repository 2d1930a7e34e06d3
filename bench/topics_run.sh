#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Topics benchmarks: every server pinned to one core, every load generator to the other, the
# servers alternating round by round; prints medians with server CPU per delivery. See
# bench/README.md ("Topics").
#
#   bench/topics_run.sh                              # broadcast, fanout and redis, 3 rounds
#   ROUNDS=5 SECTIONS=broadcast CLIENTS=500 bench/topics_run.sh
#
# broadcast: N clients (CLIENTS) each send one 20-byte binary message per round, the server
#   publishes each to all N, the round ends when all N*N deliveries arrived. Servers: aster
#   (bench/broadcast_server, topics), loop (the same app as a loop over a vector of sockets),
#   beast (Boost.Beast, the same loop), uws (uWebSockets' topics), all driven by
#   bench/broadcast_load; and aster+bt, uws+bt: aster and uWebSockets driven by uWebSockets' own
#   benchmarks/broadcast_test.c. uWebSockets is built by bench/uws_build.sh from snapshots of its
#   repositories, outside this tree; without them (UWS=0, or the build fails) the uws rows are
#   left out and the script says so.
# fanout: one publisher, SUBSCRIBERS subscribers, 32-byte messages at each of FANOUT
#   ("THREADS:RATE", RATE 0 = as fast as every subscriber keeps up), by bench/fanout_load: server
#   CPU per delivery, deliveries per second, p50/p99 publish-to-receive latency; uws:RATE runs
#   uWebSockets' topics at that rate for comparison.
# redis: the fan-out at REDIS_RATE with the subscribers spread over two aster processes sharing a
#   redis-server (started here on a free port, no persistence, stopped by its pid) against one
#   process without Redis; both aster processes on the server core, Redis on the load core.
#
# Environment (defaults in brackets): ROUNDS [3], DURATION [5], WARMUP [1], QUIET_WAIT [30],
# SECTIONS ["broadcast fanout redis"], CLIENTS ["100 500"], SUBSCRIBERS [1000],
# FANOUT ["1:100 1:1000 1:0 2:1000 2:0 uws:1000 uws:0"], REDIS_RATE [1000], BT_PRINTS [3] (broadcast_test
# prints every 4 s: the window is this many prints), SERVER_CPU [0], CLIENT_CPU [1],
# BASE_PORT [18600], BUILD_DIR [build/bench], UWS [1], UWS_BUILD [$BUILD_DIR/uws],
# LLHTTP_SRC, LLHTTP_INCLUDE.
# Exit status: 0 when everything built and ran (whatever the ratios), non-zero otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
QUIET_WAIT=${QUIET_WAIT:-30}
SECTIONS=${SECTIONS:-broadcast fanout redis}
CLIENTS=${CLIENTS:-100 500}
SUBSCRIBERS=${SUBSCRIBERS:-1000}
FANOUT=${FANOUT:-1:100 1:1000 1:0 2:1000 2:0 uws:1000 uws:0}
REDIS_RATE=${REDIS_RATE:-1000}
BT_PRINTS=${BT_PRINTS:-3}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BASE_PORT=${BASE_PORT:-18600}
BUILD_DIR=${BUILD_DIR:-build/bench}
UWS=${UWS:-1}
UWS_BUILD=${UWS_BUILD:-$BUILD_DIR/uws}
LLHTTP_SRC=${LLHTTP_SRC:-/usr/share/llhttp}
LLHTTP_INCLUDE=${LLHTTP_INCLUDE:-/usr/share/include/llhttp}

die() {
    echo "topics_run.sh: $*" >&2
    exit 1
}

for var in ROUNDS DURATION WARMUP QUIET_WAIT SUBSCRIBERS REDIS_RATE BT_PRINTS SERVER_CPU CLIENT_CPU BASE_PORT; do
    [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a whole number, not '${!var}'"
done
((ROUNDS >= 1 && DURATION >= 1 && BT_PRINTS >= 1)) || die "ROUNDS, DURATION and BT_PRINTS must be at least 1"
for section in $SECTIONS; do
    [[ $section =~ ^(broadcast|fanout|redis)$ ]] || die "unknown section '$section' (broadcast fanout redis)"
done
for config in $FANOUT; do
    [[ $config =~ ^(1|2|uws):[0-9]+$ ]] || die "FANOUT entries are THREADS:RATE (1 or 2 threads) or uws:RATE, not '$config'"
done
has_section() { [[ " $SECTIONS " == *" $1 "* ]]; }

# shellcheck source=bench/bench_deps.sh
source bench/bench_deps.sh
bench_install_deps || die "cannot install the benchmark's packages (bench/bench_deps.sh)"
[[ -f /usr/include/boost/beast/websocket.hpp ]] || die "Boost.Beast is missing (bench/bench_deps.sh)"
for tool in g++ gcc taskset timeout; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
if has_section redis; then
    command -v redis-server >/dev/null || die "redis-server is missing (apt-get install redis-server)"
    pkg-config --exists hiredis 2>/dev/null || die "hiredis is missing (apt-get install libhiredis-dev)"
fi
# 1,000 subscribers and the server's side of them: more descriptors than the usual 1,024.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(($(ulimit -n) >= 2 * SUBSCRIBERS + 64)) || die "ulimit -n is $(ulimit -n): too few descriptors"

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
for part in api http llhttp; do
    "${cc[@]}" -O2 -DNDEBUG -I "$LLHTTP_INCLUDE" -c "$LLHTTP_SRC/$part.c" \
        -o "$BUILD_DIR/llhttp_$part.o" || die "cannot compile $LLHTTP_SRC/$part.c"
    llhttp_objects+=("$BUILD_DIR/llhttp_$part.o")
done
aster_flags=()
aster_libs=(-pthread)
if has_section redis; then # the broker is an extra switched on explicitly, as in the examples
    aster_flags+=(-DASTER_HAS_REDIS)
    read -ra hiredis_libs <<<"$(pkg-config --libs hiredis)"
    aster_libs+=("${hiredis_libs[@]}")
fi
for program in broadcast_server broadcast_loop_server; do
    "${cxx[@]}" "${cxxflags[@]}" "${aster_flags[@]}" -I include -I "$LLHTTP_INCLUDE" \
        -c "bench/$program.cpp" -o "$BUILD_DIR/$program.o" || die "cannot compile bench/$program.cpp"
    g++ "$BUILD_DIR/$program.o" "${llhttp_objects[@]}" "${aster_libs[@]}" -o "$BUILD_DIR/$program" ||
        die "cannot link $program"
done
for program in broadcast_beast_server broadcast_load fanout_load; do
    "${cxx[@]}" "${cxxflags[@]}" "bench/$program.cpp" -pthread -o "$BUILD_DIR/$program" ||
        die "cannot build bench/$program.cpp"
done
uws_note=
if [[ $UWS == 1 ]] && { has_section broadcast || [[ $FANOUT == *uws* ]]; }; then
    if OUT=$UWS_BUILD bench/uws_build.sh >"$BUILD_DIR/logs/uws_build.txt" 2>&1; then
        uws_note="uWebSockets $(grep -o 'uWebSockets [0-9a-f]*' "$BUILD_DIR/logs/uws_build.txt" | cut -c13-24), uSockets $(grep -o 'uSockets [0-9a-f]*' "$BUILD_DIR/logs/uws_build.txt" | cut -c10-21)"
    else
        UWS=0
        uws_note="uWebSockets NOT measured: bench/uws_build.sh failed (see $BUILD_DIR/logs/uws_build.txt)"
    fi
elif [[ $UWS != 1 ]]; then
    uws_note="uWebSockets NOT measured (UWS=$UWS)"
fi

# ---- processes ---------------------------------------------------------------------------------
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

port_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start NAME PORT CPU COMMAND...: runs it pinned, waits until PORT accepts; sets `started`.
start() {
    local name=$1 port=$2 cpu=$3 tries
    shift 3
    port_accepts "$port" && die "port $port is already in use; set BASE_PORT"
    taskset -c "$cpu" "$@" >>"$BUILD_DIR/logs/topics.$name.log" 2>&1 &
    started=$!
    pids+=("$started")
    for ((tries = 0; tries < 200; tries++)); do
        port_accepts "$port" && return 0
        kill -0 "$started" 2>/dev/null || die "$name exited at start; see $BUILD_DIR/logs/topics.$name.log"
        sleep 0.05
    done
    die "$name did not accept on port $port within 10 s"
}

stop_all() {
    local pid tries
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for ((tries = 0; tries < 60; tries++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}

aster_port=$BASE_PORT loop_port=$((BASE_PORT + 1)) beast_port=$((BASE_PORT + 2))
uws_port=$((BASE_PORT + 3)) second_port=$((BASE_PORT + 4)) redis_port=$((BASE_PORT + 5))

start_server() { # NAME [THREADS [extra aster arguments...]]: sets server_pid and server_port
    local name=$1 threads=${2:-1}
    shift $(($# > 1 ? 2 : 1))
    case $name in
    aster | aster+bt) server_port=$aster_port
        start aster "$server_port" "$SERVER_CPU" "$BUILD_DIR/broadcast_server" --port "$server_port" --threads "$threads" "$@" ;;
    loop) server_port=$loop_port
        start loop "$server_port" "$SERVER_CPU" "$BUILD_DIR/broadcast_loop_server" --port "$server_port" ;;
    beast) server_port=$beast_port
        start beast "$server_port" "$SERVER_CPU" "$BUILD_DIR/broadcast_beast_server" --port "$server_port" ;;
    uws | uws+bt) server_port=$uws_port
        start uws "$server_port" "$SERVER_CPU" "$UWS_BUILD/uws_broadcast_server" --port "$server_port" ;;
    *) die "no server $name" ;;
    esac
    server_pid=$started
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

cpu_ticks() { # PID: user + system clock ticks so far
    local stat rest
    read -r stat <"/proc/$1/stat" || return 1
    rest=${stat##*) }
    read -ra fields <<<"$rest"
    echo $((fields[11] + fields[12]))
}

declare -A results
record() { # KEY VALUE...: appends each value to results[KEY.i]
    local key=$1 i=0
    shift
    for value in "$@"; do
        results[$key.$i]+="$value "
        i=$((i + 1))
    done
}
median() { # values [printf format]
    # shellcheck disable=SC2086 # split on purpose: one number per word
    printf '%s\n' $1 | sort -g | awk -v f="${2:-%.0f}" '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        printf f "\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# ---- broadcast ---------------------------------------------------------------------------------
# results[broadcast.N.NAME.i]: 0 rounds/s, 1 server cpu %, 2 server us per delivery, 3 load cpu %
broadcast_with_load() { # NAME N ROUND
    local name=$1 n=$2 round=$3 output log
    log="$BUILD_DIR/logs/topics.broadcast.$n.$name.$round.txt"
    start_server "$name"
    wait_quiet
    output=$(timeout $((DURATION + WARMUP + 60)) taskset -c "$CLIENT_CPU" "$BUILD_DIR/broadcast_load" \
        --port "$server_port" --clients "$n" --duration "$DURATION" --warmup "$WARMUP" \
        --server-pid "$server_pid" 2>&1) ||
        { printf '%s\n' "$output" >"$log"; die "broadcast_load failed against $name (N=$n): $output"; }
    kill -0 "$server_pid" 2>/dev/null || die "$name died during the broadcast (N=$n)"
    printf '%s\n' "$output" >"$log"
    stop_all
    local rate cpu us load
    read -r rate load cpu us < <(awk '/^rounds\/s/ { print $2, $10, $12, $14 }' <<<"$output")
    [[ -n $us ]] || die "no result in broadcast_load's output; see $log"
    record "broadcast.$n.$name" "$rate" "${cpu%\%}" "$us" "${load%\%}"
    printf '  round %d/%d  N=%-4d %-9s %9.1f rounds/s  server cpu %3s%%  %7.3f us/delivery  load cpu %s\n' \
        "$round" "$ROUNDS" "$n" "$name" "$rate" "${cpu%\%}" "$us" "$load"
}

# uWebSockets' broadcast_test prints "Iterations/second (N clients): R" every 4 s. The window runs
# from its first print to BT_PRINTS prints later; CPU is read from /proc at those prints.
broadcast_with_bt() { # NAME N ROUND
    local name=$1 n=$2 round=$3 log bt_pid deadline
    log="$BUILD_DIR/logs/topics.broadcast.$n.$name.$round.txt"
    start_server "$name"
    wait_quiet
    # Line-buffered: its stdout is a file here, and it only ever stops by a signal.
    taskset -c "$CLIENT_CPU" stdbuf -oL "$UWS_BUILD/broadcast_test" "$n" 127.0.0.1 "$server_port" 0 \
        >"$log" 2>&1 &
    bt_pid=$!
    pids+=("$bt_pid")
    local prints=0 server0=0 client0=0 start_ns=0 server1 client1 end_ns
    deadline=$((SECONDS + 60 + 8 * BT_PRINTS))
    while ((prints < BT_PRINTS + 1)); do
        kill -0 "$bt_pid" 2>/dev/null || die "broadcast_test exited against $name (N=$n); see $log"
        ((SECONDS < deadline)) || die "broadcast_test printed $prints of $((BT_PRINTS + 1)) lines in time; see $log"
        sleep 0.02
        local now
        now=$(grep -c '^Iterations/second' "$log" || true)
        if ((now > prints && prints == 0)); then
            server0=$(cpu_ticks "$server_pid") client0=$(cpu_ticks "$bt_pid") start_ns=$(date +%s%N)
        fi
        prints=$now
    done
    server1=$(cpu_ticks "$server_pid") client1=$(cpu_ticks "$bt_pid") end_ns=$(date +%s%N)
    kill -0 "$server_pid" 2>/dev/null || die "$name died during the broadcast (N=$n)"
    stop_all
    local ticks seconds rate cpu us load
    ticks=$(getconf CLK_TCK)
    seconds=$(awk -v a="$start_ns" -v b="$end_ns" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    rate=$(awk -v k="$BT_PRINTS" '/^Iterations\/second/ { if (++i > 1 && i <= k + 1) sum += $NF } END { printf "%.2f", sum / k }' "$log")
    cpu=$(awk -v a="$server0" -v b="$server1" -v t="$ticks" -v s="$seconds" 'BEGIN { printf "%.0f", (b - a) / t / s * 100 }')
    load=$(awk -v a="$client0" -v b="$client1" -v t="$ticks" -v s="$seconds" 'BEGIN { printf "%.0f", (b - a) / t / s * 100 }')
    us=$(awk -v a="$server0" -v b="$server1" -v t="$ticks" -v r="$rate" -v s="$seconds" -v n="$n" \
        'BEGIN { d = r * s * n * n; printf "%.4f", (d > 0 ? (b - a) / t * 1e6 / d : -1) }')
    record "broadcast.$n.$name" "$rate" "$cpu" "$us" "$load"
    printf '  round %d/%d  N=%-4d %-9s %9.1f rounds/s  server cpu %3s%%  %7.3f us/delivery  load cpu %s%%\n' \
        "$round" "$ROUNDS" "$n" "$name" "$rate" "$cpu" "$us" "$load"
}

# ---- fan-out -----------------------------------------------------------------------------------
# results[KEY.i]: 0 messages/s, 1 deliveries/s, 2 p50 us, 3 p99 us, 4 server cpu %, 5 us per
# delivery, 6 load cpu %
fanout_measure() { # KEY ROUND RATE PORTS PIDS
    local key=$1 round=$2 rate=$3 ports=$4 server_pids=$5 output log
    log="$BUILD_DIR/logs/topics.$key.$round.txt"
    output=$(timeout $((DURATION + WARMUP + 60)) taskset -c "$CLIENT_CPU" "$BUILD_DIR/fanout_load" \
        --ports "$ports" --subscribers "$SUBSCRIBERS" --rate "$rate" --duration "$DURATION" \
        --warmup "$WARMUP" --server-pid "$server_pids" 2>&1) ||
        { printf '%s\n' "$output" >"$log"; die "fanout_load failed ($key): $output"; }
    printf '%s\n' "$output" >"$log"
    local messages deliveries p50 p99 load cpu us
    read -r messages deliveries p50 p99 load cpu us < <(awk '/^messages\/s/ { print $2, $4, $6, $8, $12, $14, $16 }' <<<"$output")
    [[ -n $us ]] || die "no result in fanout_load's output; see $log"
    record "$key" "$messages" "$deliveries" "$p50" "$p99" "${cpu%\%}" "$us" "${load%\%}"
    printf '  round %d/%d  %-22s %7d msg/s %9d deliveries/s  p50 %6d us  p99 %6d us  server cpu %3s%%  %7.3f us/delivery  load cpu %s\n' \
        "$round" "$ROUNDS" "$key" "$messages" "$deliveries" "$p50" "$p99" "${cpu%\%}" "$us" "$load"
}

fanout_one() { # THREADS|uws RATE ROUND
    if [[ $1 == uws ]]; then
        start_server uws
    else
        start_server aster "$1"
    fi
    wait_quiet
    fanout_measure "fanout.${1/#[12]/t$1}.r$2" "$3" "$2" "$server_port" "$server_pid"
    kill -0 "$server_pid" 2>/dev/null || die "the server died during the fan-out ($1:$2)"
    stop_all
}

redis_pid=
redis_start() {
    port_accepts "$redis_port" && die "port $redis_port is already in use; set BASE_PORT"
    taskset -c "$CLIENT_CPU" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" \
        --appendonly no --daemonize no --loglevel warning >>"$BUILD_DIR/logs/topics.redis-server.log" 2>&1 &
    redis_pid=$!
    local tries
    for ((tries = 0; tries < 200; tries++)); do
        port_accepts "$redis_port" && return 0
        kill -0 "$redis_pid" 2>/dev/null || die "redis-server exited; see $BUILD_DIR/logs/topics.redis-server.log"
        sleep 0.05
    done
    die "redis-server did not accept on port $redis_port within 10 s"
}
redis_stop() {
    [[ -n $redis_pid ]] || return 0
    kill -KILL "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=
}

redis_round() { # ROUND: one process, then two through Redis (or the other way round)
    local round=$1 order=(one two)
    ((round % 2)) || order=(two one)
    for which in "${order[@]}"; do
        if [[ $which == one ]]; then
            start_server aster 1
            wait_quiet
            fanout_measure "redis.one" "$round" "$REDIS_RATE" "$server_port" "$server_pid"
        else
            local url="redis://127.0.0.1:$redis_port" first second r0 r1
            start_server aster 1 --redis "$url"
            first=$server_pid
            start aster-second "$second_port" "$SERVER_CPU" "$BUILD_DIR/broadcast_server" \
                --port "$second_port" --threads 1 --redis "$url"
            second=$started
            wait_quiet
            r0=$(cpu_ticks "$redis_pid")
            fanout_measure "redis.two" "$round" "$REDIS_RATE" "$aster_port,$second_port" "$first,$second"
            r1=$(cpu_ticks "$redis_pid")
            record redis.server "$(((r1 - r0) * 100 / $(getconf CLK_TCK)))" # cpu seconds x 100
        fi
        stop_all
    done
}

# ---- run ---------------------------------------------------------------------------------------
broadcast_servers=(aster loop beast)
[[ $UWS == 1 ]] && broadcast_servers+=(uws aster+bt uws+bt)

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $(g++ --version | head -n1); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg); servers on cpu $SERVER_CPU, load on cpu $CLIENT_CPU; $ROUNDS rounds"
[[ -n $uws_note ]] && echo "== $uws_note"
((UWS == 1)) || echo "== (uws rows left out)"
for ((round = 1; round <= ROUNDS; round++)); do
    if has_section broadcast; then
        for n in $CLIENTS; do
            servers=("${broadcast_servers[@]}")
            ((round % 2)) || mapfile -t servers < <(printf '%s\n' "${broadcast_servers[@]}" | tac)
            for name in "${servers[@]}"; do
                if [[ $name == *+bt ]]; then broadcast_with_bt "$name" "$n" "$round"
                else broadcast_with_load "$name" "$n" "$round"; fi
            done
        done
    fi
    if has_section fanout; then
        for config in $FANOUT; do
            [[ ${config%%:*} == uws && $UWS != 1 ]] && continue # said above: not measured
            fanout_one "${config%%:*}" "${config##*:}" "$round"
        done
    fi
    if has_section redis; then
        [[ -n $redis_pid ]] || redis_start
        redis_round "$round"
    fi
done
redis_stop
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- tables ------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.3f", a / b }'; }
if has_section broadcast; then
    echo
    printf '%-6s %-9s %11s %11s %14s %9s\n' N server "rounds/s" "server cpu" "us/delivery" "load cpu"
    for n in $CLIENTS; do
        for name in "${broadcast_servers[@]}"; do
            printf '%-6s %-9s %11s %10s%% %14s %8s%%\n' "$n" "$name" \
                "$(median "${results[broadcast.$n.$name.0]}" %.1f)" "$(median "${results[broadcast.$n.$name.1]}")" \
                "$(median "${results[broadcast.$n.$name.2]}" %.4f)" "$(median "${results[broadcast.$n.$name.3]}")"
        done
        us() { median "${results[broadcast.$n.$1.2]:-}" %.4f; }
        rounds() { median "${results[broadcast.$n.$1.0]:-}" %.2f; }
        echo "  N=$n: aster rounds/s / beast: $(ratio "$(rounds aster)" "$(rounds beast)");" \
            "aster / loop us per delivery: $(ratio "$(us aster)" "$(us loop)")"
        if [[ $UWS == 1 ]]; then
            echo "  N=$n: aster / uWebSockets server CPU per delivery: $(ratio "$(us aster)" "$(us uws)") (broadcast_load)," \
                "$(ratio "$(us aster+bt)" "$(us uws+bt)") (broadcast_test)"
        fi
    done
    echo "(medians; us/delivery: server CPU time per message delivered; load cpu: the load generator's"
    echo " share of its core, near 100% meaning it set the pace)"
fi
if has_section fanout || has_section redis; then
    echo
    printf '%-14s %9s %13s %8s %8s %11s %12s %9s\n' fan-out "msg/s" "deliveries/s" "p50 us" "p99 us" "server cpu" "us/delivery" "load cpu"
    keys=()
    if has_section fanout; then
        for config in $FANOUT; do
            threads=${config%%:*}
            [[ $threads == uws && $UWS != 1 ]] && continue
            keys+=("fanout.${threads/#[12]/t$threads}.r${config##*:}")
        done
    fi
    if has_section redis; then keys+=(redis.one redis.two); fi
    for key in "${keys[@]}"; do
        printf '%-14s %9s %13s %8s %8s %10s%% %12s %8s%%\n' "$key" \
            "$(median "${results[$key.0]}")" "$(median "${results[$key.1]}")" \
            "$(median "${results[$key.2]}")" "$(median "${results[$key.3]}")" \
            "$(median "${results[$key.4]}")" "$(median "${results[$key.5]}" %.4f)" "$(median "${results[$key.6]}")"
    done
    if has_section redis; then
        echo "  through Redis / one process, server CPU per delivery: $(ratio "$(median "${results[redis.two.5]}" %.4f)" "$(median "${results[redis.one.5]}" %.4f)")" \
            "(redis-server used $(median "${results[redis.server.0]}")/100 CPU s per $DURATION+ s run, on the load core)"
    fi
    echo "(fanout.tT.rR: T server threads, R messages/s, 0 = as fast as all $SUBSCRIBERS subscribers keep up;"
    echo " redis.one: $SUBSCRIBERS subscribers on one process; redis.two: spread over two processes and one Redis)"
fi
echo "(raw output in $BUILD_DIR/logs/topics.*)"
