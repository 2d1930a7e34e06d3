#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The longest chain of `#include <aster/...>` edges from a header (default aster/aster.hpp).

A header read in one sitting includes what it uses and little below that: a long chain means a
change deep down recompiles everything and a reader follows eleven files to find a definition.
Edges back into a header already on the chain (an impl file including its declaration) are
ignored. Exits 1 when the chain is longer than --max.

    tools/include_depth.py [--max N] [--root aster/aster.hpp]
"""
import argparse
import functools
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*<(aster/[^>]+)>', re.M)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="aster/aster.hpp")
    ap.add_argument("--max", type=int, default=0, help="fail when the chain has more edges")
    ap.add_argument("--include-dir", default=str(pathlib.Path(__file__).resolve().parent.parent / "include"))
    args = ap.parse_args()
    base = pathlib.Path(args.include_dir)

    @functools.cache
    def edges(header: str) -> tuple[str, ...]:
        path = base / header
        if not path.exists():
            sys.exit(f"include_depth.py: {header} is included but does not exist")
        return tuple(dict.fromkeys(INCLUDE.findall(path.read_text())))

    best: dict[str, list[str]] = {}

    def longest(header: str, stack: tuple[str, ...]) -> list[str]:
        if header in best:
            return best[header]
        chain = [header]
        for child in edges(header):
            if child in stack:
                continue
            below = longest(child, stack + (header,))
            if len(below) + 1 > len(chain):
                chain = [header] + below
        best[header] = chain
        return chain

    chain = longest(args.root, ())
    print(f"{len(chain) - 1} edges: " + " -> ".join(chain))
    if args.max and len(chain) - 1 > args.max:
        print(f"include_depth.py: longer than {args.max}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
