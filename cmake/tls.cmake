# SPDX-License-Identifier: MIT
# TLS (https, wss) when OpenSSL is found. Without it everything else builds, and the TLS tests are
# registered as skipped with the reason, so they never pass silently.
#   aster::tls       aster::aster plus OpenSSL and ASTER_HAS_TLS. Opt-in: serving TLS costs every
#                    file that compiles the engine OpenSSL's headers and a second instantiation.
#   aster::compiled  the engine compiled once; it takes TLS whenever OpenSSL is found, so every
#                    example serves https and wss with --tls-cert FILE --tls-key FILE.
#   tests            the [tls] cases of aster_tests (tests/tls.cpp) and interop.wss_python
#                    (examples/echo over wss, driven by Python's websockets).
# Included from the top-level CMakeLists.txt after the examples, whose targets it extends.
# -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON builds without TLS even where OpenSSL is installed.

find_package(OpenSSL 1.1.1 QUIET) # 1.1.1: TLS 1.3 and SSL_CTX_set_min_proto_version

if(OpenSSL_FOUND)
    add_library(aster_tls INTERFACE)
    add_library(aster::tls ALIAS aster_tls)
    target_link_libraries(aster_tls INTERFACE aster::aster OpenSSL::SSL OpenSSL::Crypto)
    target_compile_definitions(aster_tls INTERFACE ASTER_HAS_TLS)
    if(TARGET aster_compiled)
        target_link_libraries(aster_compiled PUBLIC aster_tls)
    endif()
    if(TARGET aster_tests)
        target_link_libraries(aster_tests PRIVATE aster_tls)
    endif()
    if(TARGET aster_header_check) # the TLS connection's template warning-free too
        target_link_libraries(aster_header_check PRIVATE aster_tls)
    endif()
    message(STATUS "aster: TLS with OpenSSL ${OPENSSL_VERSION}")
else()
    message(STATUS "aster: OpenSSL not found: no TLS (install libssl-dev); its tests are skipped")
endif()

if(NOT ASTER_BUILD_TESTS)
    return()
endif()

# Debian's interpreter: python3-websockets installs there, not into other Pythons on PATH.
set(ASTER_INTEROP_PYTHON "/usr/bin/python3" CACHE FILEPATH
    "Python 3 with the websockets library (Debian: python3-websockets)")

if(OpenSSL_FOUND)
    if(TARGET echo)
        if(EXISTS "${ASTER_INTEROP_PYTHON}")
            add_test(NAME interop.wss_python
                     COMMAND "${ASTER_INTEROP_PYTHON}"
                             "${PROJECT_SOURCE_DIR}/tests/interop/wss_python.py"
                             $<TARGET_FILE:echo>)
        else()
            set(_why "${ASTER_INTEROP_PYTHON} is missing: install python3-websockets")
            add_test(NAME interop.wss_python
                     COMMAND "${Python3_EXECUTABLE}" -c "import sys; sys.exit('${_why}')")
        endif()
        set_tests_properties(interop.wss_python PROPERTIES TIMEOUT 120 LABELS "interop;tls")
    endif()
else()
    # Exit status 77 is reported as skipped, with the reason in the test's output.
    set(_why "not built: OpenSSL was not found (install libssl-dev and reconfigure)")
    foreach(_name IN ITEMS tls.unit_tests interop.wss_python)
        add_test(NAME ${_name}
                 COMMAND "${Python3_EXECUTABLE}" -c "import sys; print('${_why}'); sys.exit(77)")
        set_tests_properties(${_name} PROPERTIES SKIP_RETURN_CODE 77 LABELS tls)
    endforeach()
endif()
