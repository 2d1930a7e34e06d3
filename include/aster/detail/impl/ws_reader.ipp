// SPDX-License-Identifier: MIT
// ws_reader's frame walk, message assembly and inflation.
#ifndef ASTER_DETAIL_IMPL_WS_READER_IPP
#define ASTER_DETAIL_IMPL_WS_READER_IPP

namespace aster::detail {

ASTER_ENGINE ws_reader::event ws_reader::read(std::span<std::uint8_t> bytes, std::size_t& used) {
    used = 0;
    if (pending_inflate_) {
        event e = inflate_step();
        if (e != event::need_more) return e; // else: the frame is done, the message is not
    }
    for (;;) {
        std::span<std::uint8_t> rest = bytes.subspan(used);
        frame_header h{};
        frame_error why{};
        // §5.1: a client must mask, a server must not; §5.2: no RSV bits without an extension
        // that defines them (permessage-deflate: RSV1 on a message's first frame, RFC 7692 §6).
        auto parsed = parse_frame_header(rest, h, why, s_.from_client, deflate_ != nullptr);
        if (parsed == frame_parse_result::protocol_error) return protocol(describe(why));
        needed_ = 0;
        if (parsed == frame_parse_result::need_more) return event::need_more;
        if (h.payload_length > s_.max_message_bytes) return too_big();
        const std::size_t total = h.header_size + std::size_t(h.payload_length);
        if (rest.size() < total) {
            needed_ = total;
            return event::need_more;
        }
        auto payload = rest.subspan(h.header_size, std::size_t(h.payload_length));
        if (h.masked) unmask(payload, h.mask);
        used += total;
        frame_size_ = total;
        data_ = std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size());
        switch (h.op) {
        case opcode::ping:
            return event::ping;
        case opcode::pong:
            return event::pong;
        case opcode::close: {
            close_payload parsed_close{};
            auto kind = parse_close_payload(payload, parsed_close);
            if (kind == close_parse::invalid) return protocol("invalid close frame");
            code_ = kind == close_parse::empty ? close_code::no_status_rcvd
                                               : aster::close_code(parsed_close.code);
            reason_ = kind == close_parse::empty ? std::string_view() : parsed_close.reason;
            return event::close;
        }
        case opcode::text:
        case opcode::binary:
        case opcode::continuation:
            if (event e = message_frame(h, payload); e != event::need_more) return e;
            continue; // a fragment taken in: on to the next frame
        }
        return protocol("unknown opcode");
    }
}

ASTER_ENGINE ws_reader::event ws_reader::message_frame(const frame_header& h,
                                                       std::span<std::uint8_t> payload) {
    const std::string_view bytes(reinterpret_cast<const char*>(payload.data()), payload.size());
    if (h.op == opcode::continuation) {
        if (!in_message_) return protocol("continuation frame without a message");
        wire_bytes_ += payload.size();
    } else {
        if (in_message_) return protocol("new message inside a fragmented one");
        text_ = h.op == opcode::text;
        compressed_ = h.rsv1; // RFC 7692 §6: set on the first frame of a compressed message
        wire_bytes_ = payload.size();
        assembly_.clear();
        utf8_.reset();
        if (h.fin && !compressed_) {
            // The common case: one plain frame, handed out as a view of the buffer.
            if (text_ && !is_valid_utf8(bytes)) return bad_data("invalid UTF-8");
            data_ = bytes;
            return event::message;
        }
        in_message_ = true;
    }
    if (compressed_) {
        pending_ = payload;
        pending_fin_ = h.fin;
        pending_inflate_ = true;
        return inflate_step();
    }
    if (assembly_.size() + payload.size() > s_.max_message_bytes) return too_big();
    // §8.1: fail as soon as the text cannot be UTF-8, even mid-message.
    if (text_ && !utf8_.feed(bytes)) return bad_data("invalid UTF-8");
    if (!assembly_.append(bytes, s_.max_message_bytes))
        return fail(close_code::try_again_later, "server busy, try again later");
    if (!h.fin) return event::need_more;
    if (text_ && !utf8_.complete()) return bad_data("invalid UTF-8");
    in_message_ = false;
    data_ = assembly_.view();
    return event::message;
}

// One slice of the frame being inflated (the loop runs other work between slices).
ASTER_ENGINE ws_reader::event ws_reader::inflate_step() {
#ifdef ASTER_HAS_ZLIB
    const std::size_t before = assembly_.size();
    auto status = deflate_->inflate(pending_, pending_fin_, assembly_, s_.max_message_bytes);
    switch (status) {
    case deflate_codec::status::ok:
    case deflate_codec::status::more:
        break;
    case deflate_codec::status::too_big: // the decompressed size counts (zip bombs)
        return too_big();
    case deflate_codec::status::bad_data: // not a DEFLATE stream: the payload is invalid data
        return bad_data("invalid compressed data");
    case deflate_codec::status::no_memory:
        return fail(close_code::internal_error, "out of memory");
    case deflate_codec::status::no_budget: // §7.4.1: a temporary condition
        return fail(close_code::try_again_later, "server busy, try again later");
    }
    // §8.1 on what the bytes decompress to, failing as soon as they cannot be UTF-8.
    if (text_ && !utf8_.feed(assembly_.view().substr(before))) return bad_data("invalid UTF-8");
    if (status == deflate_codec::status::more) return event::inflating;
    pending_inflate_ = false;
    if (!pending_fin_) return event::need_more;
    if (text_ && !utf8_.complete()) return bad_data("invalid UTF-8");
    in_message_ = false;
    data_ = assembly_.view();
    return event::message;
#else
    return protocol("compression not negotiated"); // RSV1 is refused before this without zlib
#endif
}

} // namespace aster::detail

#endif // ASTER_DETAIL_IMPL_WS_READER_IPP
