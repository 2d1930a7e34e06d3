// SPDX-License-Identifier: MIT
// A deadline on a stream's reads: moving it is a store, the one timer re-arms itself lazily.
#ifndef ASTER_DETAIL_READ_DEADLINE_HPP
#define ASTER_DETAIL_READ_DEADLINE_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/stream.hpp>

#include <chrono>
#include <memory>

namespace aster::detail {

/// Cancels the stream's pending operations once the deadline passes. Setting a new deadline per
/// request costs a clock read; the timer is re-armed only when it fires or must fire earlier.
template <async_stream Stream>
class read_deadline {
public:
    using clock = std::chrono::steady_clock;

    explicit read_deadline(Stream& stream) : state_(std::make_shared<state>(stream)) {}
    read_deadline(const read_deadline&) = delete;
    read_deadline& operator=(const read_deadline&) = delete;
    ~read_deadline() {
        state_->stream = nullptr; // the handler may still run; it must not touch the stream
        state_->timer.cancel();
    }

    void expires_after(clock::duration d) {
        state_->expired = false;
        state_->deadline = clock::now() + d;
        if (state_->waiting && state_->deadline < state_->timer.expiry()) state_->timer.cancel();
        arm(state_);
    }
    void expires_at(clock::time_point t) {
        state_->expired = false;
        state_->deadline = t;
        if (state_->waiting && state_->deadline < state_->timer.expiry()) state_->timer.cancel();
        arm(state_);
    }
    /// No deadline while a handler runs: a slow handler is not a slow client.
    void clear() noexcept { state_->deadline = clock::time_point::max(); }
    bool expired() const noexcept { return state_->expired; }

private:
    struct state {
        explicit state(Stream& s) : timer(s.get_executor()), stream(&s) {}
        net::steady_timer timer;
        Stream* stream;
        clock::time_point deadline = clock::time_point::max();
        bool waiting = false, expired = false;
    };

    static void arm(const std::shared_ptr<state>& s) {
        if (s->waiting || s->deadline == clock::time_point::max()) return;
        s->waiting = true;
        s->timer.expires_at(s->deadline);
        s->timer.async_wait([s](std::error_code) {
            s->waiting = false;
            if (!s->stream || s->deadline == clock::time_point::max()) return;
            if (clock::now() >= s->deadline) {
                s->expired = true;
                cancel_stream(*s->stream);
            } else {
                arm(s); // the deadline moved while we slept
            }
        });
    }

    std::shared_ptr<state> state_;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_READ_DEADLINE_HPP
