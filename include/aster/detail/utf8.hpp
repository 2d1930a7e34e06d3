// SPDX-License-Identifier: MIT
// Incremental, fail-fast UTF-8 validation for WebSocket text (RFC 6455 §8.1, RFC 3629 §4).
#ifndef ASTER_DETAIL_UTF8_HPP
#define ASTER_DETAIL_UTF8_HPP

#include <aster/detail/config.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace aster::detail {

/// Validates UTF-8 fed in pieces (e.g. the frames of one message), keeping only the state of a
/// code point cut between pieces. Accepts exactly the well-formed sequences of Unicode Table 3-7:
/// no overlongs, no surrogates (U+D800..DFFF), nothing above U+10FFFF.
/// feed() fails as soon as the bytes so far cannot begin valid UTF-8, so a bad message is
/// rejected without waiting for its end (RFC 6455 §8.1); a failure sticks until reset().
class utf8_validator {
public:
    /// False once the bytes fed since reset() are not a prefix of any valid UTF-8 string.
    bool feed(std::span<const std::uint8_t> data) noexcept;
    bool feed(std::string_view data) noexcept {
        return feed({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
    }
    /// True when nothing failed and no code point is left unfinished.
    bool complete() const noexcept { return need_ == 0 && !failed_; }
    bool failed() const noexcept { return failed_; }
    void reset() noexcept { *this = utf8_validator{}; }

private:
    bool fail() noexcept {
        failed_ = true;
        return false;
    }

    std::uint8_t need_ = 0;  // continuation bytes still expected in the current code point
    std::uint8_t lo_ = 0x80; // allowed range of the next continuation byte: Table 3-7 narrows
    std::uint8_t hi_ = 0xBF; // it only for the byte after E0, ED, F0 and F4
    bool failed_ = false;
};

/// True when `s` is whole, well-formed UTF-8.
ASTER_DECL bool is_valid_utf8(std::string_view s) noexcept;

/// Length of the longest prefix of `s` that is whole, well-formed UTF-8 (byte at a time: meant
/// for short strings such as close reasons).
ASTER_DECL std::size_t utf8_valid_prefix(std::string_view s) noexcept;

ASTER_DECL bool utf8_validator::feed(std::span<const std::uint8_t> data) noexcept {
    if (failed_) return false;
    const std::uint8_t* p = data.data();
    const std::uint8_t* const end = p + data.size();
    constexpr std::uint64_t high_bits = 0x8080808080808080u;
    // A code point cut by the previous piece: finish it byte by byte.
    while (need_ > 0 && p != end) {
        std::uint8_t b = *p++;
        if (b < lo_ || b > hi_) return fail();
        lo_ = 0x80;
        hi_ = 0xBF;
        --need_;
    }
    while (p != end) {
        // ASCII fast path: 8 bytes per step, then 32 once a word was all ASCII, so ASCII text
        // costs about what a copy does while short runs between other letters stay cheap.
        if (end - p >= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, 8);
            if (std::uint64_t high = word & high_bits; high != 0) {
                if constexpr (std::endian::native == std::endian::little)
                    p += std::countr_zero(high) / 8; // skip the ASCII bytes before the lead
            } else {
                p += 8;
                for (std::uint64_t w[4]; end - p >= 32; p += 32) {
                    std::memcpy(w, p, 32);
                    if (((w[0] | w[1] | w[2] | w[3]) & high_bits) != 0) break;
                }
                continue;
            }
        }
        if (p == end) break;
        std::uint8_t b = *p++;
        if (b < 0x80) continue;
        // Table 3-7: the lead byte fixes the length and the range of the second byte.
        std::uint8_t need, lo = 0x80, hi = 0xBF;
        if (b < 0xC2 || b > 0xF4) { // C0, C1 would be overlong; F5..FF beyond U+10FFFF
            return fail();
        } else if (b < 0xE0) {
            need = 1;
        } else if (b < 0xF0) {
            need = 2;
            if (b == 0xE0) lo = 0xA0; // below: overlong (< U+0800)
            if (b == 0xED) hi = 0x9F; // above: surrogates U+D800..DFFF
        } else {
            need = 3;
            if (b == 0xF0) lo = 0x90; // below: overlong (< U+10000)
            if (b == 0xF4) hi = 0x8F; // above: beyond U+10FFFF
        }
        if (std::size_t(end - p) < need) { // the code point continues in the next piece
            while (p != end) {
                if (*p < lo || *p > hi) return fail();
                ++p;
                lo = 0x80;
                hi = 0xBF;
                --need;
            }
            need_ = need;
            lo_ = lo;
            hi_ = hi;
            break;
        }
        // The whole sequence is here: check it in place, saving no state.
        if (p[0] < lo || p[0] > hi) return fail();
        if (need >= 2 && (p[1] & 0xC0) != 0x80) return fail();
        if (need == 3 && (p[2] & 0xC0) != 0x80) return fail();
        p += need;
    }
    return true;
}

ASTER_DECL bool is_valid_utf8(std::string_view s) noexcept {
    utf8_validator v;
    return v.feed(s) && v.complete();
}

ASTER_DECL std::size_t utf8_valid_prefix(std::string_view s) noexcept {
    utf8_validator v;
    std::size_t good = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (!v.feed(s.substr(i, 1))) break;
        if (v.complete()) good = i + 1;
    }
    return good;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_UTF8_HPP
