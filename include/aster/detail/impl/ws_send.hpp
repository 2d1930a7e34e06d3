// SPDX-License-Identifier: MIT
// ws_session's send queue: frames queued while a handler runs, written in one write.
#ifndef ASTER_DETAIL_IMPL_WS_SEND_HPP
#define ASTER_DETAIL_IMPL_WS_SEND_HPP

namespace aster::detail {

// Per batch of frames, not per byte: one relaxed store when the queue's size changes.
template <async_stream Stream>
void ws_session<Stream>::account() noexcept {
    if (!counters_) return;
    const std::size_t now = queued();
    if (now > accounted_) counters_->buffered_bytes.add(now - accounted_);
    else counters_->buffered_bytes.sub(accounted_ - now);
    accounted_ = now;
}

template <async_stream Stream>
task<> ws_session<Stream>::writes_changed() {
    if (!writes_changed_) writes_changed_ = std::make_unique<async_event>(stream_.get_executor());
    return writes_changed_->wait();
}

template <async_stream Stream>
void ws_session<Stream>::queue_frame(opcode op, std::string_view payload, bool rsv1) {
    std::uint8_t header[14];
    std::size_t n = encode_frame_header(header, true, op, payload.size(), nullptr, rsv1);
    pending_.append(reinterpret_cast<const char*>(header), n);
    pending_.append(payload);
    schedule_flush();
}

template <async_stream Stream>
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

template <async_stream Stream>
void ws_session<Stream>::queue_close(aster::close_code code, std::string_view reason) {
    std::uint8_t body[125];
    // §7.1.5: 1005 is a report of no code, and is sent as a close frame without a body.
    std::size_t n = code == close_code::no_status_rcvd
                        ? 0
                        : encode_close_payload(body, aster::code(code), reason);
    queue_frame(opcode::close, std::string_view(reinterpret_cast<const char*>(body), n));
}

// The answer to the last message of a read batch, with everything queued before it: one
// write_some on the non-blocking socket; what it does not take goes out asynchronously.
template <async_stream Stream>
void ws_session<Stream>::write_now() {
    answer_now_ = false;
    immediate_io now = try_write(stream_, net::buffer(pending_));
    sent_.add(now.n);
    if (now.ec) {
        write_failed_ = true;
        pending_.clear();
    } else if (now.n == pending_.size()) {
        pending_.clear();
        read_after_yield_ = true;
    } else {
        pending_.erase(0, now.n);
        start_write();
    }
    account();
    notify_writes();
}

// Frames queued while a handler runs go out together once it yields: one write per batch.
template <async_stream Stream>
void ws_session<Stream>::schedule_flush() {
    if constexpr (waitable_stream<Stream>) {
        if (answer_now_ && !writing_ && !write_failed_ && !pending_.empty() && !shared_pending()) {
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

template <async_stream Stream>
void ws_session<Stream>::start_write() {
    if (writing_ || !has_unsent()) return;
    if (write_failed_) {
        drop_unsent();
        account();
        return;
    }
    writing_ = true;
    inflight_.swap(pending_);
    auto done = [this](std::error_code ec, std::size_t) {
        writing_ = false;
        inflight_.clear();
        if (topic_) topic_->queue.finish_write();
        if (inflight_.capacity() > keep_buffer_up_to) std::string().swap(inflight_);
        if (ec) {
            write_failed_ = true;
            drop_unsent();
        }
        account();
        notify_writes();
        if (topics_ && topics_->has_waiters()) topics_->room_made();
        start_write();
    };
    if (shared_pending()) {
        // Own frames and topic frames in queue order, one gathering write.
        const auto& buffers = topic_->queue.start_write(inflight_);
        if (buffers.size() == 1) // small frames: one run, and a plain send
            net::async_write(stream_, buffers.front(), count_progress{&sent_}, std::move(done));
        else
            net::async_write(stream_, std::span<const net::const_buffer>(buffers),
                             count_progress{&sent_}, std::move(done));
    } else {
        net::async_write(stream_, net::buffer(inflight_), count_progress{&sent_}, std::move(done));
    }
}

template <async_stream Stream>
task<> ws_session<Stream>::drain_writes() {
    while (writing_ || flush_scheduled_ || (has_unsent() && !write_failed_)) {
        if (!writing_ && !flush_scheduled_) start_write();
        if (!writing_ && !flush_scheduled_) break;
        co_await writes_changed();
    }
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_SEND_HPP
