// SPDX-License-Identifier: MIT
// ws_session's watchers: the keep-alive pinger and the transfer-rate watchdog's check.
#ifndef ASTER_DETAIL_IMPL_WS_KEEPALIVE_HPP
#define ASTER_DETAIL_IMPL_WS_KEEPALIVE_HPP

namespace aster::detail {

template <async_stream Stream>
void ws_session<Stream>::watch(std::chrono::steady_clock::time_point now) noexcept {
    if (state_ != websocket_state::connected) return; // a closing one has close_timeout
    if (sent_.too_slow(writing_, now, options_.min_send_rate))
        give_up(close_code::policy_violation,
                "send rate too low"); // §7.4.1: a policy the peer broke
    else if (received_.too_slow(receiving_, now, options_.min_receive_rate))
        give_up(close_code::policy_violation, "receive rate too low");
}

template <async_stream Stream>
task<> ws_session<Stream>::keep_alive() {
    net::steady_timer timer(stream_.get_executor());
    while (!stop_pinging_ && state_ == websocket_state::connected) {
        timer.expires_after(awaiting_pong_ ? options_.ping_timeout : options_.ping_interval);
        ping_timer_ = &timer;
        (void)co_await timer.async_wait(use_tuple); // cancelled means: look again
        ping_timer_ = nullptr;
        if (stop_pinging_ || state_ != websocket_state::connected) break;
        if (awaiting_pong_) {
            give_up(close_code::internal_error,
                    "keepalive ping timeout"); // the peer is gone or stuck
            break;
        }
        queue_frame(opcode::ping, "aster");
        awaiting_pong_ = true;
    }
    pinging_ = false;
    notify_writes();
}

template <async_stream Stream>
void ws_session<Stream>::stop_keep_alive() {
    stop_pinging_ = true;
    if (ping_timer_) ping_timer_->cancel();
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_KEEPALIVE_HPP
