// SPDX-License-Identifier: MIT
// WebSocket frame header codec, masking and close payloads (RFC 6455 §5, §7.4); pure, no I/O.
#ifndef ASTER_DETAIL_WS_FRAME_HPP
#define ASTER_DETAIL_WS_FRAME_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/utf8.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace aster::detail {

/// Frame opcodes (RFC 6455 §5.2, §11.8); 3–7 and 11–15 are reserved.
enum class opcode : std::uint8_t {
    continuation = 0,
    text = 1,
    binary = 2,
    close = 8,
    ping = 9,
    pong = 10,
};

/// Control frames are those with the high opcode bit set (§5.5).
constexpr bool is_control(opcode op) noexcept { return (std::uint8_t(op) & 0x8) != 0; }

/// A decoded frame header. `op` is meaningful only after a successful parse; `raw_opcode` keeps
/// the 4 bits as sent. `mask` is all zero for an unmasked frame.
struct frame_header {
    bool fin = false;
    bool rsv1 = false, rsv2 = false, rsv3 = false;
    opcode op = opcode::continuation;
    std::uint8_t raw_opcode = 0;
    bool masked = false;
    std::uint64_t payload_length = 0;
    std::array<std::uint8_t, 4> mask{};
    std::size_t header_size = 0; // 2 to 14 bytes
};

enum class frame_parse_result { ok, need_more, protocol_error };

/// Why parse_frame_header() answered protocol_error (each is a close with 1002, §7.4.1).
enum class frame_error : std::uint8_t {
    none,
    reserved_bits,      // RSV bit set without an extension defining it (§5.2)
    unknown_opcode,     // 3–7 or 11–15 (§5.2)
    fragmented_control, // control frame with FIN clear (§5.5)
    control_too_long,   // control payload above 125 bytes (§5.5)
    non_minimal_length, // length not in the shortest form (§5.2)
    length_too_large,   // 64-bit length with the most significant bit set (§5.2)
    mask_required,      // unmasked frame from a client (§5.1)
    mask_forbidden,     // masked frame from a server (§5.1)
};

/// A short English description, suitable as a close reason.
constexpr std::string_view describe(frame_error e) noexcept {
    switch (e) {
    case frame_error::none:
        return "no error";
    case frame_error::reserved_bits:
        return "reserved bit set";
    case frame_error::unknown_opcode:
        return "unknown opcode";
    case frame_error::fragmented_control:
        return "fragmented control frame";
    case frame_error::control_too_long:
        return "control frame payload over 125 bytes";
    case frame_error::non_minimal_length:
        return "payload length not minimally encoded";
    case frame_error::length_too_large:
        return "payload length has the top bit set";
    case frame_error::mask_required:
        return "client frame not masked";
    case frame_error::mask_forbidden:
        return "server frame masked";
    }
    return "unknown frame error";
}

/// Reads one frame header (2–14 bytes) from the front of `data`; the payload is not touched.
/// need_more: `data` ends inside the header. protocol_error: `why` names the rule broken,
/// reported as soon as the bytes that break it are present. `out` is complete only on ok.
/// `expect_masked`: true on a server (client frames must be masked), false on a client (server
/// frames must not be), §5.1. `allow_rsv1`: permessage-deflate owns RSV1, which it allows on the
/// first frame of a text or binary message only (RFC 7692 §6.1).
ASTER_DECL frame_parse_result parse_frame_header(std::span<const std::uint8_t> data,
                                                 frame_header& out, frame_error& why,
                                                 bool expect_masked = true,
                                                 bool allow_rsv1 = false) noexcept;

/// XORs `payload` with the masking key in place (§5.3). `offset` is the position of
/// payload[0] within the whole frame payload, so a payload can be unmasked in pieces.
ASTER_DECL void unmask(std::span<std::uint8_t> payload, std::array<std::uint8_t, 4> key,
                       std::size_t offset = 0) noexcept;

/// The longest frame header: 2 bytes, 8 of extended length, a 4-byte mask (§5.2).
inline constexpr std::size_t max_frame_header_size = 14;

/// Writes a frame header with the shortest length encoding into `out` (room for 14 bytes) and
/// returns its size. With `mask`, sets the MASK bit and appends the key; the caller masks the
/// payload.
ASTER_DECL std::size_t encode_frame_header(std::uint8_t* out, bool fin, opcode op,
                                           std::uint64_t payload_length,
                                           const std::array<std::uint8_t, 4>* mask = nullptr,
                                           bool rsv1 = false) noexcept;

/// Close codes a peer may put in a close frame (§7.4.1, §7.4.2, IANA registry): 1000–1003,
/// 1007–1014 and 3000–4999. 1005, 1006 and 1015 are for reporting only and never sent.
constexpr bool is_valid_close_code_on_wire(std::uint16_t code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/// A parsed close payload; `reason` views the payload bytes.
struct close_payload {
    std::uint16_t code = 1005;
    std::string_view reason;
};

enum class close_parse {
    ok,
    empty,   // no body: no status code present, reported as 1005 (§7.1.5)
    invalid, // bad length, code or reason: fail the connection with 1002 (§7.4.1)
};

/// Parses a close frame body (§5.5.1): empty, or a 2-byte big-endian code that is valid on the
/// wire plus a UTF-8 reason, at most 125 bytes in all. Fills `out` on ok and empty.
ASTER_DECL close_parse parse_close_payload(std::span<const std::uint8_t> payload,
                                           close_payload& out) noexcept;

/// Writes a close body into `out` (room for 125 bytes): the code, then the longest prefix of
/// `reason` that fits in 123 bytes and is whole valid UTF-8. Returns the body size.
ASTER_DECL std::size_t encode_close_payload(std::uint8_t* out, std::uint16_t code,
                                            std::string_view reason) noexcept;

ASTER_DECL frame_parse_result parse_frame_header(std::span<const std::uint8_t> data,
                                                 frame_header& out, frame_error& why,
                                                 bool expect_masked, bool allow_rsv1) noexcept {
    why = frame_error::none;
    auto fail = [&why](frame_error e) {
        why = e;
        return frame_parse_result::protocol_error;
    };
    const std::size_t n = data.size();
    if (n < 1) return frame_parse_result::need_more;

    // Byte 0: FIN, RSV1-3, opcode. Checked before more bytes arrive, to fail fast.
    const std::uint8_t b0 = data[0];
    out.fin = (b0 & 0x80) != 0;
    out.rsv1 = (b0 & 0x40) != 0;
    out.rsv2 = (b0 & 0x20) != 0;
    out.rsv3 = (b0 & 0x10) != 0;
    out.raw_opcode = b0 & 0x0F;
    out.op = static_cast<opcode>(out.raw_opcode);
    // §5.2: a nonzero RSV bit without a negotiated extension defining it fails the connection.
    if ((out.rsv1 && !allow_rsv1) || out.rsv2 || out.rsv3) return fail(frame_error::reserved_bits);
    if ((out.raw_opcode >= 3 && out.raw_opcode <= 7) || out.raw_opcode >= 11)
        return fail(frame_error::unknown_opcode);
    const bool control = is_control(out.op);
    // RFC 7692 §6.1: the extension's RSV1 ("compressed") marks only the first frame of a data
    // message; on a control frame or a continuation it fails the connection.
    if (out.rsv1 && (control || out.op == opcode::continuation))
        return fail(frame_error::reserved_bits);
    if (control && !out.fin) return fail(frame_error::fragmented_control); // §5.5
    if (n < 2) return frame_parse_result::need_more;

    // Byte 1: MASK and the 7-bit length.
    const std::uint8_t b1 = data[1];
    out.masked = (b1 & 0x80) != 0;
    if (expect_masked && !out.masked) return fail(frame_error::mask_required);
    if (!expect_masked && out.masked) return fail(frame_error::mask_forbidden);
    const std::uint8_t len7 = b1 & 0x7F;
    if (control && len7 > 125) return fail(frame_error::control_too_long); // §5.5

    std::size_t size = 2;
    if (len7 == 126) {
        if (n < 4) return frame_parse_result::need_more;
        out.payload_length = std::uint64_t(data[2]) << 8 | data[3];
        size = 4;
        // §5.2: "the minimal number of bytes MUST be used"; 0–125 fit in the 7-bit field.
        if (out.payload_length < 126) return fail(frame_error::non_minimal_length);
    } else if (len7 == 127) {
        // §5.2: the most significant bit of the 64-bit length MUST be 0.
        if (n >= 3 && (data[2] & 0x80)) return fail(frame_error::length_too_large);
        if (n < 10) return frame_parse_result::need_more;
        std::uint64_t len = 0;
        for (std::size_t i = 2; i < 10; ++i) len = len << 8 | data[i];
        out.payload_length = len;
        size = 10;
        if (len <= 0xFFFF) return fail(frame_error::non_minimal_length);
    } else {
        out.payload_length = len7;
    }

    out.mask = {};
    if (out.masked) {
        if (n < size + 4) return frame_parse_result::need_more;
        std::memcpy(out.mask.data(), data.data() + size, 4);
        size += 4;
    }
    out.header_size = size;
    return frame_parse_result::ok;
}

ASTER_DECL void unmask(std::span<std::uint8_t> payload, std::array<std::uint8_t, 4> key,
                       std::size_t offset) noexcept {
    // The key repeated from position `offset`; built byte-wise and loaded with memcpy, so the
    // 64-bit XOR below applies key[(offset + i) % 4] to byte i on any endianness.
    std::uint8_t rotated[8];
    for (std::size_t i = 0; i < 8; ++i) rotated[i] = key[(offset + i) & 3];
    std::uint64_t wide;
    std::memcpy(&wide, rotated, 8);

    std::uint8_t* p = payload.data();
    std::size_t n = payload.size();
    for (; n >= 8; p += 8, n -= 8) { // 8 is a multiple of 4: the key phase does not move
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        word ^= wide;
        std::memcpy(p, &word, 8);
    }
    for (std::size_t i = 0; i < n; ++i) p[i] ^= rotated[i];
}

ASTER_DECL std::size_t encode_frame_header(std::uint8_t* out, bool fin, opcode op,
                                           std::uint64_t payload_length,
                                           const std::array<std::uint8_t, 4>* mask,
                                           bool rsv1) noexcept {
    out[0] = std::uint8_t((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | std::uint8_t(op));
    const std::uint8_t mask_bit = mask ? 0x80 : 0;
    std::size_t size;
    // §5.2: the shortest of the 7-bit, 16-bit and 64-bit forms.
    if (payload_length < 126) {
        out[1] = std::uint8_t(mask_bit | payload_length);
        size = 2;
    } else if (payload_length <= 0xFFFF) {
        out[1] = mask_bit | 126;
        out[2] = std::uint8_t(payload_length >> 8);
        out[3] = std::uint8_t(payload_length);
        size = 4;
    } else {
        out[1] = mask_bit | 127;
        for (int i = 0; i < 8; ++i) out[2 + i] = std::uint8_t(payload_length >> (56 - 8 * i));
        size = 10;
    }
    if (mask) {
        std::memcpy(out + size, mask->data(), 4);
        size += 4;
    }
    return size;
}

ASTER_DECL close_parse parse_close_payload(std::span<const std::uint8_t> payload,
                                           close_payload& out) noexcept {
    out = close_payload{};
    if (payload.empty()) return close_parse::empty; // §5.5.1: the body is optional
    // §5.5.1: a body starts with a 2-byte code; §5.5: control payloads are at most 125 bytes.
    if (payload.size() < 2 || payload.size() > 125) return close_parse::invalid;
    std::uint16_t code = std::uint16_t(payload[0] << 8 | payload[1]);
    if (!is_valid_close_code_on_wire(code)) return close_parse::invalid; // §7.4
    std::string_view reason(reinterpret_cast<const char*>(payload.data()) + 2, payload.size() - 2);
    if (!is_valid_utf8(reason)) return close_parse::invalid; // §5.5.1, §8.1
    out.code = code;
    out.reason = reason;
    return close_parse::ok;
}

ASTER_DECL std::size_t encode_close_payload(std::uint8_t* out, std::uint16_t code,
                                            std::string_view reason) noexcept {
    out[0] = std::uint8_t(code >> 8);
    out[1] = std::uint8_t(code);
    // §5.5: 125 bytes in all; cut at a code point boundary so the peer does not fail us (§8.1).
    std::size_t n = utf8_valid_prefix(reason.substr(0, 123));
    if (n > 0) std::memcpy(out + 2, reason.data(), n);
    return 2 + n;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_WS_FRAME_HPP
