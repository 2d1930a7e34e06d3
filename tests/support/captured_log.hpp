// SPDX-License-Identifier: MIT
// Test helper: collects aster's log lines (servers log from their own threads) while in scope.
#ifndef ASTER_TESTS_SUPPORT_CAPTURED_LOG_HPP
#define ASTER_TESTS_SUPPORT_CAPTURED_LOG_HPP

#include <aster/log.hpp>

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace test_support {

struct captured_log {
    explicit captured_log(aster::log_level level = aster::log_level::debug) {
        saved_level = aster::logger().level;
        aster::logger().level = level;
        aster::detail::log_limits::instance().reset(); // what earlier tests logged is no concern
        aster::logger().sink = [this](aster::log_level, std::string_view line) {
            std::lock_guard lock(mutex);
            lines.emplace_back(line);
        };
    }
    ~captured_log() {
        aster::logger().sink = nullptr;
        aster::logger().level = saved_level;
    }
    captured_log(const captured_log&) = delete;
    captured_log& operator=(const captured_log&) = delete;

    /// Lines containing `text`.
    std::size_t count(std::string_view text) {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const auto& l : lines)
            if (l.find(text) != std::string::npos) ++n;
        return n;
    }
    bool contains(std::string_view text) { return count(text) > 0; }
    std::size_t size() {
        std::lock_guard lock(mutex);
        return lines.size();
    }

    aster::log_level saved_level;
    std::mutex mutex;
    std::vector<std::string> lines;
};

} // namespace test_support

#endif // ASTER_TESTS_SUPPORT_CAPTURED_LOG_HPP
