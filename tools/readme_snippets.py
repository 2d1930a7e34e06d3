#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Extracts the README's C++ blocks into one test source, so the README's code cannot rot.

Usage: readme_snippets.py README.md OUTPUT.cpp

Blocks are concatenated in order. A block's `int main(` becomes `int readme_main(` so the
app compiles inside the Catch2 test binary; blocks that are shell or prose are skipped.
"""
import re
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    text = open(sys.argv[1], encoding="utf-8").read()
    blocks = re.findall(r"```cpp\n(.*?)```", text, flags=re.S)
    if not blocks:
        print("readme_snippets.py: no ```cpp blocks in " + sys.argv[1], file=sys.stderr)
        return 1
    out = ["// generated from README.md by tools/readme_snippets.py: do not edit\n"]
    for i, block in enumerate(blocks):
        out.append(f"// README block {i + 1}\n")
        out.append(re.sub(r"\bint main\(", "[[maybe_unused]] int readme_main(", block))
    content = "".join(out)
    try:
        if open(sys.argv[2], encoding="utf-8").read() == content:
            return 0  # unchanged: keep the timestamp so the build does not recompile
    except OSError:
        pass
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
