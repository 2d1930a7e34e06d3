#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages aster's builds, tests and benchmarks use, if any are missing.
#
#   ./tools/install_deps.sh              # or, from another script:
#   source tools/install_deps.sh && aster_install_deps
#
# Runs `apt-get update` only when something must be installed. Set ASTER_SKIP_DEPS=1 to skip
# the whole step (e.g. on a machine that is not Debian-based and already has everything).

# The builds detect the optional extras and do without them; they are installed by default so
# every feature is built and tested: nlohmann-json3-dev (JSON), zlib1g-dev (permessage-deflate),
# libssl-dev (https, wss) and openssl (the TLS interop test makes its certificate with it).
ASTER_APT_PACKAGES=(
    libasio-dev node-llhttp catch2 meson ninja-build cmake g++ pkg-config python3 ccache
    nlohmann-json3-dev zlib1g-dev libssl-dev openssl wrk python3-websockets chromium
    clang libclang-rt-14-dev
)

# COMMAND:PACKAGE pairs: the package is installed only when the command is missing, since it may
# come from elsewhere (NodeSource's nodejs brings its own npm and conflicts with Debian's npm).
# The interop tests need them; tools/node_deps.sh then installs their npm packages.
ASTER_APT_COMMANDS=(node:nodejs npm:npm)

aster_install_deps() {
    if [[ "${ASTER_SKIP_DEPS:-0}" == 1 ]]; then
        return 0
    fi
    if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        echo "install_deps: no dpkg/apt-get here; make sure these (Debian names) are installed:" >&2
        echo "  ${ASTER_APT_PACKAGES[*]} ${ASTER_APT_COMMANDS[*]#*:}" >&2
        return 0
    fi

    local missing=() package
    for package in "${ASTER_APT_PACKAGES[@]}"; do
        if ! dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed'; then
            missing+=("$package")
        fi
    done
    local entry
    for entry in "${ASTER_APT_COMMANDS[@]}"; do
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
    echo "install_deps: installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" || return 1
}

# Executed rather than sourced: install now.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    aster_install_deps
fi
