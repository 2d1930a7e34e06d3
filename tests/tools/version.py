#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The version is said in include/aster/version.hpp; the build that runs this passes its own
project version, and meson.build and CMakeLists.txt must agree with the header too.

Usage: version.py BUILD_VERSION
"""
import os
import re
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
header = open(os.path.join(root, "include", "aster", "version.hpp"), encoding="utf-8").read()
parts = {k: re.search(rf"#define ASTER_VERSION_{k} (\d+)", header).group(1)
         for k in ("MAJOR", "MINOR", "PATCH")}
string = re.search(r'#define ASTER_VERSION_STRING "([^"]+)"', header).group(1)
version = f"{parts['MAJOR']}.{parts['MINOR']}.{parts['PATCH']}"
meson = re.search(r"project\('aster'.*?version: '([^']+)'", open(os.path.join(root, "meson.build")).read(), re.S)
problems = []
if string != version:
    problems.append(f"version.hpp: ASTER_VERSION_STRING {string} but the parts say {version}")
if not meson or meson.group(1) != version:
    problems.append(f"meson.build says {meson.group(1) if meson else '(none)'}, version.hpp {version}")
if len(sys.argv) > 1 and sys.argv[1] != version:
    problems.append(f"the build's project version is {sys.argv[1]}, version.hpp says {version}")
for p in problems:
    print("version: " + p)
if not problems:
    print(f"version: {version} everywhere")
sys.exit(1 if problems else 0)
