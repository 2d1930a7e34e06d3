#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what only the benchmarks need (the comparison servers' Boost.Beast, wrk, perf), if
# missing. aster itself and its tests never need these: tools/install_deps.sh does not list them.
#
#   bench/bench_deps.sh                         # or, from a bench script:
#   source bench/bench_deps.sh && bench_install_deps
#
# Set ASTER_SKIP_DEPS=1 to skip the step (a machine that already has everything, or no apt).

BENCH_APT_PACKAGES=(libboost1.74-dev wrk g++ ccache)

bench_install_deps() {
    [[ "${ASTER_SKIP_DEPS:-0}" == 1 ]] && return 0
    command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 || return 0
    local missing=() package
    for package in "${BENCH_APT_PACKAGES[@]}"; do
        dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$package")
    done
    ((${#missing[@]} == 0)) && return 0
    local sudo=()
    [[ "$(id -u)" -ne 0 ]] && sudo=(sudo)
    echo "bench_deps: installing ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    bench_install_deps
fi
