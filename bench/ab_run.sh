#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Old against new, same run: aster's benchmark servers built from BASELINE (a commit) and from
# this tree, measured in alternating rounds (old, new, old, new, ...), server pinned to
# SERVER_CPU and the load generator to CLIENT_CPU; medians of req/s (msg/s) and of server CPU
# per request (message), and new/old ratios. A change counts as no worse when its CPU per
# request is not above the old one's beyond the rounds' spread.
#
#   BASELINE=983efb6 bench/ab_run.sh                    # 5 rounds of every scenario
#   BASELINE=HEAD~3 ROUNDS=7 SCENARIOS="k1 k16" bench/ab_run.sh
#
# Scenarios: plaintext, pipelined (wrk, 16 per write), k1, k16, text16k, binary16k (ws_load).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BASELINE=${BASELINE:?set BASELINE to a commit}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
SCENARIOS=${SCENARIOS:-plaintext pipelined k1 k16 text16k binary16k}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-18351}
BUILD_DIR=${BUILD_DIR:-build/bench/ab}
LLHTTP_SRC=${LLHTTP_SRC:-/usr/share/llhttp}
LLHTTP_INCLUDE=${LLHTTP_INCLUDE:-/usr/share/include/llhttp}
die() { echo "ab_run.sh: $*" >&2; exit 1; }
for tool in g++ gcc taskset wrk; do command -v "$tool" >/dev/null || die "$tool is missing (bench/bench_deps.sh)"; done

mkdir -p "$BUILD_DIR"
cxx=(g++)
command -v ccache >/dev/null && cxx=(ccache g++)
for part in api http llhttp; do
    gcc -O2 -DNDEBUG -I "$LLHTTP_INCLUDE" -c "$LLHTTP_SRC/$part.c" -o "$BUILD_DIR/llhttp_$part.o"
done
build() { # name source-tree
    echo "== build $1 from $2"
    for program in plaintext ws_echo; do
        # zlib as the examples have it (older trees turned it on from <zlib.h>, newer by macro).
        "${cxx[@]}" -std=c++20 -O2 -DNDEBUG -DASTER_HAS_ZLIB -I "$2/include" -I "$LLHTTP_INCLUDE" \
            "$2/bench/$program.cpp" "$BUILD_DIR"/llhttp_*.o -lz -pthread -o "$BUILD_DIR/$program.$1" ||
            die "cannot build $program ($1)"
    done
}
rm -rf "$BUILD_DIR/old-src" && mkdir -p "$BUILD_DIR/old-src"
git archive "$BASELINE" include bench examples | tar -x -C "$BUILD_DIR/old-src"
build old "$BUILD_DIR/old-src"
build new .
"${cxx[@]}" -std=c++20 -O2 bench/ws_load.cpp -pthread -o "$BUILD_DIR/ws_load" || die "cannot build ws_load"

server_pid=
trap '[[ -n $server_pid ]] && kill -KILL "$server_pid" 2>/dev/null || true' EXIT
ticks=$(getconf CLK_TCK)
declare -A rate cpu
start() { # binary
    taskset -c "$SERVER_CPU" "$1" --port "$PORT" >/dev/null 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return; sleep 0.05; done
    die "$1 did not start"
}
stop() { kill -KILL "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=; }
ticks_of() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
measure() { # build scenario
    local build=$1 scenario=$2 out count before after
    case $scenario in
    plaintext | pipelined)
        start "$BUILD_DIR/plaintext.$build"
        local wrk=(wrk -t1 -c50 -d"${DURATION}s" "http://127.0.0.1:$PORT/plaintext")
        [[ $scenario == pipelined ]] && wrk+=(-s bench/pipeline.lua -- 16)
        taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d1s "http://127.0.0.1:$PORT/plaintext" >/dev/null
        before=$(ticks_of)
        out=$(taskset -c "$CLIENT_CPU" "${wrk[@]}")
        after=$(ticks_of)
        count=$(awk '/requests in/ {print $1}' <<<"$out")
        rate[$build.$scenario]+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") " ;;
    *)
        local args
        case $scenario in
        k1) args="--size 32 --depth 1" ;;
        k16) args="--size 32 --depth 16" ;;
        text16k) args="--size 16384 --depth 1" ;;
        binary16k) args="--size 16384 --depth 1 --binary" ;;
        *) die "unknown scenario $scenario" ;;
        esac
        start "$BUILD_DIR/ws_echo.$build"
        # shellcheck disable=SC2086
        out=$(taskset -c "$CLIENT_CPU" "$BUILD_DIR/ws_load" --port "$PORT" --connections 50 \
            --duration "$DURATION" --warmup 1 --server-pid "$server_pid" $args)
        rate[$build.$scenario]+="$(awk '{for (i = 1; i < NF; ++i) if ($i == "messages/s") print $(i + 1)}' <<<"$out") "
        cpu[$build.$scenario]+="$(awk '{for (i = 1; i < NF; ++i) if ($i == "server_us_per_message") print $(i + 1)}' <<<"$out") "
        stop
        return ;;
    esac
    cpu[$build.$scenario]+="$(awk -v t="$((after - before))" -v k="$ticks" -v n="$count" 'BEGIN { printf "%.4f", (n > 0 ? t / k * 1e6 / n : 0) }') "
    stop
}
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
for scenario in $SCENARIOS; do
    for ((round = 1; round <= ROUNDS; round++)); do
        measure old "$scenario"
        measure new "$scenario"
        o=${rate[old.$scenario]% } n=${rate[new.$scenario]% }
        oc=${cpu[old.$scenario]% } nc=${cpu[new.$scenario]% }
        echo "  $scenario round $round: old ${o##* }/s ${oc##* } us, new ${n##* }/s ${nc##* } us"
    done
done
echo
printf '%-10s %12s %12s %8s %10s %10s %8s\n' scenario "old /s" "new /s" new/old "old us" "new us" "new/old"
for scenario in $SCENARIOS; do
    o=$(median "${rate[old.$scenario]}") n=$(median "${rate[new.$scenario]}")
    oc=$(median "${cpu[old.$scenario]}") nc=$(median "${cpu[new.$scenario]}")
    printf '%-10s %12.0f %12.0f %8.3f %10.3f %10.3f %8.3f\n' "$scenario" "$o" "$n" \
        "$(awk -v a="$n" -v b="$o" 'BEGIN { print a / b }')" "$oc" "$nc" \
        "$(awk -v a="$nc" -v b="$oc" 'BEGIN { print (b > 0 ? a / b : 0) }')"
done
echo "(medians of $ROUNDS alternating rounds; us: server CPU per request or message)"
echo
echo "server CPU per request or message, each side's rounds from lowest to highest:"
for scenario in $SCENARIOS; do
    for build in old new; do
        printf '%-10s %s  %s\n' "$scenario" "$build" \
            "$(tr ' ' '\n' <<<"${cpu[$build.$scenario]}" | grep -v '^$' | sort -g | tr '\n' ' ')"
    done
done
