#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Extracts the C++ blocks of the README and the docs/ pages into one test source, so the
documentation's code cannot rot.

Usage: readme_snippets.py OUTPUT.cpp PAGE.md...

A page's blocks are concatenated in order inside a namespace of their own, so pages may reuse
names (every page can have its `app`); `#include` lines move to the top of the file, since a
header cannot be included inside a namespace. A block's `int main(` becomes a function that is
compiled but never run. Catch2 `TEST_CASE`s in the blocks run; their names must be unique over
all pages. Blocks tagged other than ```cpp (sh, text) are skipped; C++ tagged otherwise (```c++)
is an error. Fails when no page has a block.
"""
import os
import re
import sys


def page_namespace(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return "snippets_" + re.sub(r"[^0-9A-Za-z_]", "_", stem).lower()


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    output, pages = sys.argv[1], sys.argv[2:]
    includes: list[str] = []
    bodies: list[str] = []
    for page in pages:
        text = open(page, encoding="utf-8").read()
        blocks = re.findall(r"```cpp\n(.*?)```", text, flags=re.S)
        # C++ fenced under another name would silently go untested.
        other = re.search(r"^\s*```(c\+\+|cxx|cc|hpp|h)\s*$", text, flags=re.M | re.I)
        if other:
            print(f"readme_snippets.py: {page}: tag C++ blocks ```cpp, not ```{other.group(1)}",
                  file=sys.stderr)
            return 1
        if not blocks:
            continue  # a page of prose and tables (docs/architecture.md)
        body = [f"namespace {page_namespace(page)} {{\n"]
        for i, block in enumerate(blocks):
            # A main with no return statement would end a non-void function without one.
            main_type = "int" if "return" in block.partition("int main(")[2] else "void"
            body.append(f"// {os.path.basename(page)}, block {i + 1}\n")
            for line in block.splitlines(keepends=True):
                if line.lstrip().startswith("#include"):
                    if line not in includes:
                        includes.append(line)
                    body.append("\n")  # keeps the block's line count for readable errors
                else:
                    body.append(re.sub(r"\bint main\(", f"[[maybe_unused]] {main_type} snippet_main(", line))
        body.append(f"}} // namespace {page_namespace(page)}\n\n")
        bodies.append("".join(body))
    if not bodies:
        print("readme_snippets.py: no ```cpp blocks in " + ", ".join(pages), file=sys.stderr)
        return 1
    header = "// generated from " + ", ".join(os.path.basename(p) for p in pages)
    content = header + " by tools/readme_snippets.py: do not edit\n" + "".join(includes) + "\n"
    content += "".join(bodies)
    try:
        if open(output, encoding="utf-8").read() == content:
            return 0  # unchanged: keep the timestamp so the build does not recompile
    except OSError:
        pass
    with open(output, "w", encoding="utf-8") as f:
        f.write(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
