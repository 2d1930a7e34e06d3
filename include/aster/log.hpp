// SPDX-License-Identifier: MIT
// Minimal levelled logging with a replaceable sink; the server and the connection report through it.
#ifndef ASTER_LOG_HPP
#define ASTER_LOG_HPP

#include <aster/detail/config.hpp>

#include <algorithm>
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
