# SPDX-License-Identifier: MIT
# Installed by meson.build as aster-config-version.cmake. meson's cmake module writes CMake's own
# version check (SameMinorVersion) as asterConfigVersion.cmake, but find_package reads the version
# file named after the config file, aster-config.cmake; this passes it on.
include("${CMAKE_CURRENT_LIST_DIR}/asterConfigVersion.cmake")
