#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate single_include/aster.hpp (and aster_test.hpp) from include/aster/.

single_include/aster.hpp holds everything a user can include: include/aster/aster.hpp, then every
other public header (the ones aster.hpp leaves out so that files which do not use them do not pay
for them: forms, files, static files, server-sent events, JSON, the middleware), in name order.
single_include/aster_test.hpp holds the test helpers that need Catch2 (aster/test/catch.hpp),
after including aster.hpp.

Every `#include <aster/...>` (or `#include "..."`) that names a file under include/ is replaced by
that file's text, depth-first, the first time it is met; later includes of the same file are
dropped, and the include guards stay in place. Every other include (the standard library, Asio,
llhttp, Catch, nlohmann, zlib) is kept as written. Each inlined file is wrapped in
`// begin aster/x.hpp` and `// end aster/x.hpp`.

The output depends only on the input files (no timestamp), so CI can regenerate and compare:

    python3 tools/amalgamate.py            # write single_include/aster.hpp
    python3 tools/amalgamate.py --check    # exit 1 if the committed file is stale

A header inlined first inside an `#if` block is not repeated where it is included again, so keep
aster includes of that kind unconditional, or inside the same condition everywhere.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT_HEADER = "aster/aster.hpp"
VERSION_HEADER = "aster/version.hpp"
DEFAULT_OUTPUT = "single_include/aster.hpp"
TEST_HEADERS = ["aster/test/catch.hpp"]  # need Catch2: in aster_test.hpp
TEST_OUTPUT = "single_include/aster_test.hpp"
BANNER = "// aster single header, generated from include/ by tools/amalgamate.py: do not edit"
REGENERATE = "python3 tools/amalgamate.py  (or: cmake --build <build> --target amalgamate)"

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
VERSION = re.compile(r'^\s*#\s*define\s+ASTER_VERSION_STRING\s+"([^"]+)"', re.MULTILINE)
VERSION_PART = r'^\s*#\s*define\s+ASTER_VERSION_{}\s+(\d+)'


class AmalgamationError(Exception):
    pass


def read_text(path: Path) -> str:
    # newline="" keeps the bytes as they are, except that CRLF becomes LF for a stable output.
    with path.open(encoding="utf-8", newline="") as f:
        return f.read().replace("\r\n", "\n")


def read_version(include_dir: Path) -> str:
    path = include_dir / VERSION_HEADER
    if not path.is_file():
        raise AmalgamationError(f"{path} not found: it must define ASTER_VERSION_STRING")
    text = read_text(path)
    match = VERSION.search(text)
    if match:
        return match.group(1)
    parts = [re.search(VERSION_PART.format(p), text, re.MULTILINE) for p in ("MAJOR", "MINOR", "PATCH")]
    if all(parts):
        return ".".join(m.group(1) for m in parts)
    raise AmalgamationError(f"{path} defines neither ASTER_VERSION_STRING nor MAJOR/MINOR/PATCH")


class Amalgamator:
    def __init__(self, include_dir: Path) -> None:
        self.include_dir = include_dir.resolve()
        self.seen: set[Path] = set()
        self.out: list[str] = []

    def name_of(self, path: Path) -> str:
        return path.relative_to(self.include_dir).as_posix()

    def resolve(self, spelling: str, delimiter: str, current: Path) -> Path | None:
        """The file under include/ that an include names, or None for an external header."""
        candidates = []
        if delimiter == '"':
            candidates.append(current.parent / spelling)
        candidates.append(self.include_dir / spelling)
        for candidate in candidates:
            candidate = candidate.resolve()
            if candidate.is_file() and self.include_dir in candidate.parents:
                return candidate
        if spelling.startswith("aster/"):
            raise AmalgamationError(
                f"{self.name_of(current)}: #include {delimiter}{spelling} names no file under include/")
        return None

    def inline(self, path: Path) -> None:
        self.seen.add(path)
        name = self.name_of(path)
        self.out.append(f"// begin {name}\n")
        text = read_text(path)
        for line in text.splitlines(keepends=True):
            match = INCLUDE.match(line)
            target = self.resolve(match.group(2), match.group(1), path) if match else None
            if target is None:
                self.out.append(line)
            elif target not in self.seen:
                self.inline(target)
        if text and not text.endswith("\n"):
            self.out.append("\n")
        self.out.append(f"// end {name}\n")


def public_headers(include_dir: Path) -> list[Path]:
    """Every header a user may include: include/aster/**, but detail/, impl/ and the test helpers."""
    out = []
    for path in sorted((include_dir / "aster").rglob("*.hpp")):
        name = path.relative_to(include_dir).as_posix()
        parts = name.split("/")
        if "detail" in parts or "impl" in parts or name in TEST_HEADERS:
            continue
        out.append(path.resolve())
    return out


def amalgamate(root: Path) -> tuple[str, str]:
    """The single header and the test helpers' header."""
    include_dir = root / "include"
    start = include_dir / ROOT_HEADER
    if not start.is_file():
        raise AmalgamationError(f"{start} not found: it is where the amalgamation starts")
    version = read_version(include_dir)
    worker = Amalgamator(include_dir)
    worker.inline(start.resolve())
    for header in public_headers(include_dir):
        if header not in worker.seen:
            worker.inline(header)
    main = f"{BANNER}\n// version {version}\n" + "".join(worker.out)
    worker.out = []
    for name in TEST_HEADERS:
        worker.inline((include_dir / name).resolve())
    test = (f"{BANNER}\n// version {version}\n// aster's test helpers for Catch2; the rest of aster "
            f"is in aster.hpp\n#include \"aster.hpp\"\n" + "".join(worker.out))
    return main, test


def check(output: Path, generated: str, shown: str) -> int:
    if not output.is_file():
        print(f"{shown} does not exist; generate it with: {REGENERATE}", file=sys.stderr)
        return 1
    current = read_text(output)
    if current == generated:
        print(f"{shown} is up to date")
        return 0
    print(f"{shown} is out of date with include/; regenerate it with: {REGENERATE}\n"
          "and commit it together with the header change.", file=sys.stderr)
    diff = list(difflib.unified_diff(current.splitlines(keepends=True),
                                     generated.splitlines(keepends=True),
                                     f"{shown} (committed)", f"{shown} (from include/)", n=1))
    limit = 60
    sys.stderr.writelines(diff[:limit])
    if len(diff) > limit:
        print(f"... {len(diff) - limit} more diff lines", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Generate the aster single header.")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="repository root (default: the parent of tools/)")
    parser.add_argument("--output", type=Path,
                        help=f"file to write or check (default: <root>/{DEFAULT_OUTPUT})")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the output file differs from a fresh run")
    args = parser.parse_args(argv)

    root = args.root.resolve()
    try:
        main_text, test_text = amalgamate(root)
    except (AmalgamationError, OSError, UnicodeDecodeError) as exc:
        print(f"amalgamate.py: {exc}", file=sys.stderr)
        return 2
    # --output names where the single header goes (the test helpers' header is then not written).
    targets = [(args.output, str(args.output), main_text)] if args.output else [
        (root / DEFAULT_OUTPUT, DEFAULT_OUTPUT, main_text), (root / TEST_OUTPUT, TEST_OUTPUT, test_text)]

    if args.check:
        return max(check(output, generated, shown) for output, shown, generated in targets)

    for output, shown, generated in targets:
        output.parent.mkdir(parents=True, exist_ok=True)
        if output.is_file() and read_text(output) == generated:
            print(f"{shown} is already up to date")
            continue
        with output.open("w", encoding="utf-8", newline="\n") as f:
            f.write(generated)
        print(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
