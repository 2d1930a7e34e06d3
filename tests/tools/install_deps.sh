#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Each purpose of tools/install_deps.sh installs what it needs and nothing more: serving an
# example must not pull a browser, a fuzzer's compiler or a load generator.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
failed=0
list() { bash "$root/tools/install_deps.sh" --list "$1"; }
has() { # purpose package...
    local purpose="$1" p
    shift
    for p in "$@"; do
        grep -qx "$p" <<<"$(list "$purpose")" || { echo "FAIL: $purpose lacks $p"; failed=1; }
    done
}
lacks() { # purpose package...
    local purpose="$1" p
    shift
    for p in "$@"; do
        grep -qx "$p" <<<"$(list "$purpose")" && { echo "FAIL: $purpose needlessly installs $p"; failed=1; }
    done
}
has example g++ cmake ninja-build libasio-dev node-llhttp
lacks example chromium nodejs npm clang clang-format libclang-rt-14-dev wrk catch2 meson python3-websockets python3-prometheus-client \
    libboost1.74-dev nlohmann-json3-dev libssl-dev zlib1g-dev libhiredis-dev redis-server
has test clang-format catch2 meson chromium python3-websockets python3-prometheus-client nodejs npm libssl-dev zlib1g-dev libasio-dev \
    libhiredis-dev redis-server
lacks test clang libclang-rt-14-dev wrk libboost1.74-dev
has sanitize clang libclang-rt-14-dev catch2
has fuzz clang libclang-rt-14-dev
lacks fuzz wrk libboost1.74-dev
# The scripts ask for their own purpose.
grep -q '^aster_install_deps example$' "$root/tools/run_example.sh" ||
    { echo "FAIL: run_example.sh does not install for 'example'"; failed=1; }
grep -q 'aster_install_deps sanitize' "$root/tools/sanitize.sh" ||
    { echo "FAIL: sanitize.sh does not install for 'sanitize'"; failed=1; }
grep -q 'aster_install_deps fuzz' "$root/tools/fuzz.sh" ||
    { echo "FAIL: fuzz.sh does not install for 'fuzz'"; failed=1; }
bash "$root/tools/install_deps.sh" --list nonsense >/dev/null 2>&1 &&
    { echo "FAIL: an unknown purpose is accepted"; failed=1; }
[[ $failed -eq 0 ]] && echo "install_deps: every purpose's list is right"
exit $failed
