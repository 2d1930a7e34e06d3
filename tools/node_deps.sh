#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Node packages of tests/interop/package.json (playwright-core, pinned by its
# package-lock.json) into a directory outside the source tree, unless they are there already.
#
#   ./tools/node_deps.sh                 # into build/node
#   ./tools/node_deps.sh /path/to/dir
#
# Only npm's registry is used; no browser is downloaded (the tests drive Debian's chromium).
# Runs concurrently from several test runs: a lock makes the later ones wait, then find it done.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-${ASTER_NODE_DIR:-$root/build/node}}"
spec="$root/tests/interop"

if ! command -v npm >/dev/null 2>&1; then
    echo "node_deps.sh: npm is missing (Debian: nodejs and npm; ./tools/install_deps.sh)" >&2
    exit 1
fi

# Up to date when the installed lock file matches the committed one byte for byte.
installed() {
    cmp -s "$spec/package-lock.json" "$dir/package-lock.json" &&
        [[ -f "$dir/node_modules/playwright-core/package.json" ]]
}

mkdir -p "$dir"
exec 9>"$dir/.install.lock"
flock -w 300 9 || { echo "node_deps.sh: timed out waiting for $dir/.install.lock" >&2; exit 1; }
if installed; then
    exit 0
fi
cp "$spec/package.json" "$spec/package-lock.json" "$dir/"
echo "node_deps.sh: installing tests/interop/package-lock.json into $dir"
(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
installed
