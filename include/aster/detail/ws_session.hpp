// SPDX-License-Identifier: MIT
// One server-side WebSocket connection over any AsyncStream (RFC 6455): handshake reply, frames,
// message assembly, control frames, the close handshake and a coalescing send queue.
#ifndef ASTER_DETAIL_WS_SESSION_HPP
#define ASTER_DETAIL_WS_SESSION_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/app_ref.hpp>
#include <aster/detail/asio.hpp>
#include <aster/detail/async_event.hpp>
#include <aster/detail/stream.hpp>
#include <aster/detail/topic_hub.hpp> // the registry, and its bodies with the hub
#include <aster/detail/connection_registry.hpp>
#include <aster/detail/http_writer.hpp>
#include <aster/detail/input_window.hpp>
#include <aster/detail/message_buffer.hpp>
#include <aster/detail/metrics_registry.hpp>
#include <aster/detail/read_buffer.hpp>
#include <aster/detail/read_deadline.hpp>
#include <aster/detail/request_access.hpp>
#include <aster/detail/shared_frame_queue.hpp>
#include <aster/detail/transfer_watch.hpp>
#include <aster/detail/utf8.hpp>
#include <aster/detail/ws_deflate.hpp>
#include <aster/detail/ws_frame.hpp>
#include <aster/detail/ws_handshake.hpp>
#include <aster/detail/ws_reader.hpp>
#include <aster/error.hpp>
#include <aster/log.hpp>
#include <aster/options.hpp>
#include <aster/websocket.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace aster::detail {

/// A session's topics, made on its first subscribe: the names, and the shared frames queued.
struct ws_topic_state {
    std::vector<std::string> subscriptions;
    shared_frame_queue queue;
};

template <async_stream Stream>
class ws_session final : public websocket_transport, public closable, public topic_subscriber {
public:
    ws_session(Stream& stream, request& upgrade, const websocket_options& options,
               std::string_view already_read, std::exception_ptr* exception_sink,
               loop_counters* counters = nullptr, memory_budget* budget = nullptr);
    ~ws_session();
    ws_session(const ws_session&) = delete;
    ws_session& operator=(const ws_session&) = delete;

    /// Runs the route's handler on this connection and completes the close handshake.
    task<> run(const app_ref& app, std::size_t route_index);

    task<> accept(std::string_view subprotocol, const header_list& headers) override;
    task<> deny(response r) override;
    task<websocket_message> receive() override;
    task<> send(bool text, std::string_view payload) override;
    task<> close(std::uint16_t code, std::string_view reason) override;
    websocket_state state() const noexcept override { return state_; }
    bool accepted() const noexcept override { return accepted_; }
    std::uint16_t close_code() const noexcept override { return code(close_code_); }
    void report(std::exception_ptr error) override;
    void subscribe(std::string_view topic, std::optional<backpressure> policy) override;
    void unsubscribe(std::string_view topic) override;
    std::span<const std::string> subscriptions() const noexcept override;
    task<> publish(std::string_view topic, std::string_view message,
                   const publish_options& options) override;
    aster::topics topics() noexcept override;
    delivery deliver(const shared_frame& frame, backpressure policy) override;
    bool has_room_for(std::size_t bytes) const noexcept override;
    /// Graceful stop: close with 1001; the handler's receive then reports 1001.
    void begin_shutdown() override;
    void abort() noexcept override { close_stream(stream_); }
    /// A message arriving, or the send queue draining, slower than websocket_options' rates:
    /// closed with 1008.
    void watch(std::chrono::steady_clock::time_point now) noexcept override;
    /// Writes one access-log line when the session ends: the client, the path, the handshake's
    /// status, the close code, how long it lasted and the messages each way.
    void log_session(const client_address* client) {
        log_client_ = client;
        opened_ = std::chrono::steady_clock::now();
    }
    /// Counts the session, its messages and its close code in `metrics` when it ends.
    void count_in(loop_metrics* metrics) noexcept { metrics_ = metrics; }
    /// Subscribes and publishes through `topics`, its loop's registry; may be null.
    void join_topics(topic_registry* topics) noexcept { topics_ = topics; }

private:
    void prepare_read();
    task<bool> read_more();
    task<bool> read_frame_bytes();
    void begin_close(aster::close_code code, std::string_view reason, bool send_reason = true);
    void give_up(aster::close_code code, std::string_view reason);
    void queue_frame(opcode op, std::string_view payload, bool rsv1 = false);
    void queue_message(opcode op, std::string_view payload);
    void queue_close(aster::close_code code, std::string_view reason);
    task<> writes_changed();
    void notify_writes() noexcept {
        if (writes_changed_) writes_changed_->notify_all();
    }
    void deny_now(response& r);
    void finish_handler(std::exception_ptr error);
    task<> close_down();
    void schedule_flush();
    void write_now();
    websocket_message hand_out(bool text, std::string_view data) noexcept;
    std::size_t queued() const noexcept {
        return pending_.size() + inflight_.size() + (topic_ ? topic_->queue.bytes() : 0);
    }
    bool shared_pending() const noexcept { return topic_ && topic_->queue.has_pending(); }
    bool has_unsent() const noexcept { return !pending_.empty() || shared_pending(); }
    void drop_unsent() noexcept {
        pending_.clear();
        if (topic_) topic_->queue.clear();
    }
    void leave_topics() noexcept;
    void close_slow_subscriber();
    void account() noexcept;
    void start_write();
    task<> drain_writes();
    task<> await_peer_close();
    task<> keep_alive();
    void stop_keep_alive();
    [[noreturn]] void throw_closed(std::string_view operation) const;

    Stream& stream_;
    request& request_;
    const websocket_options& options_;
    std::exception_ptr* exception_sink_;
    std::vector<std::string_view> offered_;

    input_window in_; // its buffer held only while a frame is being read or handled
    std::array<unsigned char, 64> scratch_;
    ws_reader reader_{{.from_client = true, .max_message_bytes = options_.max_message_bytes}};

    std::string pending_, inflight_; // queued frames; frames being written
    bool writing_ = false, flush_scheduled_ = false, write_failed_ = false;
    // Set when receive hands out the last whole message of what was read: the answer to it
    // (with everything queued before) is written at once, without a post or an async write.
    bool answer_now_ = false;
    bool read_after_yield_ = false;    // write_now sent an answer: see receive()
    std::uint32_t batch_messages_ = 0; // handed out since the last read
    // Made on the first wait (backpressure, the close): an idle connection holds no timer.
    std::unique_ptr<async_event> writes_changed_;
    loop_counters* counters_;
    std::size_t accounted_ = 0; // queued() as counters_->buffered_bytes last heard it

    websocket_state state_ = websocket_state::connecting;
    bool accepted_ = false, sent_close_ = false, received_close_ = false, connection_lost_ = false;
    aster::close_code close_code_ = aster::close_code::abnormal_closure;
    // Keep-alive pings (websocket_options::ping_interval).
    net::steady_timer* ping_timer_ = nullptr;
    bool pinging_ = false, stop_pinging_ = false, awaiting_pong_ = false;
    bool gave_up_ = false; // the pinger or the watchdog ended it (give_up)
    std::unique_ptr<read_deadline<Stream>> closing_deadline_; // a graceful stop's close_timeout
    // The access log's line (log_session): null when off.
    const client_address* log_client_ = nullptr;
    loop_metrics* metrics_ = nullptr;
    std::chrono::steady_clock::time_point opened_{};
    std::uint64_t messages_in_ = 0, messages_out_ = 0;
    std::uint16_t handshake_status_ = 0;
    void log_end() const;
    // The pace of a message being received and of the send queue being written (watch()).
    transfer_watch received_, sent_;
    bool receiving_ = false;
    std::string close_reason_;
    // Topics, last: the per-message fields above keep their places (and cache lines).
    topic_registry* topics_ = nullptr;
    std::unique_ptr<ws_topic_state> topic_; // none until the first subscribe
#ifdef ASTER_HAS_ZLIB
    // Set by accept() when permessage-deflate is agreed; zlib's state inside comes on first use.
    std::unique_ptr<deflate_codec> deflate_;
    message_buffer deflated_; // a compressed message being framed
#endif
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
#include <aster/detail/impl/ws_session.hpp>
#include <aster/detail/impl/ws_send.hpp>
#include <aster/detail/impl/ws_close.hpp>
#include <aster/detail/impl/ws_keepalive.hpp>
#include <aster/detail/impl/ws_topics.hpp>
#endif

#endif // ASTER_DETAIL_WS_SESSION_HPP
