// SPDX-License-Identifier: MIT
// SHA-1 (RFC 3174 / FIPS 180-4), only for the WebSocket accept key (RFC 6455 §4.2.2).
#ifndef ASTER_DETAIL_SHA1_HPP
#define ASTER_DETAIL_SHA1_HPP

#include <aster/detail/config.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace aster::detail {

using sha1_digest = std::array<std::uint8_t, 20>;

/// Incremental SHA-1: update() any number of times, then finish() once (it also resets).
/// SHA-1 is broken for collision resistance; RFC 6455 uses it only as a fixed transform.
class sha1_hasher {
public:
    sha1_hasher() noexcept { reset(); }

    void reset() noexcept;
    void update(std::span<const std::uint8_t> data) noexcept;
    void update(std::string_view data) noexcept {
        update({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
    }
    sha1_digest finish() noexcept;

private:
    void compress(const std::uint8_t* block) noexcept;

    std::array<std::uint32_t, 5> state_{};
    std::array<std::uint8_t, 64> block_{};
    std::size_t buffered_ = 0; // bytes waiting in block_
    std::uint64_t length_ = 0; // message length in bytes so far
};

/// SHA-1 of a whole message.
ASTER_DECL sha1_digest sha1(std::string_view data) noexcept;

ASTER_DECL void sha1_hasher::reset() noexcept {
    // FIPS 180-4 §5.3.1: initial hash value.
    state_ = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    buffered_ = 0;
    length_ = 0;
}

ASTER_DECL void sha1_hasher::compress(const std::uint8_t* block) noexcept {
    // FIPS 180-4 §6.1.2, with the 80-word schedule kept as a 16-word ring (RFC 3174 §7 method 2).
    std::uint32_t w[16];
    for (int t = 0; t < 16; ++t)
        w[t] = std::uint32_t(block[4 * t]) << 24 | std::uint32_t(block[4 * t + 1]) << 16 |
               std::uint32_t(block[4 * t + 2]) << 8 | std::uint32_t(block[4 * t + 3]);
    std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3], e = state_[4];
    for (int t = 0; t < 80; ++t) {
        if (t >= 16) {
            std::uint32_t x = w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15];
            w[t & 15] = std::rotl(x, 1);
        }
        std::uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999u;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        std::uint32_t temp = std::rotl(a, 5) + f + e + k + w[t & 15];
        e = d;
        d = c;
        c = std::rotl(b, 30);
        b = a;
        a = temp;
    }
    state_[0] += a;
    state_[1] += b;
    state_[2] += c;
    state_[3] += d;
    state_[4] += e;
}

ASTER_DECL void sha1_hasher::update(std::span<const std::uint8_t> data) noexcept {
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    length_ += n;
    if (buffered_ > 0) {
        std::size_t take = n < 64 - buffered_ ? n : 64 - buffered_;
        std::memcpy(block_.data() + buffered_, p, take);
        buffered_ += take;
        p += take;
        n -= take;
        if (buffered_ < 64) return;
        compress(block_.data());
        buffered_ = 0;
    }
    for (; n >= 64; p += 64, n -= 64) compress(p); // whole blocks straight from the input
    if (n > 0) std::memcpy(block_.data(), p, n);
    buffered_ = n;
}

ASTER_DECL sha1_digest sha1_hasher::finish() noexcept {
    // FIPS 180-4 §5.1.1: append 0x80, zeros up to 56 mod 64, then the bit length big-endian.
    std::uint64_t bits = length_ * 8;
    block_[buffered_++] = 0x80;
    if (buffered_ > 56) {
        std::memset(block_.data() + buffered_, 0, 64 - buffered_);
        compress(block_.data());
        buffered_ = 0;
    }
    std::memset(block_.data() + buffered_, 0, 56 - buffered_);
    for (std::size_t i = 0; i < 8; ++i) block_[56 + i] = std::uint8_t(bits >> (56 - 8 * i));
    compress(block_.data());
    sha1_digest out;
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 4; ++j)
            out[4 * i + j] = std::uint8_t(state_[i] >> (24 - 8 * j));
    reset();
    return out;
}

ASTER_DECL sha1_digest sha1(std::string_view data) noexcept {
    sha1_hasher h;
    h.update(data);
    return h.finish();
}

} // namespace aster::detail

#endif // ASTER_DETAIL_SHA1_HPP
