// SPDX-License-Identifier: MIT
// Minimal levelled logging with a replaceable sink; the server and the connection report through
// it.
#ifndef ASTER_LOG_HPP
#define ASTER_LOG_HPP

#include <aster/detail/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
    // `127.0.0.1:50312 - "GET /hello HTTP/1.1" 200 13 0.1ms`, everywhere, test_client's requests
    // included (a server also has its own switch, server_config::access_log, on by default).
    // Off, it costs one branch.
    bool access_log = false;
    // The default sink starts each line with the UTC time, `2026-12-07T15:47:59.123Z`.
    bool timestamps = false;
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
    char stamp[32] = "";
    if (config.timestamps) {
        const auto now = std::chrono::system_clock::now();
        const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
        const auto millis =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
            1000;
        std::tm parts{};
        gmtime_r(&seconds, &parts);
        std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &parts);
        std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ ", int(millis));
    }
    std::fprintf(stderr, "%s%s: %.*s\n", stamp, names[int(level)], int(line.size()), line.data());
}

/// Logs `line`, but at most one line of its `kind` (a string literal naming the call site) per
/// second: a line a client can provoke at will (a failing handler, a download it drops) cannot
/// flood the log. The next line logged after some were dropped says how many. Thread-safe.
/// @code
/// aster::log_limited(aster::log_level::error, "report export", "export failed: " + why);
/// @endcode
namespace detail {

// The seconds and counts log_limited keeps per kind; reset() forgets them (for tests that
// check what one request logs).
class log_limits {
public:
    static log_limits& instance() {
        static log_limits limits;
        return limits;
    }
    // True when a line of `kind` may go out now; `dropped` then says how many did not.
    bool admit(const char* kind, std::size_t& dropped) {
        const std::time_t now = std::time(nullptr);
        std::lock_guard lock(mutex_);
        auto it = std::find_if(kinds_.begin(), kinds_.end(),
                               [&](const entry& e) { return e.kind == kind; });
        if (it == kinds_.end()) {
            kinds_.push_back({kind, now, 0});
            return true;
        }
        if (it->second == now) {
            ++it->dropped;
            return false;
        }
        dropped = std::exchange(it->dropped, 0);
        it->second = now;
        return true;
    }
    void reset() {
        std::lock_guard lock(mutex_);
        kinds_.clear();
    }

private:
    struct entry {
        const char* kind;
        std::time_t second;
        std::size_t dropped;
    };
    std::mutex mutex_;
    std::vector<entry> kinds_;
};

} // namespace detail

inline void log_limited(log_level level, const char* kind, std::string_view line) {
    if (!log_enabled(level)) return;
    std::size_t dropped = 0;
    if (!detail::log_limits::instance().admit(kind, dropped)) return;
    if (dropped == 0) return log(level, line);
    log(level, std::string(line) + " (" + std::to_string(dropped) +
                   " more like it in the last second(s) not logged)");
}

} // namespace aster

#endif // ASTER_LOG_HPP
