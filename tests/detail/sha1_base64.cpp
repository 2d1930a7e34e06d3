// SPDX-License-Identifier: MIT
// Tests for detail/sha1.hpp (RFC 3174, FIPS 180 vectors) and detail/base64.hpp (RFC 4648).
#include <aster/detail/base64.hpp>
#include <aster/detail/sha1.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace sha1_base64_test {

using namespace aster::detail;

std::string hex(const aster::detail::sha1_digest& d) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (auto b : d) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

std::span<const std::uint8_t> bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST_CASE("sha1: FIPS 180 and RFC 3174 test vectors", "[sha1]") {
    CHECK(hex(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    CHECK(hex(sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    std::string test4;
    for (int i = 0; i < 10; ++i)
        test4 += "0123456701234567012345670123456701234567012345670123456701234567";
    CHECK(hex(sha1(test4)) == "dea356a2cddd90c7a7ecedc5ebb563934f460452");
    CHECK(hex(sha1("The quick brown fox jumps over the lazy dog")) ==
          "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
}

TEST_CASE("sha1: one million 'a'", "[sha1]") {
    CHECK(hex(sha1(std::string(1000000, 'a'))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");

    // The same through many small updates, in the style of RFC 3174's test 3.
    sha1_hasher h;
    std::string chunk(1000, 'a');
    for (int i = 0; i < 1000; ++i) h.update(chunk);
    CHECK(hex(h.finish()) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_CASE("sha1: any split into update() calls gives the one-shot digest", "[sha1]") {
    // Lengths around the padding boundaries (55/56 and 63/64/65 bytes) matter most.
    std::string message;
    for (int i = 0; i < 130; ++i) message += char('A' + i % 53);
    for (std::size_t len : {0u, 1u, 55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 128u, 130u}) {
        std::string_view m(message.data(), len);
        auto whole = sha1(m);
        for (std::size_t cut = 0; cut <= len; ++cut) {
            sha1_hasher h;
            h.update(m.substr(0, cut));
            h.update(m.substr(cut));
            INFO("length " << len << ", cut at " << cut);
            CHECK(h.finish() == whole);
        }
        sha1_hasher bytewise;
        for (char c : m) bytewise.update(std::string_view(&c, 1));
        CHECK(bytewise.finish() == whole);
    }
}

TEST_CASE("sha1: finish() resets the hasher for reuse", "[sha1]") {
    sha1_hasher h;
    h.update("something else first");
    (void)h.finish();
    h.update("abc");
    CHECK(hex(h.finish()) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    h.update(bytes("ab"));
    h.reset();
    CHECK(hex(h.finish()) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST_CASE("base64: RFC 4648 §10 test vectors encode", "[base64]") {
    CHECK(base64_encode(std::string_view("")) == "");
    CHECK(base64_encode(std::string_view("f")) == "Zg==");
    CHECK(base64_encode(std::string_view("fo")) == "Zm8=");
    CHECK(base64_encode(std::string_view("foo")) == "Zm9v");
    CHECK(base64_encode(std::string_view("foob")) == "Zm9vYg==");
    CHECK(base64_encode(std::string_view("fooba")) == "Zm9vYmE=");
    CHECK(base64_encode(std::string_view("foobar")) == "Zm9vYmFy");
}

TEST_CASE("base64: RFC 4648 §10 test vectors decode", "[base64]") {
    CHECK(base64_decode("") == std::string(""));
    CHECK(base64_decode("Zg==") == std::string("f"));
    CHECK(base64_decode("Zm8=") == std::string("fo"));
    CHECK(base64_decode("Zm9v") == std::string("foo"));
    CHECK(base64_decode("Zm9vYg==") == std::string("foob"));
    CHECK(base64_decode("Zm9vYmE=") == std::string("fooba"));
    CHECK(base64_decode("Zm9vYmFy") == std::string("foobar"));
}

TEST_CASE("base64: encode_into writes into a caller buffer and returns the size", "[base64]") {
    const std::uint8_t in[] = {0x00, 0xFF, 0xFE, 0x10, 0x80};
    char out[16] = {};
    std::size_t n = base64_encode_into(in, out);
    CHECK(n == base64_encoded_size(5));
    CHECK(std::string_view(out, n) == "AP/+EIA=");
    CHECK(out[n] == '\0'); // nothing written past the result
    CHECK(base64_encode(std::span<const std::uint8_t>(in)) == "AP/+EIA=");
    CHECK(base64_encoded_size(0) == 0);
    CHECK(base64_encoded_size(1) == 4);
    CHECK(base64_encoded_size(3) == 4);
    CHECK(base64_encoded_size(16) == 24);
    CHECK(base64_encoded_size(20) == 28);
}

TEST_CASE("base64: decode rejects lengths that are not a multiple of 4", "[base64]") {
    CHECK_FALSE(base64_decode("Z"));
    CHECK_FALSE(base64_decode("Zg"));
    CHECK_FALSE(base64_decode("Zg="));
    CHECK_FALSE(base64_decode("Zm9vY"));
    CHECK_FALSE(base64_decode("Zm9vYg=")); // padding may not be dropped either
    CHECK_FALSE(base64_decode("Zm9vYg"));
}

TEST_CASE("base64: decode rejects misplaced padding", "[base64]") {
    CHECK_FALSE(base64_decode("===="));
    CHECK_FALSE(base64_decode("Z==="));
    CHECK_FALSE(base64_decode("=Zg="));
    CHECK_FALSE(base64_decode("Z=g="));
    CHECK_FALSE(base64_decode("Zg==Zg==")); // padding mid-string
    CHECK_FALSE(base64_decode("Zm8=Zm9v"));
    CHECK_FALSE(base64_decode("Zm=v"));
}

TEST_CASE("base64: decode rejects characters outside the alphabet", "[base64]") {
    CHECK_FALSE(base64_decode("Zm9v\n"));
    CHECK_FALSE(base64_decode(" Zm9"));
    CHECK_FALSE(base64_decode("Zm9-")); // base64url alphabet (RFC 4648 §5) is not accepted
    CHECK_FALSE(base64_decode("Zm9_"));
    CHECK_FALSE(base64_decode(std::string_view("Zm\0v", 4)));
    // Every byte value in every position of a quantum: exactly the 64 alphabet characters pass
    // (and '=' as the last one, which is padding: "AAA=" is the canonical form of two zeros).
    const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int pos = 0; pos < 4; ++pos)
        for (int c = 0; c < 256; ++c) {
            std::string s = "AAAA";
            s[std::size_t(pos)] = char(c);
            bool valid = alphabet.find(char(c)) != std::string_view::npos || (pos == 3 && c == '=');
            INFO("position " << pos << ", byte " << c);
            CHECK(base64_decode(s).has_value() == valid);
        }
}

TEST_CASE("base64: decode rejects non-canonical trailing bits", "[base64]") {
    // RFC 4648 §3.5: "Zh==" and "Zm9=" carry nonzero pad bits; their canonical forms decode.
    CHECK_FALSE(base64_decode("Zh=="));
    CHECK_FALSE(base64_decode("Zv=="));
    CHECK_FALSE(base64_decode("Zm9="));
    CHECK_FALSE(base64_decode("Zm/="));
    CHECK(base64_decode("Zg==") == std::string("f"));
    CHECK(base64_decode("Zm8=") == std::string("fo"));
    // Exactly one of each 16 (one pad) or 4 (two pads) final characters is canonical.
    int canonical_one = 0, canonical_two = 0;
    const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (char c : alphabet) {
        canonical_two += base64_decode(std::string("Z") + c + "==").has_value();
        canonical_one += base64_decode(std::string("Zm") + c + "=").has_value();
    }
    CHECK(canonical_two == 4);
    CHECK(canonical_one == 16);
}

TEST_CASE("base64: random round trips", "[base64]") {
    std::mt19937 rng(20240501);
    for (int round = 0; round < 500; ++round) {
        std::vector<std::uint8_t> data(rng() % 100);
        for (auto& b : data) b = std::uint8_t(rng());
        std::string encoded = base64_encode(std::span<const std::uint8_t>(data));
        REQUIRE(encoded.size() == base64_encoded_size(data.size()));
        auto decoded = base64_decode(encoded);
        REQUIRE(decoded);
        CHECK(std::vector<std::uint8_t>(decoded->begin(), decoded->end()) == data);

        std::vector<std::uint8_t> into(base64_decoded_size_max(encoded.size()));
        auto n = base64_decode_into(encoded, into.data());
        REQUIRE(n);
        into.resize(*n);
        CHECK(into == data);
    }
}

} // namespace sha1_base64_test
