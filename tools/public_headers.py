#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Lists aster's public headers, one per line (include/aster/**/*.hpp outside detail/ and impl/):
what a user may include on its own, so what tests/headers compiles one by one."""
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
include = root / "include"
for path in sorted(include.rglob("*.hpp")):
    rel = path.relative_to(include)
    if {"detail", "impl"} & set(rel.parts[:-1]):
        continue
    print(rel.as_posix())
