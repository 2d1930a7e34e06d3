// SPDX-License-Identifier: MIT
// A broadcast wake-up for coroutines on one executor, built on a timer that never expires.
#ifndef ASTER_DETAIL_ASYNC_EVENT_HPP
#define ASTER_DETAIL_ASYNC_EVENT_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>

namespace aster::detail {

/// `while (!ready) co_await event.wait();` on one side, `event.notify_all()` on the other.
/// Single-threaded by design: both sides run on the same executor.
class async_event {
public:
    template <class Executor>
    explicit async_event(const Executor& ex) : timer_(ex) {
        timer_.expires_at(net::steady_timer::time_point::max());
    }

    // The expiry is set once: setting it again would cancel the other waiters, and two
    // coroutines waiting at once (a sender and the reader) would wake each other for ever.
    // cancel() leaves the expiry alone, so a later wait waits again.
    task<> wait() {
        auto [ec] = co_await timer_.async_wait(use_tuple);
        (void)ec; // cancelled is the wake-up
    }
    void notify_all() noexcept { timer_.cancel(); }

private:
    net::steady_timer timer_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_ASYNC_EVENT_HPP
