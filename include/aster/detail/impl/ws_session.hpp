// SPDX-License-Identifier: MIT
// Template bodies of ws_session, and the handshake checks.
#ifndef ASTER_DETAIL_IMPL_WS_SESSION_HPP
#define ASTER_DETAIL_IMPL_WS_SESSION_HPP

#include <algorithm>

namespace aster::detail {

// Small messages fit; bigger frames grow the buffer, which shrinks back once drained (idle
// connections should cost little memory).
inline constexpr std::size_t keep_buffer_up_to = 16 * 1024;

ASTER_ENGINE std::optional<response> check_websocket_handshake(const request& req) {
    // RFC 6455 §4.2.1: a GET over HTTP/1.1 with Connection: Upgrade, version 13 and a key.
    if (req.method_id() != method::get)
        return plain_text("WebSocket handshake must use GET", status::bad_request);
    if (req.version_major() != 1 || req.version_minor() < 1)
        return plain_text("WebSocket handshake needs HTTP/1.1", status::bad_request);
    auto connection = req.header("connection");
    if (!connection || !header_has_token(*connection, "upgrade"))
        return plain_text("WebSocket handshake needs Connection: Upgrade", status::bad_request);
    auto version = req.header("sec-websocket-version");
    if (!version || *version != "13") {
        // §4.4: tell the client which version we speak.
        auto r = plain_text("Unsupported WebSocket version; use 13", status::upgrade_required);
        r.header("Sec-WebSocket-Version", "13");
        return r;
    }
    auto key = req.header("sec-websocket-key");
    if (!key || !is_valid_websocket_key(*key))
        return plain_text("Sec-WebSocket-Key must be 16 bytes in base64", status::bad_request);
    return std::nullopt;
}

template <class Stream>
ws_session<Stream>::ws_session(Stream& stream, request& upgrade, const websocket_options& options,
                               std::string_view already_read, std::exception_ptr* exception_sink,
                               loop_counters* counters, memory_budget* budget)
    : stream_(stream), request_(upgrade), options_(options), exception_sink_(exception_sink),
      counters_(counters) {
    if (counters_) counters_->websockets.add();
    in_.count_in(counters_ ? &counters_->input_bytes : nullptr);
    in_.charge_to(budget);
    message_.charge_to(budget, large_block_size);
    for (const auto& f : upgrade.headers())
        if (iequals(f.name, "sec-websocket-protocol"))
            for (auto p : split_header_tokens(f.value)) offered_.push_back(p);
    if (!already_read.empty()) {
        in_.grow(0, already_read.size());
        std::memcpy(in_.data(), already_read.data(), already_read.size());
        in_end_ = already_read.size();
    }
    if constexpr (waitable_stream<Stream>) {
        std::error_code ignored;
        stream_.non_blocking(true, ignored); // read_more reads what is there, else waits
    }
}

template <class Stream>
ws_session<Stream>::~ws_session() {
    if (!counters_) return;
    counters_->buffered_bytes.sub(accounted_);
    counters_->websockets.sub();
}

// Per batch of frames, not per byte: one relaxed store when the queue's size changes.
template <class Stream>
void ws_session<Stream>::account() noexcept {
    if (!counters_) return;
    const std::size_t now = queued();
    if (now > accounted_) counters_->buffered_bytes.add(now - accounted_);
    else counters_->buffered_bytes.sub(accounted_ - now);
    accounted_ = now;
}

template <class Stream>
void ws_session<Stream>::begin_shutdown() {
    if (state_ != websocket_state::connected) return;
    queue_close(1001, "server shutting down"); // §7.4.1: going away
    sent_close_ = true;
    state_ = websocket_state::disconnected;
    close_code_ = 1001;
    close_reason_ = "server shutting down";
    // A handler waiting in receive() reads on for the peer's close reply, but only for
    // close_timeout, as await_peer_close does: then its read is cancelled.
    closing_deadline_ = std::make_unique<read_deadline<Stream>>(stream_);
    closing_deadline_->expires_after(options_.close_timeout);
}

template <class Stream>
void ws_session<Stream>::report(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        log_limited(log_level::error, "websocket handler exception",
                    "exception in websocket handler for " + std::string(request_.target()) +
                        ": " + e.what());
    } catch (...) {
        log_limited(log_level::error, "websocket handler exception",
                    "unknown exception in websocket handler for " + std::string(request_.target()));
    }
    if (exception_sink_ && !*exception_sink_) *exception_sink_ = error;
}

template <class Stream>
task<> ws_session<Stream>::accept(std::string_view subprotocol, const header_pairs& headers) {
    if (state_ != websocket_state::connecting)
        throw websocket_state_error(std::string("aster::websocket::accept: already ") +
                                    (accepted_ ? "accepted" : "refused") +
                                    " (state: " + std::string(to_string(state_)) + ")");
    if (!subprotocol.empty() &&
        std::find(offered_.begin(), offered_.end(), subprotocol) == offered_.end())
        throw std::invalid_argument("aster::websocket::accept: the client did not offer "
                                    "subprotocol '" + std::string(subprotocol) + "'");
    // Checked before anything is queued, so a refusal leaves no half-written head behind.
    for (const auto& [name, value] : headers) {
        if (!valid_field_name(name) || !valid_field_value(value))
            throw std::invalid_argument("aster::websocket::accept: header '" + name +
                                        "' has an invalid name or a control character in its value");
        if (iequals(name, "sec-websocket-extensions"))
            throw std::invalid_argument("aster::websocket::accept: aster negotiates "
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

template <class Stream>
task<> ws_session<Stream>::deny(response r) {
    if (state_ != websocket_state::connecting)
        throw websocket_state_error("aster::websocket::deny: only before accept (state: " +
                                    std::string(to_string(state_)) + ")");
    deny_now(r);
    co_return;
}

template <class Stream>
void ws_session<Stream>::deny_now(response& r) {
    handshake_status_ = std::uint16_t(r.status());
    append_head(pending_, r, framing::length, r.body().size(), connection_header::close);
    pending_.append(r.body());
    state_ = websocket_state::disconnected;
    close_code_ = 1000;
    schedule_flush();
}

template <class Stream>
task<> ws_session<Stream>::writes_changed() {
    if (!writes_changed_) writes_changed_ = std::make_unique<async_event>(stream_.get_executor());
    return writes_changed_->wait();
}

template <class Stream>
task<> ws_session<Stream>::close(std::uint16_t code, std::string_view reason) {
    if (state_ == websocket_state::connecting) {
        // Closing before accept refuses the handshake: HTTP 403, as uvicorn answers.
        // (A named response: g++ 12 destroys a temporary in a co_await operand twice.)
        response refusal = plain_text(reason.empty() ? "Forbidden" : std::string(reason),
                                      status::forbidden);
        co_await deny(std::move(refusal));
        close_code_ = code;
        co_return;
    }
    if (state_ == websocket_state::disconnected) co_return; // closing twice changes nothing
    if (!is_valid_close_code_on_wire(code))
        throw std::invalid_argument("aster::websocket::close: code " + std::to_string(code) +
                                    " may not be sent (RFC 6455 §7.4)");
    queue_close(code, reason);
    sent_close_ = true;
    state_ = websocket_state::disconnected;
    close_code_ = code;
    close_reason_ = std::string(reason.substr(0, 123));
}

template <class Stream>
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
        close_code_ = 1006;
    }
    if (state_ == websocket_state::disconnected) throw_closed("send");
    queue_message(text ? opcode::text : opcode::binary, payload);
}

template <class Stream>
void ws_session<Stream>::throw_closed(std::string_view) const {
    throw websocket_disconnect(close_code_, close_reason_);
}

template <class Stream>
void ws_session<Stream>::queue_frame(opcode op, std::string_view payload, bool rsv1) {
    std::uint8_t header[14];
    std::size_t n = encode_frame_header(header, true, op, payload.size(), nullptr, rsv1);
    pending_.append(reinterpret_cast<const char*>(header), n);
    pending_.append(payload);
    schedule_flush();
}

template <class Stream>
void ws_session<Stream>::queue_message(opcode op, std::string_view payload) {
    ++messages_out_;
#ifdef ASTER_HAS_ZLIB
    if (deflate_ && payload.size() >= options_.deflate.min_compress_bytes) {
        deflated_.clear();
        auto status = deflate_->compress(payload, deflated_);
        // Without context takeover a message that does not shrink may go as it is (RSV1 clear,
        // RFC 7692 §6); with it, the peer's window must see every byte ours saw.
        bool send_raw = status != deflate_codec::status::ok ||
                        (deflate_->compressor_resets() && deflated_.size() >= payload.size());
        if (status != deflate_codec::status::ok)
            log(log_level::warning, "permessage-deflate: compression failed, sending uncompressed");
        if (!send_raw) {
            queue_frame(op, deflated_.view(), true); // RSV1: compressed (§6)
            if (deflated_.capacity() > keep_buffer_up_to) deflated_.release();
            return;
        }
    }
#endif
    queue_frame(op, payload);
}

template <class Stream>
bool ws_session<Stream>::compressed_frames_allowed() const noexcept {
#ifdef ASTER_HAS_ZLIB
    return deflate_ != nullptr;
#else
    return false;
#endif
}

template <class Stream>
task<std::uint16_t> ws_session<Stream>::inflate_frame(std::span<const std::uint8_t> payload,
                                                      bool fin, bool text, std::string_view& why) {
#ifdef ASTER_HAS_ZLIB
    for (;;) {
        const std::size_t before = message_.size();
        auto status = deflate_->inflate(payload, fin, message_, options_.max_message_bytes);
        switch (status) {
        case deflate_codec::status::ok:
        case deflate_codec::status::more:
            break;
        case deflate_codec::status::too_big: // the decompressed size counts (zip bombs)
            why = "message too big";
            co_return 1009;
        case deflate_codec::status::bad_data: // not a DEFLATE stream: the payload is invalid data
            why = "invalid compressed data";
            co_return 1007;
        case deflate_codec::status::no_memory:
            why = "out of memory";
            co_return 1011;
        case deflate_codec::status::no_budget: // §7.4.1: a temporary condition
            why = "server busy, try again later";
            co_return 1013;
        }
        // §8.1 on what the bytes decompress to, failing as soon as they cannot be UTF-8.
        if (text && (!utf8_.feed(message_.view().substr(before)) ||
                     (fin && status == deflate_codec::status::ok && !utf8_.complete()))) {
            why = "invalid UTF-8";
            co_return 1007;
        }
        if (status == deflate_codec::status::ok) co_return 0;
        // A long inflate must not hold the loop: let other connections run between slices.
        co_await net::post(stream_.get_executor(), net::use_awaitable);
        if (state_ != websocket_state::connected) {
            why = close_reason_;
            co_return close_code_;
        }
    }
#else
    (void)payload, (void)fin, (void)text;
    why = "compression not negotiated";
    co_return 1002;
#endif
}

template <class Stream>
void ws_session<Stream>::queue_close(std::uint16_t code, std::string_view reason) {
    std::uint8_t body[125];
    std::size_t n = code == 1005 ? 0 : encode_close_payload(body, code, reason);
    queue_frame(opcode::close, std::string_view(reinterpret_cast<const char*>(body), n));
}

template <class Stream>
websocket_message ws_session<Stream>::hand_out(bool text, std::string_view data) noexcept {
    ++messages_in_;
    if constexpr (waitable_stream<Stream>) {
        ++batch_messages_;
        // Nothing whole left to handle: what the handler sends next ends this read batch.
        std::span<const std::uint8_t> rest(in_.data() + in_begin_, in_end_ - in_begin_);
        frame_header h{};
        frame_error why{};
        answer_now_ = parse_frame_header(rest, h, why, true, compressed_frames_allowed()) ==
                          frame_parse_result::need_more ||
                      rest.size() < h.header_size + h.payload_length;
    }
    return websocket_message{text, data};
}

// The answer to the last message of a read batch, with everything queued before it: one
// write_some on the non-blocking socket; what it does not take goes out asynchronously.
template <class Stream>
void ws_session<Stream>::write_now() {
    answer_now_ = false;
    if constexpr (waitable_stream<Stream>) { // (answer_now_ is never set for other streams)
        std::error_code ec;
        std::size_t n = stream_.write_some(net::buffer(pending_), ec);
        if (ec == net::error::would_block || ec == net::error::try_again) {
            ec = {};
            n = 0;
        }
        sent_.add(n);
        if (ec) {
            write_failed_ = true;
            pending_.clear();
        } else if (n == pending_.size()) {
            pending_.clear();
            read_after_yield_ = true;
        } else {
            pending_.erase(0, n);
            start_write();
        }
    }
    account();
    notify_writes();
}

// Frames queued while a handler runs go out together once it yields: one write per batch.
template <class Stream>
void ws_session<Stream>::schedule_flush() {
    if constexpr (waitable_stream<Stream>) {
        if (answer_now_ && !writing_ && !write_failed_ && !pending_.empty()) {
            write_now();
            if (pending_.empty() || writing_) return;
        }
    }
    account();
    if (flush_scheduled_ || writing_) return;
    flush_scheduled_ = true;
    net::post(stream_.get_executor(), [this] {
        flush_scheduled_ = false;
        start_write();
        if (!writing_) notify_writes();
    });
}

template <class Stream>
void ws_session<Stream>::start_write() {
    if (writing_ || pending_.empty()) return;
    if (write_failed_) {
        pending_.clear();
        account();
        return;
    }
    writing_ = true;
    inflight_.swap(pending_);
    net::async_write(stream_, net::buffer(inflight_), count_progress{&sent_},
                     [this](std::error_code ec, std::size_t) {
        writing_ = false;
        inflight_.clear();
        if (inflight_.capacity() > keep_buffer_up_to) std::string().swap(inflight_);
        if (ec) {
            write_failed_ = true;
            pending_.clear();
        }
        account();
        notify_writes();
        start_write();
    });
}

template <class Stream>
task<> ws_session<Stream>::drain_writes() {
    while (writing_ || flush_scheduled_ || (!pending_.empty() && !write_failed_)) {
        if (!writing_ && !flush_scheduled_) start_write();
        if (!writing_ && !flush_scheduled_) break;
        co_await writes_changed();
    }
}

// Before a read: compacts what is left, makes room, and sends the answers to everything
// complete, so they go out before we wait.
template <class Stream>
void ws_session<Stream>::prepare_read() {
    if (in_begin_ == in_end_) {
        in_begin_ = in_end_ = 0;
        if (in_.capacity() > large_block_size) in_.release(); // a huge frame is done with
    }
    if (in_begin_ > 0) {
        std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
        in_end_ -= in_begin_;
        in_begin_ = 0;
    }
    if (in_end_ == in_.capacity() && !(waitable_stream<Stream> && in_end_ == 0))
        in_.grow(in_end_, std::max(pooled_block_size, in_end_ * 2));
    start_write();
}

template <class Stream>
task<bool> ws_session<Stream>::read_more() {
    prepare_read();
    auto [ec, n] = co_await read_into(stream_, in_, in_end_, scratch_);
    if (ec) {
        connection_lost_ = true;
        co_return false;
    }
    in_end_ += n;
    co_return true;
}

// The next whole frame in the buffer, unmasked, without waiting: a plain function, so a
// connection waiting for bytes holds only receive's coroutine frame.
template <class Stream>
typename ws_session<Stream>::frame_step ws_session<Stream>::take_frame(frame_view& out) {
    std::span<const std::uint8_t> available(in_.data() + in_begin_, in_end_ - in_begin_);
    frame_header h{};
    frame_error why{};
    // §5.1: a client must mask; §5.2: no RSV bits without an extension that defines them.
    auto result = parse_frame_header(available, h, why, true, compressed_frames_allowed());
    if (result == frame_parse_result::protocol_error) {
        fail(1002, "protocol error");
        return frame_step::failed;
    }
    if (result != frame_parse_result::ok) return frame_step::need_more;
    if (h.payload_length > options_.max_message_bytes) {
        fail(1009, "message too big");
        return frame_step::failed;
    }
    std::size_t total = h.header_size + std::size_t(h.payload_length);
    if (available.size() >= total) {
        std::uint8_t* payload = in_.data() + in_begin_ + h.header_size;
        unmask(std::span<std::uint8_t>(payload, std::size_t(h.payload_length)), h.mask);
        in_begin_ += total;
        out = frame_view{h, payload};
        return frame_step::ready;
    }
    if (total > in_.capacity()) { // make room for the whole frame before reading on
        if (in_begin_ > 0) {
            std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
            in_end_ -= in_begin_;
            in_begin_ = 0;
        }
        if (!in_.grow(in_end_, total)) {
            fail(1013, "server busy, try again later"); // the memory budget is spent
            return frame_step::failed;
        }
    }
    return frame_step::need_more;
}

template <class Stream>
void ws_session<Stream>::fail(std::uint16_t code, std::string_view reason) {
    if (!sent_close_ && !connection_lost_) {
        queue_close(code, reason);
        sent_close_ = true;
    }
    state_ = websocket_state::disconnected;
    close_code_ = code;
    close_reason_ = std::string(reason);
}

// Ends a connection the peer is not keeping up with: the handler's receive or send reports
// `code`, the close frame goes out if the peer still reads, and nothing waits on it any more.
template <class Stream>
void ws_session<Stream>::give_up(std::uint16_t code, std::string_view reason) {
    if (state_ != websocket_state::connected || gave_up_) return;
    gave_up_ = code;
    fail(code, reason);
    cancel_stream(stream_);
}

template <class Stream>
void ws_session<Stream>::watch(std::chrono::steady_clock::time_point now) noexcept {
    if (state_ != websocket_state::connected) return; // a closing one has close_timeout
    if (sent_.too_slow(writing_, now, options_.min_send_rate))
        give_up(1008, "send rate too low"); // §7.4.1: a policy the peer broke
    else if (received_.too_slow(receiving_, now, options_.min_receive_rate))
        give_up(1008, "receive rate too low");
}

template <class Stream>
task<websocket_message> ws_session<Stream>::receive() {
    if (state_ == websocket_state::connecting)
        throw websocket_state_error("aster::websocket::receive: call accept() before receiving "
                                    "(state: connecting)");
    if (state_ == websocket_state::disconnected) throw_closed("receive");
    answer_now_ = false;
    bool in_message = false, text = false, compressed = false;
    message_.clear();
    if (message_.capacity() > keep_buffer_up_to) message_.release();
    utf8_.reset();
    for (;;) {
        frame_view frame{};
        const frame_step step = take_frame(frame);
        if (step == frame_step::failed) throw_closed("receive");
        if (step == frame_step::need_more) {
            // read_more inlined: the wait then holds this frame and Asio's, nothing between.
            prepare_read();
            net::mutable_buffer target;
            std::error_code ec;
            std::size_t n = 0;
            bool read_done = false;
            if constexpr (waitable_stream<Stream>) {
                // An answer just went out and the peer's next message follows it: reading at
                // once would only find the socket empty (one wasted system call). Let the
                // loop's other ready work run first; by then the message has usually arrived.
                if (read_after_yield_ && in_begin_ == in_end_) {
                    read_after_yield_ = false;
                    co_await net::post(stream_.get_executor(), net::use_awaitable);
                    // The last read brought several messages: the peer pipelines and its next
                    // batch is most likely in. One read straight into a block, rather than the
                    // scratch an idle connection waits with and then the rest (two reads).
                    if (batch_messages_ > 1 && !gave_up_) {
                        in_.grow(0, pooled_block_size);
                        n = stream_.read_some(net::buffer(in_.data(), in_.capacity()), ec);
                        read_done = ec != net::error::would_block && ec != net::error::try_again;
                        if (!read_done) {
                            ec = {};
                            n = 0;
                        }
                        received_.add(n);
                    }
                }
                batch_messages_ = 0;
            }
            if (!read_done) {
                // The pinger or the watchdog gave up on the peer while no read was waiting
                // (the handler was busy): its cancel reached nothing, so do not start a read
                // that may never end.
                if (gave_up_) {
                    ec = net::error::operation_aborted;
                } else if (start_read(stream_, in_, in_end_, scratch_, target, ec, n)) {
                    // A message (or frame) begun and not finished: its pace is watched.
                    receiving_ = in_message || in_begin_ < in_end_;
                    auto [read_ec, read_n] = co_await stream_.async_read_some(target, use_tuple);
                    receiving_ = false;
                    ec = read_ec;
                    n = read_ec ? 0 : finish_read(stream_, in_, scratch_, target, read_n);
                }
                received_.add(n);
            }
            if (ec) {
                connection_lost_ = true;
                state_ = websocket_state::disconnected;
                // §7.1.5: closed without a close frame; unless we closed first (the code
                // stays ours: 1001 at shutdown) or gave up on the peer (give_up() set the code:
                // 1011 for a silent peer, 1008 for a slow one).
                if (!gave_up_ && !sent_close_) {
                    close_code_ = 1006;
                    close_reason_.clear();
                }
                throw_closed("receive");
            }
            in_end_ += n;
            continue;
        }
        const frame_header& h = frame.header;
        std::string_view payload(reinterpret_cast<const char*>(frame.payload),
                                 std::size_t(h.payload_length));
        const std::span<const std::uint8_t> bytes(frame.payload, payload.size());
        switch (h.op) {
        case opcode::ping:
            if (in_message) received_.take_back(h.header_size + payload.size()); // no progress
            if (sent_close_) continue;
            // A peer that pings but never reads would grow the queue with pongs: read nothing
            // more from it until they drain (the payload stays put: only receive reads).
            while (!write_failed_ && queued() > 0 &&
                   queued() + payload.size() + max_frame_header_size > options_.max_send_queue_bytes) {
                start_write();
                co_await writes_changed();
            }
            queue_frame(opcode::pong, payload); // §5.5.2: same payload
            continue;
        case opcode::pong:
            if (in_message) received_.take_back(h.header_size + payload.size());
            awaiting_pong_ = false;
            continue;
        case opcode::close: {
            close_payload parsed{};
            auto kind = parse_close_payload(
                std::span<const std::uint8_t>(frame.payload, std::size_t(h.payload_length)), parsed);
            if (kind == close_parse::invalid) {
                // Still the peer's close (§5.5.1): it sends nothing more, so TCP closes at once.
                received_close_ = true;
                fail(1002, "invalid close frame");
                throw_closed("receive");
            }
            received_close_ = true;
            state_ = websocket_state::disconnected;
            if (!sent_close_) {
                // §5.5.1: answer with a close frame, echoing the code.
                close_code_ = kind == close_parse::empty ? 1005 : parsed.code;
                close_reason_ = kind == close_parse::empty ? std::string() : std::string(parsed.reason);
                queue_close(close_code_, {});
                sent_close_ = true;
            }
            throw_closed("receive");
        }
        case opcode::text:
        case opcode::binary:
            if (in_message) {
                fail(1002, "new message inside a fragmented one");
                throw_closed("receive");
            }
            text = h.op == opcode::text;
            compressed = h.rsv1; // RFC 7692 §6: set on the first frame of a compressed message
            if (compressed) {
                message_.clear();
                std::string_view why;
                if (auto code = co_await inflate_frame(bytes, h.fin, text, why)) {
                    fail(code, why);
                    throw_closed("receive");
                }
                if (h.fin) co_return hand_out(text, message_);
                in_message = true;
                continue;
            }
            if (h.fin) {
                if (text && !is_valid_utf8(payload)) {
                    fail(1007, "invalid UTF-8");
                    throw_closed("receive");
                }
                co_return hand_out(text, payload); // a view into the read buffer
            }
            in_message = true;
            if (text && !utf8_.feed(payload)) {
                fail(1007, "invalid UTF-8");
                throw_closed("receive");
            }
            message_.clear();
            if (!message_.append(payload)) {
                fail(1013, "server busy, try again later");
                throw_closed("receive");
            }
            continue;
        case opcode::continuation:
            if (!in_message) {
                fail(1002, "continuation frame without a message");
                throw_closed("receive");
            }
            if (compressed) {
                std::string_view why;
                if (auto code = co_await inflate_frame(bytes, h.fin, text, why)) {
                    fail(code, why);
                    throw_closed("receive");
                }
                if (!h.fin) continue;
                co_return hand_out(text, message_);
            }
            if (message_.size() + payload.size() > options_.max_message_bytes) {
                fail(1009, "message too big");
                throw_closed("receive");
            }
            // §8.1: fail as soon as the text cannot be UTF-8, even mid-message.
            if (text && !utf8_.feed(payload)) {
                fail(1007, "invalid UTF-8");
                throw_closed("receive");
            }
            if (!message_.append(payload, options_.max_message_bytes)) {
                fail(1013, "server busy, try again later");
                throw_closed("receive");
            }
            if (!h.fin) continue;
            if (text && !utf8_.complete()) {
                fail(1007, "invalid UTF-8");
                throw_closed("receive");
            }
            co_return hand_out(text, message_);
        default:
            fail(1002, "unknown opcode");
            throw_closed("receive");
        }
    }
}

template <class Stream>
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
            std::span<const std::uint8_t> available(in_.data() + in_begin_, in_end_ - in_begin_);
            frame_header h{};
            frame_error why{};
            auto result = parse_frame_header(available, h, why, true, compressed_frames_allowed());
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
            in_begin_ += total;
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

template <class Stream>
task<> ws_session<Stream>::keep_alive() {
    net::steady_timer timer(stream_.get_executor());
    while (!stop_pinging_ && state_ == websocket_state::connected) {
        timer.expires_after(awaiting_pong_ ? options_.ping_timeout : options_.ping_interval);
        ping_timer_ = &timer;
        (void)co_await timer.async_wait(use_tuple); // cancelled means: look again
        ping_timer_ = nullptr;
        if (stop_pinging_ || state_ != websocket_state::connected) break;
        if (awaiting_pong_) {
            give_up(1011, "keepalive ping timeout"); // the peer is gone or stuck
            break;
        }
        queue_frame(opcode::ping, "aster");
        awaiting_pong_ = true;
    }
    pinging_ = false;
    notify_writes();
}

template <class Stream>
void ws_session<Stream>::stop_keep_alive() {
    stop_pinging_ = true;
    if (ping_timer_) ping_timer_->cancel();
}

// While the handler runs, this frame holds little: what is done after it lives in
// finish_handler (plain) and close_down (a frame only once the handler is over).
template <class Stream>
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
        finish_handler(error);
    }
    co_await close_down();
    if (log_client_) log_end();
    if (metrics_ && accepted_) {
        std::string_view route = request_access::route_label(request_);
        metrics_->record_websocket(route.empty() ? unmatched_route : route, close_code_,
                                   messages_in_, messages_out_);
    }
}

// `127.0.0.1:50312 - "WebSocket /ws" 101 1000 2.5s in=3 out=3`, as uvicorn's access log.
template <class Stream>
void ws_session<Stream>::log_end() const {
    if (!log_enabled(log_level::info)) return;
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - opened_)
                            .count();
    char duration[32];
    if (micros >= 1000000) std::snprintf(duration, sizeof duration, "%.1fs", double(micros) / 1e6);
    else std::snprintf(duration, sizeof duration, "%.1fms", double(micros) / 1000.0);
    log(log_level::info, log_client_->host + ":" + std::to_string(log_client_->port) +
                             " - \"WebSocket " + std::string(request_.target()) + "\" " +
                             std::to_string(handshake_status_) + " " +
                             (accepted_ ? std::to_string(close_code_) : std::string("-")) + " " +
                             duration + " in=" + std::to_string(messages_in_) +
                             " out=" + std::to_string(messages_out_));
}

template <class Stream>
void ws_session<Stream>::finish_handler(std::exception_ptr error) {
    if (error) {
        report(error);
        if (state_ == websocket_state::connecting) {
            handshake_status_ = 500;
            auto r = plain_text("Internal Server Error", status::internal_server_error);
            append_head(pending_, r, framing::length, r.body().size(), connection_header::close);
            pending_.append(r.body());
            state_ = websocket_state::disconnected;
        } else if (state_ == websocket_state::connected) {
            queue_close(1011, {});
            sent_close_ = true;
            state_ = websocket_state::disconnected;
            close_code_ = 1011;
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
        queue_close(1000, {});
        sent_close_ = true;
        state_ = websocket_state::disconnected;
        close_code_ = 1000;
    }
}

template <class Stream>
task<> ws_session<Stream>::close_down() {
    stop_keep_alive();
    while (pinging_) co_await writes_changed(); // the pinger uses this session
    co_await drain_writes();
    if (accepted_ && sent_close_ && !received_close_ && !connection_lost_ && !write_failed_)
        co_await await_peer_close();
    co_await drain_writes();
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_SESSION_HPP
