#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The project's C++ as .clang-format says (clang-format 14, Debian's `clang-format`):
#
#   tools/format.sh            # rewrites every tracked C++ file in place
#   tools/format.sh --check    # changes nothing; lists what differs and fails (CI's format stage)
#
# single_include/ is generated from include/ and never formatted on its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
formatter=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
[[ -n $formatter ]] || { echo "format.sh: clang-format is missing (tools/install_deps.sh test)" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.hpp' '*.ipp' '*.cpp' '*.h' ':!:single_include/*')
[[ ${#files[@]} -gt 0 ]] || { echo "format.sh: no C++ files found (not a git checkout?)" >&2; exit 1; }
if [[ ${1:-} == --check ]]; then
    # One process for every file (a process per file took 20 s); the files named in its
    # diagnostics are those that differ.
    status=0
    report=$("$formatter" --dry-run -Werror "${files[@]}" 2>&1) || status=$?
    mapfile -t differ < <(sed -nE 's/^([^:]+):[0-9]+:[0-9]+: error: .*/\1/p' <<<"$report" | sort -u)
    if [[ ${#differ[@]} -eq 0 && $status -ne 0 ]]; then
        echo "format.sh: $formatter failed (status $status)" >&2
        exit 1
    fi
    if [[ ${#differ[@]} -gt 0 ]]; then
        echo "format.sh: ${#differ[@]} of ${#files[@]} files differ from .clang-format (run tools/format.sh):" >&2
        printf '  %s\n' "${differ[@]}" >&2
        exit 1
    fi
    echo "format.sh: ${#files[@]} files as .clang-format says"
else
    "$formatter" -i "${files[@]}"
fi
