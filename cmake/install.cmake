# SPDX-License-Identifier: MIT
# `cmake --install`: what another project needs to use aster, in the layout meson.build installs
# too (both builds configure cmake/aster-config.cmake.in and cmake/aster.pc.in, so they agree):
#   include/aster/**                 the headers; include/aster.hpp, the single header
#   include/aster/llhttp/llhttp.h    with lib/libaster_llhttp.a, when llhttp is compiled from its
#                                    C sources (an llhttp found installed is used from there)
#   lib/libaster_compiled.a          the engine compiled once (aster::compiled)
#   lib/cmake/aster/                 aster-config.cmake, aster-config-version.cmake
#   lib/pkgconfig/                   aster.pc, aster-compiled.pc, aster-tls.pc (with TLS)
# Both files are relocatable: they find the prefix from where they are installed.
# Included from the top-level CMakeLists.txt after cmake/tls.cmake, whose OpenSSL result it uses.

if(NOT ASTER_INSTALL)
    if(ASTER_BUILD_TESTS)
        # Exit status 77 is reported as skipped, with the reason in the test's output.
        add_test(NAME package COMMAND "${Python3_EXECUTABLE}" -c
                 "import sys; print('not run: ASTER_INSTALL is OFF'); sys.exit(77)")
        set_tests_properties(package PROPERTIES SKIP_RETURN_CODE 77 LABELS package)
    endif()
    return()
endif()

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The template's values, named as meson.build names them.
set(ASTER_VERSION "${PROJECT_VERSION}")
set(ASTER_ASIO_HINT "${ASTER_ASIO_INCLUDE_DIR}")
# ASTER_WITH_ZLIB: set by CMakeLists.txt from the ASTER_ZLIB option.
if(OpenSSL_FOUND)
    set(ASTER_WITH_TLS TRUE)
else()
    set(ASTER_WITH_TLS FALSE)
endif()
set(ASTER_STATIC_PREFIX "${CMAKE_STATIC_LIBRARY_PREFIX}")
set(ASTER_STATIC_SUFFIX "${CMAKE_STATIC_LIBRARY_SUFFIX}")
# ASTER_LLHTTP_MODE, ASTER_LLHTTP_PACKAGE_TARGET, ASTER_LLHTTP_LIBRARY and ASTER_LLHTTP_INCLUDE_DIR
# come from the llhttp section of CMakeLists.txt.
set(ASTER_LLHTTP_LIBRARY_HINT "")
if(ASTER_LLHTTP_LIBRARY)
    get_filename_component(ASTER_LLHTTP_LIBRARY_HINT "${ASTER_LLHTTP_LIBRARY}" DIRECTORY)
endif()
set(ASTER_LLHTTP_INCLUDE_HINT "${ASTER_LLHTTP_INCLUDE_DIR}")

# "../.." from lib/pkgconfig, "../../.." from lib/cmake/aster (one more per part of a deeper libdir).
function(aster_path_to_prefix from out)
    if(IS_ABSOLUTE "${from}")
        file(RELATIVE_PATH _rel "${from}" "${CMAKE_INSTALL_PREFIX}")
    else()
        file(RELATIVE_PATH _rel "/prefix/${from}" "/prefix")
    endif()
    string(REGEX REPLACE "/$" "" _rel "${_rel}")
    set(${out} "${_rel}" PARENT_SCOPE)
endfunction()
aster_path_to_prefix("${CMAKE_INSTALL_LIBDIR}/cmake/aster" ASTER_CONFIG_TO_PREFIX)
aster_path_to_prefix("${CMAKE_INSTALL_LIBDIR}/pkgconfig" ASTER_PC_TO_PREFIX)
# The directories as each file spells them: under its prefix, or absolute if configured so.
foreach(_kind IN ITEMS INCLUDEDIR LIBDIR)
    set(_dir "${CMAKE_INSTALL_${_kind}}")
    if(IS_ABSOLUTE "${_dir}")
        set(ASTER_CONFIG_${_kind} "${_dir}")
        set(ASTER_PC_${_kind} "${_dir}")
    else()
        set(ASTER_CONFIG_${_kind} "\${_aster_prefix}/${_dir}")
        set(ASTER_PC_${_kind} "\${prefix}/${_dir}")
    endif()
endforeach()

# --- files -----------------------------------------------------------------------------------

install(DIRECTORY include/aster DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
if(EXISTS "${PROJECT_SOURCE_DIR}/single_include/aster.hpp")
    install(FILES single_include/aster.hpp single_include/aster_test.hpp
            DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
endif()
if(ASTER_LLHTTP_MODE STREQUAL "bundled")
    install(TARGETS aster_llhttp ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
    install(FILES "${ASTER_LLHTTP_INCLUDE_DIR}/llhttp.h"
            DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/aster/llhttp")
endif()
install(TARGETS aster_compiled ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")

# --- find_package(aster) ---------------------------------------------------------------------

configure_file(cmake/aster-config.cmake.in "${PROJECT_BINARY_DIR}/aster-config.cmake" @ONLY)
# 0.x: a new minor version may break the API, so only the same minor version is compatible.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/aster-config-version.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/aster-config.cmake"
              "${PROJECT_BINARY_DIR}/aster-config-version.cmake"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/aster")

# --- pkg-config ------------------------------------------------------------------------------

# Flags for aster.pc. The compiler's own directories are left out: naming them breaks #include_next.
set(_aster_cflags "-I\${includedir}")
set(_aster_libs "")
if(NOT ASTER_ASIO_INCLUDE_DIR IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
    string(APPEND _aster_cflags " -I${ASTER_ASIO_INCLUDE_DIR}")
endif()
if(ASTER_LLHTTP_MODE STREQUAL "bundled")
    string(APPEND _aster_cflags " -I\${includedir}/aster/llhttp")
    string(APPEND _aster_libs " -L\${libdir} -laster_llhttp")
else()
    foreach(_dir IN LISTS ASTER_LLHTTP_INCLUDE_DIR)
        if(_dir AND NOT _dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
            string(APPEND _aster_cflags " -I${_dir}")
        endif()
    endforeach()
    if(ASTER_LLHTTP_LIBRARY_HINT)
        string(APPEND _aster_libs " -L${ASTER_LLHTTP_LIBRARY_HINT}")
    endif()
    string(APPEND _aster_libs " -lllhttp")
endif()
string(APPEND _aster_cflags " -pthread")
string(APPEND _aster_libs " -pthread")
if(ASTER_WITH_ZLIB)
    string(APPEND _aster_cflags " -DASTER_HAS_ZLIB")
    string(APPEND _aster_libs " -lz")
endif()
if(ASTER_WITH_REDIS)
    string(APPEND _aster_cflags " -DASTER_HAS_REDIS")
    string(APPEND _aster_libs " -lhiredis")
endif()

# aster_pkg_config(NAME DESCRIPTION REQUIRES CFLAGS LIBS): one .pc file from the shared template.
function(aster_pkg_config name description requires cflags libs)
    set(ASTER_PC_NAME "${name}")
    set(ASTER_PC_DESCRIPTION "${description}")
    set(ASTER_PC_REQUIRES "${requires}")
    string(STRIP "${cflags}" ASTER_PC_CFLAGS)
    string(STRIP "${libs}" ASTER_PC_LIBS)
    configure_file("${PROJECT_SOURCE_DIR}/cmake/aster.pc.in" "${PROJECT_BINARY_DIR}/${name}.pc" @ONLY)
    install(FILES "${PROJECT_BINARY_DIR}/${name}.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endfunction()

aster_pkg_config(aster
    "Header-only C++20 coroutine HTTP/WebSocket micro-framework (compile with -std=c++20)"
    "" "${_aster_cflags}" "${_aster_libs}")
if(OpenSSL_FOUND)
    aster_pkg_config(aster-tls "aster with https and wss through OpenSSL"
        "aster = ${PROJECT_VERSION}, openssl >= 1.1.1" "-DASTER_HAS_TLS" "")
    set(_aster_engine_base aster-tls)
else()
    set(_aster_engine_base aster)
endif()
aster_pkg_config(aster-compiled "aster with its connection engine compiled once"
    "${_aster_engine_base} = ${PROJECT_VERSION}" "-DASTER_SEPARATE_COMPILATION"
    "-L\${libdir} -laster_compiled")

# --- the test --------------------------------------------------------------------------------

# cmake --install, then find_package, pkg-config, the single header and a meson subproject, each
# building and running tests/package/consumer (see check.sh). It compiles that program several
# times on both cores, so it takes both of ctest's slots. About 1 minute from cold on an idle
# machine, 10 s with ccache warm; the timeout leaves room for a loaded one.
if(ASTER_BUILD_TESTS)
    set(_aster_package_args --cmake "${CMAKE_COMMAND}" --cxx "${CMAKE_CXX_COMPILER}"
                            --cc "${CMAKE_C_COMPILER}")
    if(ASTER_LLHTTP_MODE STREQUAL "bundled")
        list(APPEND _aster_package_args --llhttp-sources "${ASTER_LLHTTP_SOURCE_DIR}"
                                        --llhttp-include "${ASTER_LLHTTP_INCLUDE_DIR}")
    else()
        if(ASTER_LLHTTP_INCLUDE_DIR)
            list(GET ASTER_LLHTTP_INCLUDE_DIR 0 _dir)
            list(APPEND _aster_package_args --llhttp-include "${_dir}")
        endif()
        if(ASTER_LLHTTP_LIBRARY)
            list(APPEND _aster_package_args --llhttp-library "${ASTER_LLHTTP_LIBRARY}")
        endif()
    endif()
    find_program(ASTER_BASH bash)
    add_test(NAME package
             COMMAND "${ASTER_BASH}" "${PROJECT_SOURCE_DIR}/tests/package/check.sh" cmake
                     "${PROJECT_BINARY_DIR}" ${_aster_package_args})
    set_tests_properties(package PROPERTIES TIMEOUT 480 PROCESSORS 2 LABELS package)
endif()
