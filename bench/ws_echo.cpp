// SPDX-License-Identifier: MIT
// aster's side of the WebSocket benchmark: the echo example's app (/ws echoes text as text and
// binary as binary), served by one event loop with warnings and errors only.
// ./ws_echo [--host 127.0.0.1] [--port 8000]
#include "../examples/echo/app.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <utility>

int main(int argc, char** argv) {
    aster::logger().level = aster::log_level::warning; // nothing logged per connection
    try {
        // As if run with --no-access-log: nothing is formatted per request while measuring.
        aster::server_config quiet;
        quiet.access_log = false;
        auto config = aster::server_config::from_args(argc, argv, quiet);
        config.threads = 1; // the benchmark pins the server to one core
        // The idle-memory benchmark holds 10,000 connections open: allow them all, with headroom.
        config.max_connections = 100000;
        echo::app.run(std::move(config));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ws_echo: %s\n", e.what());
        return 1;
    }
}
