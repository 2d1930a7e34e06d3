// SPDX-License-Identifier: MIT
// Template bodies of ws_session, and the handshake checks.
#ifndef ASTER_DETAIL_IMPL_WS_SESSION_HPP
#define ASTER_DETAIL_IMPL_WS_SESSION_HPP

#include <algorithm>

namespace aster::detail {

// Small messages fit; bigger frames grow the buffer, which shrinks back once drained (idle
// connections should cost little memory).
inline constexpr std::size_t keep_buffer_up_to = 16 * 1024;

template <async_stream Stream>
ws_session<Stream>::ws_session(Stream& stream, request& upgrade, const websocket_options& options,
                               std::string_view already_read, std::exception_ptr* exception_sink,
                               loop_counters* counters, memory_budget* budget)
    : stream_(stream), request_(upgrade), options_(options), exception_sink_(exception_sink),
      counters_(counters) {
    if (counters_) counters_->websockets.add();
    in_.buffer().count_in(counters_ ? &counters_->input_bytes : nullptr);
    in_.buffer().charge_to(budget);
    reader_.charge_to(budget, large_block_size);
    for (const auto& f : upgrade.headers())
        if (iequals(f.name, "sec-websocket-protocol"))
            for (auto p : split_header_tokens(f.value)) offered_.push_back(p);
    // Over the memory budget, the session ends at its first read, as when the pinger gives up.
    if (!in_.assign(already_read)) gave_up_ = true;
    make_non_blocking(stream_); // read_more reads what is there, else waits
}

template <async_stream Stream>
ws_session<Stream>::~ws_session() {
    leave_topics();
    if (!counters_) return;
    counters_->buffered_bytes.sub(accounted_);
    counters_->websockets.sub();
}

template <async_stream Stream>
void ws_session<Stream>::report(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        log_limited(log_level::error, "websocket handler exception",
                    "exception in websocket handler for " + std::string(request_.target()) + ": " +
                        e.what());
    } catch (...) {
        log_limited(log_level::error, "websocket handler exception",
                    "unknown exception in websocket handler for " + std::string(request_.target()));
    }
    if (exception_sink_ && !*exception_sink_) *exception_sink_ = error;
}

template <async_stream Stream>
task<> ws_session<Stream>::accept(std::string_view subprotocol, const header_list& headers) {
    if (state_ != websocket_state::connecting)
        throw websocket_state_error(std::string("aster::websocket::accept: already ") +
                                    (accepted_ ? "accepted" : "refused") +
                                    " (state: " + std::string(to_string(state_)) + ")");
    if (!subprotocol.empty() &&
        std::find(offered_.begin(), offered_.end(), subprotocol) == offered_.end())
        throw std::invalid_argument("aster::websocket::accept: the client did not offer "
                                    "subprotocol '" +
                                    std::string(subprotocol) + "'");
    // Checked before anything is queued, so a refusal leaves no half-written head behind.
    for (const auto& [name, value] : headers) {
        if (!valid_field_name(name) || !valid_field_value(value))
            throw std::invalid_argument(
                "aster::websocket::accept: header '" + name +
                "' has an invalid name or a control character in its value");
        if (iequals(name, "sec-websocket-extensions"))
            throw std::invalid_argument(
                "aster::websocket::accept: aster negotiates "
                "Sec-WebSocket-Extensions itself (websocket_options::deflate)");
    }
    auto key = websocket_accept_key(*request_.header("sec-websocket-key"));
    pending_.append("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: ");
    pending_.append(key.data(), key.size());
    pending_.append("\r\n");
    if (!subprotocol.empty())
        pending_.append("Sec-WebSocket-Protocol: ").append(subprotocol).append("\r\n");
    for (const auto& [name, value] : headers)
        pending_.append(name).append(": ").append(value).append("\r\n");
#ifdef ASTER_HAS_ZLIB
    if (options_.deflate.enabled) {
        // RFC 7692 §5.1: accept the first acceptable offer, in the order the client sent them.
        for (const auto& f : request_.headers()) {
            if (!iequals(f.name, "sec-websocket-extensions")) continue;
            auto agreed = negotiate_deflate(f.value, options_.deflate);
            if (!agreed) continue;
            pending_.append("Sec-WebSocket-Extensions: ");
            append_deflate_response(pending_, *agreed);
            pending_.append("\r\n");
            deflate_ = std::make_unique<deflate_codec>(*agreed, true, options_.deflate.mem_level,
                                                       options_.deflate.level);
            reader_.use_deflate(deflate_.get());
            break;
        }
    }
#endif
    pending_.append("\r\n");
    state_ = websocket_state::connected;
    accepted_ = true;
    handshake_status_ = 101;
    schedule_flush();
    if (options_.ping_interval.count() > 0) {
        pinging_ = true;
        net::co_spawn(stream_.get_executor(), keep_alive(), net::detached);
    }
    co_return;
}

template <async_stream Stream>
task<> ws_session<Stream>::deny(response r) {
    if (state_ != websocket_state::connecting)
        throw websocket_state_error("aster::websocket::deny: only before accept (state: " +
                                    std::string(to_string(state_)) + ")");
    deny_now(r);
    co_return;
}

template <async_stream Stream>
void ws_session<Stream>::deny_now(response& r) {
    handshake_status_ = std::uint16_t(r.status());
    append_head(pending_, r, framing::length, r.body().size(), connection_header::close);
    pending_.append(r.body());
    state_ = websocket_state::disconnected;
    close_code_ = close_code::normal_closure;
    schedule_flush();
}

template <async_stream Stream>
task<> ws_session<Stream>::send(bool text, std::string_view payload) {
    if (state_ == websocket_state::connecting)
        throw websocket_state_error("aster::websocket::send: call accept() before sending "
                                    "(state: connecting)");
    // Backpressure: a reader slower than its senders makes them wait, not the queue grow. A
    // frame waits until it fits; only into an empty queue may one bigger than the limit go.
    const std::size_t frame = payload.size() + max_frame_header_size;
    while (state_ == websocket_state::connected && !write_failed_ && queued() > 0 &&
           queued() + frame > options_.max_send_queue_bytes)
        co_await writes_changed();
    if (write_failed_ && state_ == websocket_state::connected) {
        state_ = websocket_state::disconnected;
        connection_lost_ = true;
        close_code_ = close_code::abnormal_closure;
    }
    if (state_ == websocket_state::disconnected) throw_closed("send");
    queue_message(text ? opcode::text : opcode::binary, payload);
}

template <async_stream Stream>
websocket_message ws_session<Stream>::hand_out(bool text, std::string_view data) noexcept {
    ++messages_in_;
    if constexpr (waitable_stream<Stream>) {
        ++batch_messages_;
        // Nothing whole left to handle: what the handler sends next ends this read batch.
        std::span<const std::uint8_t> rest = in_.held();
        frame_header h{};
        frame_error why{};
        answer_now_ = parse_frame_header(rest, h, why, true, reader_.compressing()) ==
                          frame_parse_result::need_more ||
                      rest.size() < h.header_size + h.payload_length;
    }
    return websocket_message{text, data};
}

// Before a read: compacts what is left, makes room, and sends the answers to everything
// complete, so they go out before we wait.
template <async_stream Stream>
void ws_session<Stream>::prepare_read() {
    if (in_.holds_nothing() && in_.capacity() > large_block_size)
        in_.release(); // a huge frame is done with
    in_.compact();
    if (in_.end() == in_.capacity() && !(waitable_stream<Stream> && in_.end() == 0))
        in_.grow(std::max(pooled_block_size, in_.end() * 2));
    start_write();
}

template <async_stream Stream>
task<websocket_message> ws_session<Stream>::receive() {
    if (state_ == websocket_state::connecting)
        throw websocket_state_error("aster::websocket::receive: call accept() before receiving "
                                    "(state: connecting)");
    if (state_ == websocket_state::disconnected) throw_closed("receive");
    answer_now_ = false;
    reader_.trim(keep_buffer_up_to);
    for (;;) {
        std::size_t used = 0;
        const auto e = reader_.read(in_.held(), used);
        in_.consume(used);
        switch (e) {
        case ws_reader::event::message:
            co_return hand_out(reader_.text(), reader_.data());
        case ws_reader::event::inflating:
            // A long inflate must not hold the loop: let other connections run between slices.
            co_await net::post(stream_.get_executor(), net::use_awaitable);
            if (state_ != websocket_state::connected) throw_closed("receive");
            continue;
        case ws_reader::event::ping: {
            if (reader_.in_message()) received_.take_back(reader_.frame_size()); // no progress
            if (sent_close_) continue;
            // A peer that pings but never reads would grow the queue with pongs: read nothing
            // more from it until they drain (the payload stays put: only receive reads).
            const std::string_view payload = reader_.payload();
            while (!write_failed_ && queued() > 0 &&
                   queued() + payload.size() + max_frame_header_size >
                       options_.max_send_queue_bytes) {
                start_write();
                co_await writes_changed();
            }
            queue_frame(opcode::pong, payload); // §5.5.2: same payload
            continue;
        }
        case ws_reader::event::pong:
            if (reader_.in_message()) received_.take_back(reader_.frame_size());
            awaiting_pong_ = false;
            continue;
        case ws_reader::event::close:
            received_close_ = true;
            // §5.5.1: answer with a close frame, echoing the code; after ours, it ends ours.
            if (!sent_close_) begin_close(reader_.close_code(), reader_.reason(), false);
            state_ = websocket_state::disconnected;
            throw_closed("receive");
        case ws_reader::event::failed:
            // An invalid close frame is still the peer's close (§5.5.1): it sends nothing more,
            // so TCP closes at once.
            if (reader_.reason() == "invalid close frame") received_close_ = true;
            begin_close(reader_.close_code(), reader_.reason());
            throw_closed("receive");
        case ws_reader::event::need_more:
            break;
        }
        if (!co_await read_frame_bytes()) throw_closed("receive");
    }
}

// More bytes for the reader: room for the frame it waits for (reserved in the memory budget),
// then one read, the fast paths first. False when the connection is over (the code is set).
template <async_stream Stream>
task<bool> ws_session<Stream>::read_frame_bytes() {
    if (std::size_t needed = reader_.needed(); needed > in_.capacity() - in_.begin()) {
        in_.compact();           // room for the whole frame before reading on
        if (!in_.grow(needed)) { // the memory budget is spent
            begin_close(close_code::try_again_later, "server busy, try again later");
            co_return false;
        }
    }
    prepare_read();
    net::mutable_buffer target;
    std::error_code ec;
    std::size_t n = 0;
    bool read_done = false;
    if constexpr (waitable_stream<Stream>) {
        // An answer just went out and the peer's next message follows it: reading at once
        // would only find the socket empty (one wasted system call). Let the loop's other
        // ready work run first; by then the message has usually arrived.
        if (read_after_yield_ && in_.holds_nothing()) {
            read_after_yield_ = false;
            co_await net::post(stream_.get_executor(), net::use_awaitable);
            // The last read brought several messages: the peer pipelines and its next batch
            // is most likely in. One read straight into a block, rather than the scratch an
            // idle connection waits with and then the rest (two reads).
            if (batch_messages_ > 1 && !gave_up_) {
                in_.grow(pooled_block_size);
                immediate_io now = try_read(stream_, net::buffer(in_.data(), in_.capacity()));
                read_done = !now.blocked;
                ec = now.ec;
                n = now.n;
                received_.add(n);
            }
        }
        batch_messages_ = 0;
    }
    if (!read_done) {
        // The pinger or the watchdog gave up on the peer while no read was waiting (the
        // handler was busy): its cancel reached nothing, so do not start a read that may
        // never end.
        if (gave_up_) {
            ec = net::error::operation_aborted;
        } else if (start_read(stream_, in_.buffer(), in_.end(), scratch_, target, ec, n)) {
            // A message (or frame) begun and not finished: its pace is watched.
            receiving_ = reader_.in_message() || !in_.holds_nothing();
            auto [read_ec, read_n] = co_await stream_.async_read_some(target, use_tuple);
            receiving_ = false;
            ec = read_ec;
            n = read_ec ? 0 : finish_read(stream_, in_.buffer(), scratch_, target, read_n);
        }
        received_.add(n);
    }
    if (ec) {
        connection_lost_ = true;
        state_ = websocket_state::disconnected;
        // §7.1.5: closed without a close frame; unless we closed first (the code stays ours:
        // 1001 at shutdown) or gave up on the peer (give_up() set the code: 1011 for a silent
        // peer, 1008 for a slow one).
        if (!gave_up_ && !sent_close_) {
            close_code_ = close_code::abnormal_closure;
            close_reason_.clear();
        }
        co_return false;
    }
    in_.arrived(n);
    co_return true;
}

// While the handler runs, this frame holds little: what is done after it lives in
// finish_handler (plain) and close_down (a frame only once the handler is over).
template <async_stream Stream>
task<> ws_session<Stream>::run(const app_ref& app, std::size_t route_index) {
    {
        websocket ws(*this, request_, offered_);
        std::exception_ptr error;
        try {
            co_await app.run_websocket(app.app, route_index, request_, ws);
        } catch (const websocket_disconnect&) {
            // The handler let the close propagate; nothing more to report.
        } catch (...) {
            error = std::current_exception();
        }
        leave_topics(); // on_disconnect has seen them
        finish_handler(error);
    }
    co_await close_down();
    if (log_client_) log_end();
    if (metrics_ && accepted_) {
        std::string_view route = request_access::route_label(request_);
        metrics_->record_websocket(route.empty() ? unmatched_route : route, code(close_code_),
                                   messages_in_, messages_out_);
    }
}

// `127.0.0.1:50312 - "WebSocket /ws" 101 1000 2.5s in=3 out=3`, as uvicorn's access log.
template <async_stream Stream>
void ws_session<Stream>::log_end() const {
    if (!log_enabled(log_level::info)) return;
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - opened_)
                            .count();
    char duration[32];
    if (micros >= 1000000) std::snprintf(duration, sizeof duration, "%.1fs", double(micros) / 1e6);
    else std::snprintf(duration, sizeof duration, "%.1fms", double(micros) / 1000.0);
    log(log_level::info,
        log_client_->host + ":" + std::to_string(log_client_->port) + " - \"WebSocket " +
            std::string(request_.target()) + "\" " + std::to_string(handshake_status_) + " " +
            (accepted_ ? std::to_string(code(close_code_)) : std::string("-")) + " " + duration +
            " in=" + std::to_string(messages_in_) + " out=" + std::to_string(messages_out_));
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_SESSION_HPP
