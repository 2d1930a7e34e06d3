// SPDX-License-Identifier: MIT
// ws_session's close: the one transition into closing, the close handshake, the end of a session.
#ifndef ASTER_DETAIL_IMPL_WS_CLOSE_HPP
#define ASTER_DETAIL_IMPL_WS_CLOSE_HPP

namespace aster::detail {

// The one way a session starts to close (RFC 6455 §7.1.2): our close frame goes out (unless one
// did already, or the connection is gone), and from now on receive and send report `code` and
// `reason`. `send_reason`: false when echoing a peer's close, whose reason we report only.
template <async_stream Stream>
void ws_session<Stream>::begin_close(aster::close_code code, std::string_view reason,
                                     bool send_reason) {
    if (!sent_close_ && !connection_lost_) {
        queue_close(code, send_reason ? reason : std::string_view());
        sent_close_ = true;
    }
    state_ = websocket_state::disconnected;
    close_code_ = code;
    close_reason_ = std::string(reason.substr(0, 123));
}

template <async_stream Stream>
void ws_session<Stream>::begin_shutdown() {
    if (state_ != websocket_state::connected) return;
    begin_close(close_code::going_away, "server shutting down"); // §7.4.1
    // A handler waiting in receive() reads on for the peer's close reply, but only for
    // close_timeout, as await_peer_close does: then its read is cancelled.
    closing_deadline_ = std::make_unique<read_deadline<Stream>>(stream_);
    closing_deadline_->expires_after(options_.close_timeout);
}

template <async_stream Stream>
task<> ws_session<Stream>::close(std::uint16_t code, std::string_view reason) {
    if (state_ == websocket_state::connecting) {
        // Closing before accept refuses the handshake: HTTP 403, as uvicorn answers.
        // (A named response: g++ 12 destroys a temporary in a co_await operand twice.)
        response refusal = plain_text(reason.empty() ? "Forbidden" : std::string(reason),
                                      status::forbidden);
        co_await deny(std::move(refusal));
        close_code_ = aster::close_code(code);
        co_return;
    }
    if (state_ == websocket_state::disconnected) co_return; // closing twice changes nothing
    if (!is_valid_close_code_on_wire(code))
        throw std::invalid_argument("aster::websocket::close: code " + std::to_string(code) +
                                    " may not be sent (RFC 6455 §7.4)");
    begin_close(aster::close_code(code), reason);
}

template <async_stream Stream>
void ws_session<Stream>::throw_closed(std::string_view) const {
    throw websocket_disconnect(close_code_, close_reason_);
}

template <async_stream Stream>
task<bool> ws_session<Stream>::read_more() {
    prepare_read();
    auto [ec, n] = co_await read_into(stream_, in_.buffer(), in_.end(), scratch_);
    if (ec) {
        connection_lost_ = true;
        co_return false;
    }
    in_.arrived(n);
    co_return true;
}

// Ends a connection the peer is not keeping up with: the handler's receive or send reports
// `code`, the close frame goes out if the peer still reads, and nothing waits on it any more.
template <async_stream Stream>
void ws_session<Stream>::give_up(aster::close_code code, std::string_view reason) {
    if (state_ != websocket_state::connected || gave_up_) return;
    gave_up_ = true;
    begin_close(code, reason);
    cancel_stream(stream_);
}

template <async_stream Stream>
task<> ws_session<Stream>::await_peer_close() {
    // §7.1.1: wait for the peer's close frame (discarding data) for a bounded time.
    auto armed = std::make_shared<bool>(true);
    net::steady_timer deadline(stream_.get_executor());
    deadline.expires_after(options_.close_timeout);
    deadline.async_wait([armed, stream = &stream_](std::error_code ec) {
        if (!ec && *armed) cancel_stream(*stream);
    });
    for (bool done = false; !done;) {
        for (;;) {
            std::span<const std::uint8_t> available = in_.held();
            frame_header h{};
            frame_error why{};
            auto result = parse_frame_header(available, h, why, true, reader_.compressing());
            if (result == frame_parse_result::protocol_error) {
                done = true;
                break;
            }
            if (result != frame_parse_result::ok) break;
            std::size_t total = h.header_size + std::size_t(h.payload_length);
            if (total > options_.max_message_bytes + 14) {
                done = true;
                break;
            }
            if (available.size() < total) {
                if (total > in_.capacity()) {
                    done = true; // a huge frame after our close: not worth buffering
                }
                break;
            }
            in_.consume(total);
            if (h.op == opcode::close) {
                received_close_ = true;
                done = true;
                break;
            }
        }
        if (done) break;
        // The deadline may have fired while a read's completion was queued: its cancel then
        // reached no read, and a peer that keeps sending would keep this loop going.
        if (deadline.expiry() <= std::chrono::steady_clock::now()) break;
        if (!co_await read_more()) break; // EOF, reset, or the deadline cancelled the read
    }
    *armed = false;
    deadline.cancel();
}

template <async_stream Stream>
void ws_session<Stream>::finish_handler(std::exception_ptr error) {
    if (error) {
        report(error);
        if (state_ == websocket_state::connecting) {
            response failed = plain_text("Internal Server Error", status::internal_server_error);
            deny_now(failed);
        } else if (state_ == websocket_state::connected) {
            begin_close(close_code::internal_error, {});
        }
    }
    if (state_ == websocket_state::connecting) {
        // Starlette would wait for ever here; the client deserves an answer.
        log_limited(log_level::warning, "websocket not accepted",
                    "websocket handler for " + std::string(request_.target()) +
                        " returned without accept() or close(): answering 403");
        response refusal(status::forbidden);
        deny_now(refusal);
    } else if (state_ == websocket_state::connected) {
        begin_close(close_code::normal_closure, {});
    }
}

template <async_stream Stream>
task<> ws_session<Stream>::close_down() {
    stop_keep_alive();
    while (pinging_) co_await writes_changed(); // the pinger uses this session
    co_await drain_writes();
    if (accepted_ && sent_close_ && !received_close_ && !connection_lost_ && !write_failed_)
        co_await await_peer_close();
    co_await drain_writes();
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_CLOSE_HPP
