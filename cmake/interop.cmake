# SPDX-License-Identifier: MIT
# Interop tests: the built examples against clients aster shares no code with, over 127.0.0.1.
#   interop.websockets_python  examples/echo driven by Python's websockets library
#   interop.metrics_prometheus examples/echo's /metrics read by Prometheus' Python parser
#   interop.chat_browser       examples/chat in two chromium pages driven by playwright-core
# With the Redis broker built (-DASTER_REDIS=ON), two chat processes sharing a redis-server that
# the test starts and stops itself:
#   interop.chat_redis_python  rooms across the processes, and through a Redis outage and restart,
#                              driven by Python's websockets
#   interop.chat_browser_redis the two chromium pages, each on a different process
# Included from the top-level CMakeLists.txt once the examples are defined. A missing tool makes
# the test fail and say what to install (./tools/install_deps.sh); it is never skipped.

if(NOT ASTER_BUILD_TESTS OR NOT TARGET echo OR NOT TARGET chat)
    return()
endif()

# Debian's interpreter: python3-websockets installs there, not into other Pythons on PATH.
set(ASTER_INTEROP_PYTHON "/usr/bin/python3" CACHE FILEPATH
    "Python 3 with the websockets library (Debian: python3-websockets)")
find_program(ASTER_NODE node DOC "Node.js for the browser interop test (Debian: nodejs)")
# Shared by every build tree, so playwright-core is downloaded once (tools/node_deps.sh).
set(ASTER_NODE_DIR "${PROJECT_SOURCE_DIR}/build/node" CACHE PATH
    "Where tools/node_deps.sh installs the interop tests' npm packages")

set(_aster_interop "${PROJECT_SOURCE_DIR}/tests/interop")

if(EXISTS "${ASTER_INTEROP_PYTHON}")
    add_test(NAME interop.websockets_python
             COMMAND "${ASTER_INTEROP_PYTHON}" "${_aster_interop}/websockets_client.py"
                     $<TARGET_FILE:echo>)
else()
    set(_why "${ASTER_INTEROP_PYTHON} is missing: install python3-websockets (tools/install_deps.sh)")
    add_test(NAME interop.websockets_python
             COMMAND "${Python3_EXECUTABLE}" -c "import sys; sys.exit('${_why}')")
endif()

if(EXISTS "${ASTER_INTEROP_PYTHON}")
    add_test(NAME interop.metrics_prometheus
             COMMAND "${ASTER_INTEROP_PYTHON}" "${_aster_interop}/metrics_prometheus.py"
                     $<TARGET_FILE:echo>)
else()
    set(_why "${ASTER_INTEROP_PYTHON} is missing: install python3-prometheus-client (tools/install_deps.sh)")
    add_test(NAME interop.metrics_prometheus
             COMMAND "${Python3_EXECUTABLE}" -c "import sys; sys.exit('${_why}')")
endif()

if(ASTER_NODE)
    add_test(NAME interop.chat_browser
             COMMAND "${ASTER_NODE}" "${_aster_interop}/chat_browser.mjs" $<TARGET_FILE:chat>
                     "${ASTER_NODE_DIR}")
else()
    set(_why "node is missing: install nodejs, npm and chromium (./tools/install_deps.sh)")
    add_test(NAME interop.chat_browser
             COMMAND "${Python3_EXECUTABLE}" -c "import sys; sys.exit('${_why}')")
endif()

set_tests_properties(interop.websockets_python interop.metrics_prometheus interop.chat_browser PROPERTIES
    TIMEOUT 120
    LABELS interop)

if(NOT ASTER_WITH_REDIS)
    return()
endif()

# The tests start redis-server from PATH; looked for here so that its absence is reported.
find_program(ASTER_REDIS_SERVER redis-server
             DOC "Redis server for the chat tests across processes (Debian: redis-server)")
if(NOT ASTER_REDIS_SERVER)
    set(_why "redis-server is missing: install redis-server (./tools/install_deps.sh)")
    add_test(NAME interop.chat_redis_python
             COMMAND "${Python3_EXECUTABLE}" -c "import sys; sys.exit('${_why}')")
    add_test(NAME interop.chat_browser_redis
             COMMAND "${Python3_EXECUTABLE}" -c "import sys; sys.exit('${_why}')")
else()
    if(EXISTS "${ASTER_INTEROP_PYTHON}")
        add_test(NAME interop.chat_redis_python
                 COMMAND "${ASTER_INTEROP_PYTHON}" "${_aster_interop}/chat_redis.py"
                         $<TARGET_FILE:chat>)
    else()
        set(_why "${ASTER_INTEROP_PYTHON} is missing: install python3-websockets (tools/install_deps.sh)")
        add_test(NAME interop.chat_redis_python
                 COMMAND "${Python3_EXECUTABLE}" -c "import sys; sys.exit('${_why}')")
    endif()
    if(ASTER_NODE)
        add_test(NAME interop.chat_browser_redis
                 COMMAND "${ASTER_NODE}" "${_aster_interop}/chat_browser.mjs" --redis
                         $<TARGET_FILE:chat> "${ASTER_NODE_DIR}")
    else()
        set(_why "node is missing: install nodejs, npm and chromium (./tools/install_deps.sh)")
        add_test(NAME interop.chat_browser_redis
                 COMMAND "${Python3_EXECUTABLE}" -c "import sys; sys.exit('${_why}')")
    endif()
endif()

set_tests_properties(interop.chat_redis_python interop.chat_browser_redis PROPERTIES
    TIMEOUT 120
    LABELS interop)
