#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The one test command: installs missing Debian packages, checks the C++ is formatted as
# .clang-format says (tools/format.sh), then builds and tests aster with
# CMake (build/cmake) and with meson (build/meson), runs the whole suite again under ASan+UBSan
# and the multi-threaded cases under TSan (tools/sanitize.sh), and runs every fuzz harness for a
# bounded time (tools/fuzz.sh). Every stage always runs; the last line sums them up and the exit
# status is non-zero if any step of any stage failed.
#
#   ./tools/test.sh                                  # every stage (CI runs exactly this)
#   ASTER_STAGES="cmake meson" ./tools/test.sh       # a quicker round while developing
#
# Environment: ASTER_STAGES (default: format cmake meson sanitize fuzz), ASTER_BUILD_DIR (default:
# build), ASTER_JOBS (default: 2), ASTER_SKIP_DEPS=1, and those of the two scripts.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1

stages="${ASTER_STAGES:-format cmake meson sanitize fuzz}"

# shellcheck source=tools/install_deps.sh
source "$root/tools/install_deps.sh"
purpose=test
[[ " $stages " == *" sanitize "* ]] && purpose=sanitize
[[ " $stages " == *" fuzz "* ]] && purpose=fuzz
if ! aster_install_deps "$purpose"; then
    echo "test.sh: installing dependencies failed" >&2
    exit 1
fi

build_dir="${ASTER_BUILD_DIR:-build}"
jobs="${ASTER_JOBS:-2}"
# Room for a few build trees of both build systems; ccache evicts beyond it.
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-3G}"

started=$SECONDS

# step NAME COMMAND...: runs one step, timed; returns its status.
step() {
    local name="$1" begin=$SECONDS status
    shift
    echo
    echo "==> $name: $*"
    "$@"
    status=$?
    if [[ $status -eq 0 ]]; then
        echo "==> $name: ok ($((SECONDS - begin)) s)"
    else
        echo "==> $name: FAILED with status $status ($((SECONDS - begin)) s)"
    fi
    return $status
}

run_cmake() {
    local dir="$build_dir/cmake"
    step "cmake configure" cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DASTER_REDIS=ON \
        || { cmake_result="configure failed"; return 1; }
    step "cmake build" cmake --build "$dir" -j "$jobs" || { cmake_result="build failed"; return 1; }
    step "ctest" ctest --test-dir "$dir" --output-on-failure -j "$jobs" \
        || { cmake_result="tests failed"; return 1; }
    cmake_result="passed"
}

run_meson() {
    local dir="$build_dir/meson"
    if [[ -f "$dir/meson-private/coredata.dat" ]]; then
        # A tree left by another meson version cannot be reconfigured; start it afresh then.
        step "meson setup" meson setup --reconfigure -Dredis=enabled "$dir" \
            || step "meson setup (wiped)" meson setup --wipe -Dredis=enabled "$dir" \
            || { meson_result="setup failed"; return 1; }
    else
        step "meson setup" meson setup -Dredis=enabled "$dir" \
            || { meson_result="setup failed"; return 1; }
    fi
    step "meson compile" meson compile -C "$dir" -j "$jobs" || { meson_result="build failed"; return 1; }
    step "meson test" meson test -C "$dir" --print-errorlogs --num-processes "$jobs" \
        || { meson_result="tests failed"; return 1; }
    meson_result="passed"
}

declare -A result
failed=0
for stage in $stages; do
    case "$stage" in
    format)
        step format "$root/tools/format.sh" --check
        status=$?
        [[ $status -eq 0 ]] && result[$stage]="passed" || result[$stage]="failed" ;;
    cmake) cmake_result="not run"; run_cmake; status=$?; result[$stage]=$cmake_result ;;
    meson) meson_result="not run"; run_meson; status=$?; result[$stage]=$meson_result ;;
    sanitize | fuzz)
        # Each script prints its own steps and summary; ASTER_SKIP_DEPS: installed above.
        step "$stage" env ASTER_SKIP_DEPS=1 "$root/tools/$stage.sh"
        status=$?
        [[ $status -eq 0 ]] && result[$stage]="passed" || result[$stage]="failed" ;;
    *) echo "test.sh: unknown stage '$stage' (format, cmake, meson, sanitize, fuzz)" >&2; status=1
       result[$stage]="unknown" ;;
    esac
    [[ $status -eq 0 ]] || failed=1
done

summary=""
for stage in $stages; do summary+="${summary:+, }$stage ${result[$stage]}"; done
echo
if [[ $failed -eq 0 ]]; then
    echo "test.sh: PASSED: $summary ($((SECONDS - started)) s)"
    exit 0
fi
echo "test.sh: FAILED: $summary ($((SECONDS - started)) s)"
exit 1
