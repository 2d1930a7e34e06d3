// SPDX-License-Identifier: MIT
// ws_reader: one end's incoming WebSocket bytes made messages and control frames, with no I/O
// (RFC 6455 §5, §8; RFC 7692 §7.2.2). The server's session and the test client's both read
// through it; the fuzzers drive it with plain bytes.
#ifndef ASTER_DETAIL_WS_READER_HPP
#define ASTER_DETAIL_WS_READER_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/message_buffer.hpp>
#include <aster/detail/utf8.hpp>
#include <aster/detail/ws_deflate.hpp>
#include <aster/detail/ws_frame.hpp>
#include <aster/status.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace aster::detail {

class deflate_codec; // ws_deflate.hpp, with zlib only

/// Reads frames from the front of a buffer of received bytes, one event at a time:
/// - `message`: a whole message, text checked as UTF-8 as it arrived (§8.1) and inflated when
///   compressed; data() views the buffer (one plain frame) or the reader's own assembly buffer;
/// - `ping`, `pong`: payload() views the buffer;
/// - `close`: the peer's close frame, its code (1005 when it has none) and reason;
/// - `failed`: the bytes broke a rule; close_code() and reason() are what to close with
///   (protocol_error, invalid_frame_payload_data, message_too_big, internal_error when out of
///   memory, try_again_later when the memory budget is spent), the reason the rule's own
///   description (describe(frame_error) for a malformed header);
/// - `need_more`: the frames in the buffer are used up (fragments of a message taken in) and the
///   next is not whole; needed() is the size the rest of the buffer must reach for it (0 while
///   its header itself is incomplete);
/// - `inflating`: a long compressed message was inflated one slice; call read() again (after
///   letting other work run), with the buffer left as it is.
/// Views stay valid until the caller moves or reuses the buffer's bytes, or calls read() again.
class ws_reader {
public:
    enum class event : std::uint8_t { need_more, message, ping, pong, close, failed, inflating };

    struct settings {
        bool from_client = true; // a server reads masked frames; a client reads unmasked ones
        std::size_t max_message_bytes = std::size_t(-1);
    };

    explicit ws_reader(settings s) noexcept : s_(s) {}

    /// permessage-deflate was agreed: compressed messages (RSV1) go through `codec`.
    void use_deflate(deflate_codec* codec) noexcept { deflate_ = codec; }
    /// Frames so far take RSV1 (a message's first frame): compression was agreed.
    bool compressing() const noexcept { return deflate_ != nullptr; }
    /// Large messages reserve their room in `budget`, beyond `free_up_to` bytes.
    void charge_to(memory_budget* budget, std::size_t free_up_to) noexcept {
        assembly_.charge_to(budget, free_up_to);
    }

    /// Reads frames from `bytes` (unmasking payloads in place) up to the next event; `used` says
    /// how many bytes it consumed.
    event read(std::span<std::uint8_t> bytes, std::size_t& used);

    bool text() const noexcept { return text_; }
    /// The last message came compressed (RSV1) and was inflated.
    bool compressed() const noexcept { return compressed_; }
    std::string_view data() const noexcept { return data_; }
    std::string_view payload() const noexcept { return data_; }
    aster::close_code close_code() const noexcept { return code_; }
    std::string_view reason() const noexcept { return reason_; }
    std::size_t needed() const noexcept { return needed_; }
    /// The bytes the last event's frame took on the wire (its header included).
    std::size_t frame_size() const noexcept { return frame_size_; }
    /// The payload bytes on the wire of the last message (compressed, when it was).
    std::size_t wire_bytes() const noexcept { return wire_bytes_; }
    /// A fragmented (or slice by slice inflated) message is under way.
    bool in_message() const noexcept { return in_message_; }
    /// Frees the assembly buffer when it grew past `keep` bytes (an idle connection keeps
    /// little).
    void trim(std::size_t keep) noexcept {
        if (assembly_.capacity() > keep) assembly_.release();
    }

private:
    event fail(aster::close_code code, std::string_view why) noexcept {
        code_ = code;
        reason_ = why;
        in_message_ = pending_inflate_ = false;
        return event::failed;
    }
    event protocol(std::string_view why) noexcept { return fail(close_code::protocol_error, why); }
    event bad_data(std::string_view why) noexcept {
        return fail(close_code::invalid_frame_payload_data, why);
    }
    event too_big() noexcept { return fail(close_code::message_too_big, "message too big"); }
    event message_frame(const frame_header& h, std::span<std::uint8_t> payload);
    event inflate_step();

    settings s_;
    deflate_codec* deflate_ = nullptr;
    message_buffer assembly_; // a fragmented or compressed message
    utf8_validator utf8_;
    std::string_view data_, reason_;
    aster::close_code code_{};
    std::size_t needed_ = 0, frame_size_ = 0, wire_bytes_ = 0;
    bool text_ = false, in_message_ = false, compressed_ = false;
    // A compressed frame part-way through inflating: its rest, and whether it ends the message.
    bool pending_inflate_ = false, pending_fin_ = false;
    std::span<const std::uint8_t> pending_;
};

} // namespace aster::detail

#if ASTER_HEADER_ONLY
#include <aster/detail/impl/ws_reader.ipp>
#endif

#endif // ASTER_DETAIL_WS_READER_HPP
