#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that a C++ file fails to compile with the diagnostics it announces.

Usage: expect_compile_error.py FILE -- COMPILER [ARGS...]

FILE holds one or more lines `// expect-error: <text>` (anywhere in the output) or
`// expect-first-error: <text>` (on the first line holding `error:`, where a reader looks). The
compiler runs with ARGS (FILE is appended unless ARGS already name it). Exit 0 only when the
compiler fails and every announced text appears where announced; otherwise explain what happened
and exit 1 (2 for bad usage).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

EXPECT = re.compile(r"//\s*expect-error:\s*(.*?)\s*$")
EXPECT_FIRST = re.compile(r"//\s*expect-first-error:\s*(.*?)\s*$")


def expected_messages(path: str, pattern: re.Pattern = EXPECT) -> list[str]:
    with open(path, encoding="utf-8") as f:
        found = [m.group(1) for m in map(pattern.search, f) if m]
    return [text for text in found if text]


def usage(message: str) -> int:
    print(f"expect_compile_error.py: {message}", file=sys.stderr)
    print("usage: expect_compile_error.py FILE -- COMPILER [ARGS...]", file=sys.stderr)
    return 2


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        return usage("expected FILE, then --, then the compiler command")
    source, command = argv[0], argv[2:]
    if not os.path.isfile(source):
        return usage(f"no such file: {source}")

    expected = expected_messages(source)
    expected_first = expected_messages(source, EXPECT_FIRST)
    if not expected and not expected_first:
        print(f"{source}: no `// expect-error: <text>` line, so nothing to check")
        return 1

    source_path = os.path.realpath(source)
    if not any(os.path.realpath(arg) == source_path for arg in command if not arg.startswith("-")):
        command.append(source)

    # The C locale makes GCC quote with plain ' rather than typographic quotes, so the expected
    # texts read the same on every machine.
    env = dict(os.environ, LC_ALL="C")
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", env=env, check=False)
    except OSError as exc:
        print(f"could not run {command[0]}: {exc}")
        return 1
    output = result.stdout

    shown = " ".join(command)
    if result.returncode == 0:
        print(f"{source}: compiled successfully, but it must fail with:")
        for text in expected + expected_first:
            print(f"  {text}")
        print(f"command: {shown}")
        if output:
            print(output, end="" if output.endswith("\n") else "\n")
        return 1

    first_error = next((line for line in output.splitlines() if "error:" in line), "")
    missing = [text for text in expected if text not in output]
    missing += [f"(on the first error line) {text}" for text in expected_first
                if text not in first_error]
    if missing:
        print(f"{source}: failed to compile as expected, but the output lacks:")
        for text in missing:
            print(f"  {text}")
        print(f"command: {shown}")
        print("---- compiler output ----")
        print(output, end="" if output.endswith("\n") else "\n")
        return 1

    print(f"{source}: failed to compile with the expected diagnostic"
          + ("s" if len(expected) > 1 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
