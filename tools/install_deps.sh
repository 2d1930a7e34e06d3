#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages one purpose needs, if any are missing: running an example needs
# a compiler, Asio and llhttp; the tests add their peers (a browser, Python's websockets) and
# the optional extras; the sanitizers and fuzzers add clang. Each purpose includes the ones
# before it. The benchmarks' packages are bench/bench_deps.sh's.
#
#   ./tools/install_deps.sh [example|test|sanitize|fuzz]    # default: test
#   source tools/install_deps.sh && aster_install_deps example
#   ./tools/install_deps.sh --list example                  # print the package list, install nothing
#
# Runs `apt-get update` only when something must be installed. Set ASTER_SKIP_DEPS=1 to skip
# the whole step (e.g. on a machine that is not Debian-based and already has everything).

# What each purpose adds to the one before it (Debian names).
# example: build and run examples/*, nothing more.
ASTER_PACKAGES_EXAMPLE=(g++ cmake ninja-build pkg-config ccache libasio-dev node-llhttp)
# test: both builds and every test: Catch2, meson, the extras (JSON; zlib for permessage-deflate
# and gzip; OpenSSL for https and wss, and openssl to make the TLS test's certificate) and the
# interop peers (Python's websockets and Prometheus client, Chromium driven by Node),
# clang-format for the format check, and hiredis with a Redis server for topics across
# processes.
ASTER_PACKAGES_TEST=(catch2 meson python3 nlohmann-json3-dev zlib1g-dev libssl-dev openssl
                     python3-websockets python3-prometheus-client chromium clang-format
                     libhiredis-dev redis-server)
# sanitize, fuzz: clang with its sanitizer and libFuzzer runtimes.
ASTER_PACKAGES_SANITIZE=(clang libclang-rt-14-dev)
ASTER_PACKAGES_FUZZ=()

# COMMAND:PACKAGE pairs for the test purpose: the package is installed only when the command is
# missing, since it may come from elsewhere (NodeSource's nodejs brings its own npm and
# conflicts with Debian's npm). tools/node_deps.sh then installs the interop tests' npm packages.
ASTER_COMMANDS_TEST=(node:nodejs npm:npm)

# aster_packages PURPOSE: the packages PURPOSE needs, one per line; non-zero for an unknown one.
aster_packages() {
    local purpose="${1:-test}"
    case "$purpose" in
    example) printf '%s\n' "${ASTER_PACKAGES_EXAMPLE[@]}" ;;
    test) aster_packages example && printf '%s\n' "${ASTER_PACKAGES_TEST[@]}" ;;
    sanitize) aster_packages test && printf '%s\n' "${ASTER_PACKAGES_SANITIZE[@]}" ;;
    fuzz) aster_packages sanitize && [[ ${#ASTER_PACKAGES_FUZZ[@]} -eq 0 ]] ||
        printf '%s\n' "${ASTER_PACKAGES_FUZZ[@]}" ;;
    *) echo "install_deps: unknown purpose '$purpose' (example, test, sanitize, fuzz)" >&2; return 2 ;;
    esac
}

# aster_commands PURPOSE: COMMAND:PACKAGE pairs PURPOSE needs.
aster_commands() {
    case "${1:-test}" in
    example) ;;
    *) printf '%s\n' "${ASTER_COMMANDS_TEST[@]}" ;;
    esac
}

aster_install_deps() {
    local purpose="${1:-test}"
    if [[ "${ASTER_SKIP_DEPS:-0}" == 1 ]]; then
        return 0
    fi
    local wanted=() commands=()
    mapfile -t wanted < <(aster_packages "$purpose") || return 1
    [[ ${#wanted[@]} -gt 0 ]] || return 1
    mapfile -t commands < <(aster_commands "$purpose")
    if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        echo "install_deps: no dpkg/apt-get here; make sure these (Debian names) are installed:" >&2
        echo "  ${wanted[*]} ${commands[*]#*:}" >&2
        return 0
    fi

    local missing=() package
    for package in "${wanted[@]}"; do
        [[ -n "$package" ]] || continue
        if ! dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed'; then
            missing+=("$package")
        fi
    done
    local entry
    for entry in "${commands[@]}"; do
        [[ -n "$entry" ]] || continue
        if ! command -v "${entry%%:*}" >/dev/null 2>&1; then
            missing+=("${entry#*:}")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi

    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "install_deps: missing packages (${missing[*]}) and no sudo to install them" >&2
            return 1
        fi
        sudo=(sudo)
    fi
    echo "install_deps: installing for $purpose: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" || return 1
}

# Executed rather than sourced: list or install now.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    if [[ "${1:-}" == --list ]]; then
        aster_packages "${2:-test}"
        aster_commands "${2:-test}" | sed 's/^[^:]*://'
        exit 0
    fi
    aster_install_deps "${1:-test}"
fi
