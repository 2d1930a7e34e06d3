// SPDX-License-Identifier: MIT
// Base64 with the standard alphabet and padding (RFC 4648 §4); the decoder is strict.
#ifndef ASTER_DETAIL_BASE64_HPP
#define ASTER_DETAIL_BASE64_HPP

#include <aster/detail/config.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace aster::detail {

/// Characters base64_encode_into() writes for `n` input bytes (always padded to a multiple of 4).
constexpr std::size_t base64_encoded_size(std::size_t n) noexcept { return (n + 2) / 3 * 4; }

/// Upper bound on the bytes base64_decode_into() writes for `n` input characters.
constexpr std::size_t base64_decoded_size_max(std::size_t n) noexcept { return n / 4 * 3; }

/// Encodes into `out`, which must hold base64_encoded_size(in.size()) chars; returns that count.
ASTER_DECL std::size_t base64_encode_into(std::span<const std::uint8_t> in, char* out) noexcept;

ASTER_DECL std::string base64_encode(std::span<const std::uint8_t> in);
ASTER_DECL std::string base64_encode(std::string_view in);

/// Decodes into `out` (room for base64_decoded_size_max(in.size()) bytes); returns the byte count,
/// or nullopt unless `in` is canonical base64 (see base64_decode). `out` may be partly written.
ASTER_DECL std::optional<std::size_t> base64_decode_into(std::string_view in,
                                                         std::uint8_t* out) noexcept;

/// Strict decode: length a multiple of 4, padding required and only at the end, no whitespace or
/// characters outside the alphabet, and unused trailing bits zero (RFC 4648 §3.5), so that every
/// byte string has exactly one accepted encoding.
ASTER_DECL std::optional<std::string> base64_decode(std::string_view in);

namespace base64_tables {

inline constexpr char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline constexpr std::uint8_t invalid = 0xFF;

// Character → 6-bit value, `invalid` for everything else ('=' included; padding is positional).
inline constexpr std::array<std::uint8_t, 256> values = [] {
    std::array<std::uint8_t, 256> t{};
    for (auto& v : t) v = invalid;
    for (std::uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
    return t;
}();

} // namespace base64_tables

ASTER_DECL std::size_t base64_encode_into(std::span<const std::uint8_t> in, char* out) noexcept {
    const auto* a = base64_tables::alphabet;
    const std::uint8_t* p = in.data();
    std::size_t n = in.size();
    char* o = out;
    for (; n >= 3; p += 3, n -= 3) {
        std::uint32_t v = std::uint32_t(p[0]) << 16 | std::uint32_t(p[1]) << 8 | p[2];
        *o++ = a[v >> 18];
        *o++ = a[(v >> 12) & 63];
        *o++ = a[(v >> 6) & 63];
        *o++ = a[v & 63];
    }
    if (n > 0) { // RFC 4648 §4: a final 1 or 2 bytes give 2 or 3 characters plus padding
        std::uint32_t v = std::uint32_t(p[0]) << 16 | (n == 2 ? std::uint32_t(p[1]) << 8 : 0);
        *o++ = a[v >> 18];
        *o++ = a[(v >> 12) & 63];
        *o++ = n == 2 ? a[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    return std::size_t(o - out);
}

ASTER_DECL std::string base64_encode(std::span<const std::uint8_t> in) {
    std::string s(base64_encoded_size(in.size()), '\0');
    base64_encode_into(in, s.data());
    return s;
}

ASTER_DECL std::string base64_encode(std::string_view in) {
    return base64_encode(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(in.data()), in.size()));
}

ASTER_DECL std::optional<std::size_t> base64_decode_into(std::string_view in,
                                                         std::uint8_t* out) noexcept {
    const auto& t = base64_tables::values;
    if (in.size() % 4 != 0) return std::nullopt;
    std::size_t pad = 0;
    if (!in.empty() && in.back() == '=') pad = in[in.size() - 2] == '=' ? 2 : 1;
    std::size_t full = in.size() - (pad ? 4 : 0); // characters in unpadded quanta
    std::uint8_t* o = out;
    for (std::size_t i = 0; i < full; i += 4) {
        std::uint8_t c0 = t[std::uint8_t(in[i])], c1 = t[std::uint8_t(in[i + 1])],
                     c2 = t[std::uint8_t(in[i + 2])], c3 = t[std::uint8_t(in[i + 3])];
        if ((c0 | c1 | c2 | c3) & 0xC0) return std::nullopt; // only `invalid` has high bits
        std::uint32_t v = std::uint32_t(c0) << 18 | std::uint32_t(c1) << 12 | c2 << 6 | c3;
        *o++ = std::uint8_t(v >> 16);
        *o++ = std::uint8_t(v >> 8);
        *o++ = std::uint8_t(v);
    }
    if (pad) {
        std::string_view last = in.substr(full);
        std::uint8_t c0 = t[std::uint8_t(last[0])], c1 = t[std::uint8_t(last[1])];
        std::uint8_t c2 = pad == 1 ? t[std::uint8_t(last[2])] : 0;
        if ((c0 | c1 | c2) & 0xC0) return std::nullopt; // also catches "==" before position 2
        // RFC 4648 §3.5: the bits padding leaves over must be zero, or two strings decode alike.
        if (pad == 2 ? (c1 & 0x0F) != 0 : (c2 & 0x03) != 0) return std::nullopt;
        *o++ = std::uint8_t(c0 << 2 | c1 >> 4);
        if (pad == 1) *o++ = std::uint8_t(c1 << 4 | c2 >> 2);
    }
    return std::size_t(o - out);
}

ASTER_DECL std::optional<std::string> base64_decode(std::string_view in) {
    std::string s(base64_decoded_size_max(in.size()), '\0');
    auto n = base64_decode_into(in, reinterpret_cast<std::uint8_t*>(s.data()));
    if (!n) return std::nullopt;
    s.resize(*n);
    return s;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_BASE64_HPP
