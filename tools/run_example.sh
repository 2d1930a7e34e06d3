#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds one example in Release mode and runs it; arguments after the name go to the example.
#
#   ./tools/run_example.sh hello                      # serves on 127.0.0.1:8000
#   ./tools/run_example.sh chat --host 0.0.0.0 --port 9000
#
# Environment: ASTER_BUILD_DIR (default: build; the tree is <it>/release), ASTER_JOBS (default: 2),
# ASTER_SKIP_DEPS=1.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

list_examples() {
    local main
    for main in examples/*/main.cpp; do
        [[ -e "$main" ]] && basename "$(dirname "$main")"
    done
}

if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
    echo "usage: $0 NAME [--host HOST] [--port PORT] [args...]" >&2
    echo "examples: $(list_examples | tr '\n' ' ')" >&2
    exit 2
fi
name="$1"
shift
if [[ ! -f "examples/$name/main.cpp" ]]; then
    echo "run_example.sh: no example named '$name' (no examples/$name/main.cpp)" >&2
    echo "examples: $(list_examples | tr '\n' ' ')" >&2
    exit 2
fi

# shellcheck source=tools/install_deps.sh
source "$root/tools/install_deps.sh"
aster_install_deps example

build_dir="${ASTER_BUILD_DIR:-build}/release"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-3G}"

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DASTER_BUILD_TESTS=OFF -DASTER_BUILD_EXAMPLES=ON --log-level=WARNING
cmake --build "$build_dir" --target "$name" -j "${ASTER_JOBS:-2}"

exec "$build_dir/$name" "$@"
