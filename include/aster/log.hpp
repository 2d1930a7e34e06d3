// SPDX-License-Identifier: MIT
// Minimal levelled logging with a replaceable sink; the server and the connection report through it.
#ifndef ASTER_LOG_HPP
#define ASTER_LOG_HPP

#include <aster/detail/config.hpp>

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace aster {

enum class log_level { debug = 0, info = 1, warning = 2, error = 3, off = 4 };

/// Process-wide log settings. Set them before serving; they are read without locks.
/// @code
/// aster::logger().level = aster::log_level::warning;
/// aster::logger().sink = [](aster::log_level, std::string_view line) { my_log(line); };
/// @endcode
struct log_config {
    log_level level = log_level::info;
    std::function<void(log_level, std::string_view)> sink; // empty: one line to stderr
    // One info line per HTTP request, as uvicorn writes them:
    // `127.0.0.1:50312 - "GET /hello HTTP/1.1" 200 13 0.1ms`. Off, it costs one branch.
    bool access_log = false;
};

inline log_config& logger() noexcept {
    static log_config config;
    return config;
}

inline bool log_enabled(log_level level) noexcept {
    return level >= logger().level && logger().level != log_level::off;
}

inline void log(log_level level, std::string_view line) {
    if (!log_enabled(level)) return;
    auto& config = logger();
    if (config.sink) {
        config.sink(level, line);
        return;
    }
    static constexpr const char* names[] = {"DEBUG", "INFO", "WARNING", "ERROR", ""};
    std::fprintf(stderr, "%s: %.*s\n", names[int(level)], int(line.size()), line.data());
}

} // namespace aster

#endif // ASTER_LOG_HPP
