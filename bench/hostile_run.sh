#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the security review's attacks cost a server: CPU, memory, log lines, and whether others
# are still served. bench/hostile (one attack at a time, pinned to CLIENT_CPU) against
# bench/hostile_server (one loop, pinned to SERVER_CPU); with BASELINE=<commit>, the same server
# built against that commit's headers too, measured in the same run, rounds alternating.
# Medians of ROUNDS.
#
#   bench/hostile_run.sh                            # this tree only
#   BASELINE=983efb6 bench/hostile_run.sh           # before/after
#   SCENARIOS="bomb emfile" ROUNDS=5 bench/hostile_run.sh
#
# Scenarios: bomb (4 MiB of empty final DEFLATE blocks in one frame; a GET /hello on the same
# loop meanwhile), message-compressed, message-whole, message-fragments (a 16 MiB - 1 message to
# /ws-size, answered with its size: the server's peak RSS over its idle RSS), emfile (the server under `prlimit --nofile=64`, 200
# connections held 5 s: its CPU, the lines it logged, then whether it serves again).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${ROUNDS:-3}
SCENARIOS=${SCENARIOS:-bomb message-compressed message-whole message-fragments emfile}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-18431}
BUILD_DIR=${BUILD_DIR:-build/bench/hostile}
BASELINE=${BASELINE:-}
LLHTTP_SRC=${LLHTTP_SRC:-/usr/share/llhttp}
LLHTTP_INCLUDE=${LLHTTP_INCLUDE:-/usr/share/include/llhttp}

die() {
    echo "hostile_run.sh: $*" >&2
    exit 1
}
for tool in g++ gcc taskset prlimit; do command -v "$tool" >/dev/null || die "$tool is missing"; done
mkdir -p "$BUILD_DIR/logs"

cxx=(g++)
command -v ccache >/dev/null && cxx=(ccache g++)
for part in api http llhttp; do
    gcc -O2 -DNDEBUG -I "$LLHTTP_INCLUDE" -c "$LLHTTP_SRC/$part.c" -o "$BUILD_DIR/llhttp_$part.o"
done
build_server() { # name source-dir
    echo "== build $1 from $2"
    "${cxx[@]}" -std=c++20 -O2 -DNDEBUG -DASTER_HAS_ZLIB -I "$2/include" -I "$LLHTTP_INCLUDE" bench/hostile_server.cpp \
        "$BUILD_DIR"/llhttp_*.o -lz -pthread -o "$BUILD_DIR/hostile_server.$1" || die "cannot build $1"
}
builds=(this)
build_server this .
if [[ -n $BASELINE ]]; then
    rm -rf "$BUILD_DIR/base-src" && mkdir -p "$BUILD_DIR/base-src"
    git archive "$BASELINE" include | tar -x -C "$BUILD_DIR/base-src"
    build_server base "$BUILD_DIR/base-src"
    builds=(base this)
fi
"${cxx[@]}" -std=c++20 -O2 bench/hostile.cpp -lz -pthread -o "$BUILD_DIR/hostile" || die "cannot build hostile"

server_pid=
trap '[[ -n $server_pid ]] && kill -KILL "$server_pid" 2>/dev/null || true' EXIT
port_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
start_server() { # build [prlimit args...]
    local build=$1 tries
    shift
    port_accepts && die "port $PORT is in use; set PORT"
    taskset -c "$SERVER_CPU" "$@" "$BUILD_DIR/hostile_server.$build" --port "$PORT" \
        >"$BUILD_DIR/logs/server.log" 2>&1 &
    server_pid=$!
    for ((tries = 0; tries < 100; tries++)); do
        port_accepts && return 0
        sleep 0.05
    done
    die "server $build did not start; see $BUILD_DIR/logs/server.log"
}
stop_server() {
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
status_kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$server_pid/status"; }
ticks_per_s=$(getconf CLK_TCK)
client() { taskset -c "$CLIENT_CPU" "$BUILD_DIR/hostile" "$@"; }
value() { sed -n "s/^$1=//p" <<<"$2"; }

declare -A results
record() { results["$1"]+="$2 "; } # key value

run_round() { # build scenario
    local build=$1 scenario=$2 out before after
    case $scenario in
    bomb)
        start_server "$build"
        before=$(cpu_ticks)
        out=$(client deflate-bomb --port "$PORT" --mib 4)
        after=$(cpu_ticks)
        record "$build.$scenario.cpu_s" "$(bc -l <<<"($after - $before) / $ticks_per_s")"
        record "$build.$scenario.hello_ms" "$(value hello_ms "$out")"
        record "$build.$scenario.close" "$(value close_code "$out")"
        stop_server ;;
    message-*)
        start_server "$build"
        before=$(status_kib VmRSS)
        out=$(client big-message --port "$PORT" --path /ws-size --mode "${scenario#message-}")
        after=$(status_kib VmHWM)
        record "$build.$scenario.peak_mib" "$(bc -l <<<"($after - $before) / 1024")"
        record "$build.$scenario.answered" "$(value answered "$out")"
        stop_server ;;
    emfile)
        start_server "$build" prlimit --nofile=64:64
        before=$(cpu_ticks)
        client hold --port "$PORT" --count 200 --seconds 5 >/dev/null
        after=$(cpu_ticks)
        record "$build.$scenario.cpu_percent" "$(bc -l <<<"100 * ($after - $before) / $ticks_per_s / 5")"
        record "$build.$scenario.log_lines" "$(grep -c 'accept' "$BUILD_DIR/logs/server.log" || true)"
        # Descriptors are free again: the next client is served.
        out=$( (exec 3<>"/dev/tcp/127.0.0.1/$PORT"; printf 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3; timeout 5 cat <&3) 2>/dev/null || true)
        record "$build.$scenario.serves_after" "$([[ $out == *"Hello, World!"* ]] && echo 1 || echo 0)"
        stop_server ;;
    *) die "unknown scenario $scenario" ;;
    esac
}

for scenario in $SCENARIOS; do
    for ((round = 1; round <= ROUNDS; round++)); do
        for build in "${builds[@]}"; do
            run_round "$build" "$scenario"
        done
    done
done

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
echo
echo "== medians of $ROUNDS round(s)"
for key in $(printf '%s\n' "${!results[@]}" | sort); do
    printf '%-40s %10.3f   (%s)\n' "$key" "$(median "${results[$key]}")" "${results[$key]% }"
done
