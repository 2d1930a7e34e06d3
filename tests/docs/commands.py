#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the shell commands of README.md and docs/ exactly as a reader would type them.

A ```sh block right after a line `<!-- tested: NAME -->` is one step of scenario NAME; a
scenario's steps run in order, in one bash (set -e), in a fresh directory prepared as the text
around them says:
  single-header   aster.hpp (the single header) and app.cpp (the README's first C++ block,
                  including "aster.hpp" as the README says); then ./app --help must exit 0
  install         aster/ (this source tree) and main.cpp (the package test's consumer); then
                  ./app must run and exit 0

Usage: commands.py [SCENARIO...]     (default: every scenario found)
Exits non-zero when a scenario's commands fail, or when a named scenario has no blocks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARKER = re.compile(r"^\s*<!--\s*tested:\s*([\w-]+)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")


def pages() -> list[str]:
    docs = os.path.join(ROOT, "docs")
    return [os.path.join(ROOT, "README.md")] + sorted(
        os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))


def scenarios() -> dict[str, list[str]]:
    """NAME -> the text of its blocks, in page order."""
    found: dict[str, list[str]] = {}
    for page in pages():
        lines = open(page, encoding="utf-8").read().splitlines()
        i = 0
        while i < len(lines):
            m = MARKER.match(lines[i])
            if m and i + 1 < len(lines) and FENCE.match(lines[i + 1]):
                indent = FENCE.match(lines[i + 1]).group(1)
                body = []
                i += 2
                while i < len(lines) and not FENCE.match(lines[i]):
                    body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                    i += 1
                found.setdefault(m.group(1), []).append("\n".join(body))
            i += 1
    return found


def first_cpp_block(page: str) -> str:
    text = open(page, encoding="utf-8").read()
    m = re.search(r"```cpp\n(.*?)```", text, re.S)
    if not m:
        raise SystemExit(f"commands.py: no C++ block in {page}")
    return m.group(1)


def prepare(name: str, work: str) -> str:
    """Sets up `work` for scenario `name`; returns the check to run after its commands."""
    if name == "single-header":
        shutil.copy(os.path.join(ROOT, "single_include", "aster.hpp"), os.path.join(work, "aster.hpp"))
        app = first_cpp_block(os.path.join(ROOT, "README.md"))
        if "#include <aster/aster.hpp>" not in app:
            raise SystemExit("commands.py: the README's app no longer includes <aster/aster.hpp>")
        app = app.replace("#include <aster/aster.hpp>", '#include "aster.hpp"')
        with open(os.path.join(work, "app.cpp"), "w", encoding="utf-8") as f:
            f.write(app)
        return "./app --help >/dev/null"
    if name == "install":
        os.symlink(ROOT, os.path.join(work, "aster"))
        shutil.copy(os.path.join(ROOT, "tests", "package", "consumer", "main.cpp"),
                    os.path.join(work, "main.cpp"))
        return "./app"
    raise SystemExit(f"commands.py: no set-up known for scenario '{name}'")


def run(name: str, blocks: list[str]) -> bool:
    work = tempfile.mkdtemp(prefix=f"aster-docs-{name}-")
    try:
        check = prepare(name, work)
        script = "set -euo pipefail\n" + "\n".join(blocks) + "\n" + check + "\n"
        print(f"==> {name} (in {work}):\n{script}", flush=True)
        env = dict(os.environ)
        # ccache's own directory of compiler names first, as many readers have it: `g++` is
        # still what runs, but the second build system's run of these commands is cached.
        if os.path.isdir("/usr/lib/ccache"):
            env["PATH"] = "/usr/lib/ccache:" + env.get("PATH", "")
        env.setdefault("CCACHE_BASEDIR", work)
        result = subprocess.run(["bash", "-c", script], cwd=work, env=env)
        ok = result.returncode == 0
        print(f"==> {name}: {'ok' if ok else f'FAILED with status {result.returncode}'}", flush=True)
        return ok
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> int:
    found = scenarios()
    names = argv or sorted(found)
    missing = [n for n in names if n not in found]
    if missing:
        print(f"commands.py: no `<!-- tested: NAME -->` blocks for {', '.join(missing)}", file=sys.stderr)
        return 1
    failed = [n for n in names if not run(n, found[n])]
    if failed:
        print(f"commands.py: FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
