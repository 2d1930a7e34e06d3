#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Memory per idle connection: bench/idle_clients opens 10,000 connections to each server and
# leaves them idle, after one HTTP keep-alive request each (aster, the bare Asio + llhttp server,
# Boost.Beast) or after a WebSocket handshake and one echo each (aster, Beast). The server's
# VmRSS is read before and after; then every connection makes one more exchange, which proves
# all were still open and served when the memory was read. See bench/README.md.
#
#   bench/idle_run.sh
#   CONNECTIONS=20000 SERVERS="aster-ws beast-ws" bench/idle_run.sh
#
# Environment (defaults in brackets): CONNECTIONS [10000], ROUNDS [1], SOURCES [8] client
# addresses 127.0.0.1..N, SERVERS ["aster-http bare-http beast-http aster-ws beast-ws"],
# SETTLE seconds between the last connection and reading VmRSS [2], SERVER_CPU [0],
# CLIENT_CPU [1], BASE_PORT [18501], BUILD_DIR [build/bench], LLHTTP_SRC, LLHTTP_INCLUDE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CONNECTIONS=${CONNECTIONS:-10000}
ROUNDS=${ROUNDS:-1}
SOURCES=${SOURCES:-8}
SERVERS=${SERVERS:-aster-http bare-http beast-http aster-ws beast-ws}
SETTLE=${SETTLE:-2}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BASE_PORT=${BASE_PORT:-18501}
BUILD_DIR=${BUILD_DIR:-build/bench}
LLHTTP_SRC=${LLHTTP_SRC:-/usr/share/llhttp}
LLHTTP_INCLUDE=${LLHTTP_INCLUDE:-/usr/share/include/llhttp}

die() {
    echo "idle_run.sh: $*" >&2
    exit 1
}
for var in CONNECTIONS ROUNDS SOURCES SETTLE SERVER_CPU CLIENT_CPU BASE_PORT; do
    [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a whole number, not '${!var}'"
done

# Each side holds CONNECTIONS sockets, plus a few.
wanted_files=$((CONNECTIONS + 100))
if (($(ulimit -n) < wanted_files)); then
    ulimit -n "$wanted_files" 2>/dev/null ||
        die "cannot raise the open-file limit to $wanted_files (hard limit $(ulimit -Hn))"
fi

# shellcheck source=bench/bench_deps.sh
source bench/bench_deps.sh
bench_install_deps || die "cannot install the benchmark's packages (bench/bench_deps.sh)"
[[ -f /usr/include/boost/beast.hpp ]] || die "Boost.Beast is missing (bench/bench_deps.sh)"

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
for program in plaintext ws_echo bare_server; do
    "${cxx[@]}" "${cxxflags[@]}" -I include -I "$LLHTTP_INCLUDE" -c "bench/$program.cpp" \
        -o "$BUILD_DIR/$program.o" || die "cannot compile bench/$program.cpp"
    g++ "$BUILD_DIR/$program.o" "${llhttp_objects[@]}" "${libs[@]}" -o "$BUILD_DIR/$program" ||
        die "cannot link $program"
done
for program in http_beast_server ws_beast_echo idle_clients; do
    "${cxx[@]}" "${cxxflags[@]}" "bench/$program.cpp" -pthread -o "$BUILD_DIR/$program" ||
        die "cannot build bench/$program.cpp"
done

# ---- measurement -------------------------------------------------------------------------------
server_pid=
client_pid=
cleanup() {
    [[ -n $server_pid ]] && kill -KILL "$server_pid" 2>/dev/null
    [[ -n $client_pid ]] && kill -KILL "$client_pid" 2>/dev/null
    return 0
}
trap cleanup EXIT

binary_of() {
    case $1 in
    aster-http) echo plaintext ;;
    bare-http) echo bare_server ;;
    beast-http) echo http_beast_server ;;
    aster-ws) echo ws_echo ;;
    beast-ws) echo ws_beast_echo ;;
    *) return 1 ;;
    esac
}
for name in $SERVERS; do binary_of "$name" >/dev/null || die "unknown server '$name'"; done

port_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
open_files() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

declare -A results
measure() { # name port round
    local name=$1 port=$2 round=$3 tries mode
    port_accepts "$port" && die "port $port is already in use; set BASE_PORT"
    taskset -c "$SERVER_CPU" "$BUILD_DIR/$(binary_of "$name")" --port "$port" \
        >>"$BUILD_DIR/logs/idle.$name.server.log" 2>&1 &
    server_pid=$!
    for ((tries = 0; tries < 100; tries++)); do
        port_accepts "$port" && break
        kill -0 "$server_pid" 2>/dev/null || die "$name exited at start; see $BUILD_DIR/logs/idle.$name.server.log"
        sleep 0.05
    done
    sleep 0.5
    local before files_before
    before=$(rss_kib "$server_pid")
    files_before=$(open_files "$server_pid")
    mode=http
    [[ $name == *-ws ]] && mode=ws
    coproc CLIENT { taskset -c "$CLIENT_CPU" "$BUILD_DIR/idle_clients" --port "$port" --mode "$mode" \
        --connections "$CONNECTIONS" --sources "$SOURCES" 2>&1; }
    client_pid=$CLIENT_PID
    local line
    read -r -t 300 -u "${CLIENT[0]}" line || die "$name: idle_clients did not open its connections"
    [[ $line == "open $CONNECTIONS" ]] || die "$name: idle_clients: $line"
    sleep "$SETTLE"
    local after files_after
    after=$(rss_kib "$server_pid")
    files_after=$(open_files "$server_pid")
    echo check >&"${CLIENT[1]}"
    read -r -t 300 -u "${CLIENT[0]}" line || die "$name: idle_clients did not finish its check"
    wait "$client_pid" || true
    client_pid=
    local alive=${line#alive }
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    [[ $alive == "$CONNECTIONS" ]] ||
        die "$name: only $alive of $CONNECTIONS connections answered after the measurement"
    local per
    per=$(awk -v a="$after" -v b="$before" -v n="$CONNECTIONS" 'BEGIN { printf "%.2f", (a - b) / n }')
    printf '  round %d/%d  %-10s  VmRSS %7d -> %7d KiB  %6s KiB/connection  open sockets +%d  alive %s\n' \
        "$round" "$ROUNDS" "$name" "$before" "$after" "$per" "$((files_after - files_before))" "$alive"
    results[$name]+="$per "
    results[$name.before]+="$before "
    results[$name.after]+="$after "
}

median() { # values [printf format]
    # shellcheck disable=SC2086 # split on purpose: one number per word
    printf '%s\n' $1 | sort -g | awk -v f="${2:-%.0f}" '{ v[NR] = $1 } END {
        printf f "\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $CONNECTIONS idle connections from $SOURCES addresses; open-file limit $(ulimit -n)"
for ((round = 1; round <= ROUNDS; round++)); do
    port=$BASE_PORT
    for name in $SERVERS; do
        measure "$name" "$((port + (round - 1) * 10))" "$round"
        port=$((port + 1))
    done
done

echo
printf '%-11s %16s %15s %15s\n' server "RSS before KiB" "RSS after KiB" "KiB/connection"
for name in $SERVERS; do
    printf '%-11s %16s %15s %15s\n' "$name" "$(median "${results[$name.before]}")" \
        "$(median "${results[$name.after]}")" "$(median "${results[$name]}" %.2f)"
done
echo "(http: idle after one keep-alive request; ws: idle after the handshake and one echo."
echo " KiB/connection: (VmRSS after - VmRSS before) / $CONNECTIONS, median of $ROUNDS round(s);"
echo " kernel socket buffers are not in VmRSS. Every connection answered once more afterwards.)"
