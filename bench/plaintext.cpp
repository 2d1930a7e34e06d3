// SPDX-License-Identifier: MIT
// The TechEmpower plaintext test on aster: GET /plaintext answers "Hello, World!" as text/plain.
// ./plaintext [--metrics] [--host 127.0.0.1] [--port 8000]; one event loop, warnings and errors
// only. --metrics adds metrics_route<"/metrics">, so every request is counted
// (bench/metrics_ab.sh).
#include <aster/aster.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string_view>
#include <utility>

namespace {

aster::response plaintext(aster::request&) { return aster::plain_text("Hello, World!"); }

constexpr auto routes = aster::routes(aster::route<"/plaintext">(plaintext));
constexpr auto counted_routes = aster::routes(aster::route<"/plaintext">(plaintext),
                                              aster::metrics_route<"/metrics">());

} // namespace

int main(int argc, char** argv) {
    // An info line per start is harmless, but nothing may be logged per request while measuring.
    aster::logger().level = aster::log_level::warning;
    try {
        // As if run with --no-access-log: nothing is formatted per request while measuring.
        aster::server_config quiet;
        quiet.access_log = false;
        const bool metrics = argc > 1 && std::string_view(argv[1]) == "--metrics";
        if (metrics) {
            argv[1] = argv[0];
            ++argv;
            --argc;
        }
        auto config = aster::server_config::from_args(argc, argv, quiet);
        config.threads = 1; // the benchmark pins the server to one core
        // The idle-memory benchmark (bench/idle_run.sh) holds 10,000 kept-alive connections for
        // longer than the 5 s default idle timeout, and needs them all admitted.
        config.limits.keep_alive_timeout = std::chrono::minutes(10);
        config.max_connections = 100000;
        if (metrics) aster::application{counted_routes}.run(std::move(config));
        else aster::application{routes}.run(std::move(config));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "plaintext: %s\n", e.what());
        return 1;
    }
}
