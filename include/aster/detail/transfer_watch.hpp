// SPDX-License-Identifier: MIT
// transfer_watch: bytes one direction of a connection moved, checked against a minimum rate.
#ifndef ASTER_DETAIL_TRANSFER_WATCH_HPP
#define ASTER_DETAIL_TRANSFER_WATCH_HPP

#include <aster/detail/config.hpp>
#include <aster/options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>

namespace aster::detail {

/// The connection's I/O adds the bytes it moves (a plain add on the hot path); the loop's
/// watchdog asks, about once a second, whether a transfer in progress fell short of its
/// minimum over a whole window (see aster::transfer_rate).
class transfer_watch {
public:
    using clock = std::chrono::steady_clock;

    void add(std::size_t n) noexcept { total_ += n; }
    /// Takes back bytes that were no progress (control frames inside a WebSocket message).
    void take_back(std::size_t n) noexcept { total_ -= n; }

    /// `active`: a transfer is under way now. True once it has moved less than `rate` asks
    /// over a whole window; a window that met its share starts the next one.
    bool too_slow(bool active, clock::time_point now, const transfer_rate& rate) noexcept {
        if (!active || rate.bytes_per_second == 0 || rate.window.count() <= 0) {
            started_ = {};
            return false;
        }
        if (started_ == clock::time_point{}) {
            started_ = now;
            at_start_ = total_;
            return false;
        }
        if (now - started_ < rate.window) return false;
        const auto moved = std::int64_t(total_ - at_start_); // may dip below 0 (take_back)
        const auto share = std::int64_t(rate.bytes_per_second) * rate.window.count() / 1000;
        if (moved < share) return true;
        started_ = now;
        at_start_ = total_;
        return false;
    }

private:
    std::uint64_t total_ = 0, at_start_ = 0;
    clock::time_point started_{};
};

/// An async_write completion condition that counts what each write moved into a watch; it
/// writes as transfer_all does.
struct count_progress {
    transfer_watch* watch;
    std::size_t counted = 0;
    std::size_t operator()(const std::error_code& ec, std::size_t transferred) noexcept {
        watch->add(transferred - counted);
        counted = transferred;
        return ec ? 0 : 64 * 1024;
    }
};

} // namespace aster::detail

#endif // ASTER_DETAIL_TRANSFER_WATCH_HPP
