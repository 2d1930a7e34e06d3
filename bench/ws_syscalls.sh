#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# System calls per WebSocket echo, aster against Boost.Beast. At one message in flight (K=1)
# nearly all of a server's time is spent in the kernel, so what separates two servers there is
# how many system calls each makes per echo, not how fast its own code is. This counts them
# with the kernel's syscall tracepoints (perf stat, no hardware counters needed) while
# bench/ws_load drives each server, alternating servers round by round.
#
#   bench/ws_syscalls.sh                          # K=1, 3 rounds
#   DEPTH=16 ROUNDS=5 bench/ws_syscalls.sh
#
# Environment (defaults in brackets): ROUNDS [3], DEPTH [1], SIZE [32], CONNECTIONS [50],
# SAMPLE seconds counted per round [2], SERVER_CPU [0], CLIENT_CPU [1], PORT [18404],
# BUILD_DIR [build/bench]. Needs the binaries bench/ws_run.sh builds (it is run first when
# they are missing) and perf (Debian: linux-perf) with tracepoints readable (run as root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${ROUNDS:-3}
DEPTH=${DEPTH:-1}
SIZE=${SIZE:-32}
CONNECTIONS=${CONNECTIONS:-50}
SAMPLE=${SAMPLE:-2}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-18404}
BUILD_DIR=${BUILD_DIR:-build/bench}

die() {
    echo "ws_syscalls.sh: $*" >&2
    exit 1
}
for var in ROUNDS DEPTH SIZE CONNECTIONS SAMPLE SERVER_CPU CLIENT_CPU PORT; do
    [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a whole number, not '${!var}'"
done
command -v perf >/dev/null || die "perf is not installed (Debian: linux-perf)"
events=raw_syscalls:sys_enter,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvfrom,syscalls:sys_enter_recvmsg,syscalls:sys_enter_epoll_wait
perf stat -x, -e "$events" true >/dev/null 2>&1 || die "perf cannot read the syscall tracepoints here"
if [[ ! -x $BUILD_DIR/ws_echo || ! -x $BUILD_DIR/ws_beast_echo || ! -x $BUILD_DIR/ws_load ]]; then
    ROUNDS=1 DURATION=1 WARMUP=0 QUIET_WAIT=0 SCENARIOS=k1 BUILD_DIR=$BUILD_DIR bench/ws_run.sh >/dev/null ||
        die "building the servers with bench/ws_run.sh failed"
fi

server_pid=
load_pid=
cleanup() {
    [[ -n $server_pid ]] && kill -KILL "$server_pid" 2>/dev/null
    [[ -n $load_pid ]] && kill -KILL "$load_pid" 2>/dev/null
    return 0
}
trap cleanup EXIT

declare -A per_echo
measure() { # name binary
    local name=$1 binary=$2 tries counts
    taskset -c "$SERVER_CPU" "$binary" --port "$PORT" >/dev/null 2>&1 &
    server_pid=$!
    for ((tries = 0; tries < 100; tries++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.05
    done
    taskset -c "$CLIENT_CPU" "$BUILD_DIR/ws_load" --port "$PORT" --connections "$CONNECTIONS" \
        --duration $((SAMPLE + 2)) --warmup 0 --size "$SIZE" --depth "$DEPTH" >/dev/null 2>&1 &
    load_pid=$!
    sleep 1 # connections open, load steady
    mapfile -t counts < <(perf stat -x, -e "$events" -p "$server_pid" -- sleep "$SAMPLE" 2>&1 | cut -d, -f1)
    wait "$load_pid" || die "ws_load failed against $name"
    load_pid=
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    local all=${counts[0]} sends=$((counts[1] + counts[2])) recvs=$((counts[3] + counts[4])) waits=${counts[5]}
    ((sends > 0)) || die "$name sent nothing while counted"
    local line
    line=$(awk -v a="$all" -v s="$sends" -v r="$recvs" -v w="$waits" \
        'BEGIN { printf "%.2f %.2f %.3f", a / s, r / s, w / s }')
    read -r total reads epolls <<<"$line"
    printf '  round %d/%d  %-6s %6s syscalls per echo: %s recv, 1 send, %s epoll_wait (%d echoes counted)\n' \
        "$round" "$ROUNDS" "$name" "$total" "$reads" "$epolls" "$sends"
    per_echo[$name]+="$total "
}

median() { printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'): $CONNECTIONS connections, $DEPTH in flight, $SIZE-byte text; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2)); then
        measure aster "$BUILD_DIR/ws_echo"
        measure beast "$BUILD_DIR/ws_beast_echo"
    else
        measure beast "$BUILD_DIR/ws_beast_echo"
        measure aster "$BUILD_DIR/ws_echo"
    fi
done
a=$(median "${per_echo[aster]}")
b=$(median "${per_echo[beast]}")
echo "median system calls per echo: aster $a, beast $b (beast/aster $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }'))"
