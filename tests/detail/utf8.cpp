// SPDX-License-Identifier: MIT
// Tests for detail/utf8.hpp: Table 3-7 well-formedness, incremental feeding, fail-fast, fuzzing.
#include <aster/detail/utf8.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace utf8_test {

using namespace aster::detail;

std::string from_bytes(std::initializer_list<int> bytes) {
    std::string s;
    for (int b : bytes) s += char(b);
    return s;
}

std::string encode(std::uint32_t cp) {
    std::string s;
    if (cp < 0x80) {
        s += char(cp);
    } else if (cp < 0x800) {
        s += char(0xC0 | cp >> 6);
        s += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        s += char(0xE0 | cp >> 12);
        s += char(0x80 | (cp >> 6 & 0x3F));
        s += char(0x80 | (cp & 0x3F));
    } else {
        s += char(0xF0 | cp >> 18);
        s += char(0x80 | (cp >> 12 & 0x3F));
        s += char(0x80 | (cp >> 6 & 0x3F));
        s += char(0x80 | (cp & 0x3F));
    }
    return s;
}

// Feeds one byte at a time; returns the index of the byte at which feed() first fails, or -1.
long fail_index_bytewise(std::string_view s) {
    utf8_validator v;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (!v.feed(s.substr(i, 1))) return long(i);
    return -1;
}

// Reference, written independently of Table 3-7: decode each code point from its bit pattern,
// and treat a partial sequence as failed once no continuation could make it a valid scalar
// value (not overlong, not a surrogate, at most U+10FFFF).
struct reference_result {
    long fail_index = -1; // first byte after which the input cannot be a prefix of valid UTF-8
    bool valid = false;   // whole and well-formed
};

bool completion_possible(std::uint32_t partial, int missing_bits, int length) {
    static constexpr std::uint32_t min_value[] = {0, 0, 0x80, 0x800, 0x10000};
    std::uint64_t lo = std::uint64_t(partial) << missing_bits;
    std::uint64_t hi = lo | ((std::uint64_t(1) << missing_bits) - 1);
    auto overlaps = [&](std::uint64_t a, std::uint64_t b) {
        return std::max(lo, a) <= std::min(hi, b);
    };
    std::uint64_t min = min_value[length];
    return overlaps(min, 0xD7FF) || overlaps(std::max<std::uint64_t>(min, 0xE000), 0x10FFFF);
}

reference_result reference_check(std::string_view s) {
    reference_result r;
    std::size_t i = 0;
    while (i < s.size()) {
        std::uint8_t lead = std::uint8_t(s[i]);
        int length;
        std::uint32_t value;
        if (lead < 0x80) {
            length = 1;
            value = lead;
        } else if ((lead & 0xE0) == 0xC0) {
            length = 2;
            value = lead & 0x1F;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3;
            value = lead & 0x0F;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4;
            value = lead & 0x07;
        } else {
            r.fail_index = long(i);
            return r;
        }
        for (int k = 1;; ++k) {
            if (!completion_possible(value, 6 * (length - k), length)) {
                r.fail_index = long(i + std::size_t(k) - 1);
                return r;
            }
            if (k == length) break;
            if (i + std::size_t(k) >= s.size()) return r; // a viable but unfinished code point
            std::uint8_t c = std::uint8_t(s[i + std::size_t(k)]);
            if ((c & 0xC0) != 0x80) {
                r.fail_index = long(i + std::size_t(k));
                return r;
            }
            value = value << 6 | (c & 0x3F);
        }
        i += std::size_t(length);
    }
    r.valid = true;
    return r;
}

// Random byte strings that are mostly valid, with the kinds of damage real bugs come from.
std::string near_valid_string(std::mt19937& rng) {
    auto pick = [&rng](std::uint32_t lo, std::uint32_t hi) {
        return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
    };
    static constexpr std::uint32_t edges[] = {0x00,    0x7F,     0x80,    0x7FF,  0x800,
                                              0xD7FF,  0xE000,   0xFFFD,  0xFFFF, 0x10000,
                                              0xFFFFF, 0x100000, 0x10FFFF};
    // Half the strings are valid tokens only, most others carry one damaged token, a few are
    // any mix; a fifth are then cut at a random byte, often inside a code point.
    std::uint32_t tokens = pick(0, 12);
    std::uint32_t damaged = pick(0, 1) ? tokens : pick(0, tokens); // `tokens`: none damaged
    bool mixed = pick(0, 7) == 0;
    std::string s;
    for (std::uint32_t t = 0; t < tokens; ++t) {
        switch (mixed ? pick(0, 9) : t == damaged ? pick(4, 9) : pick(0, 3)) {
        case 0: // ASCII run, sometimes long enough to reach the 8- and 32-byte fast paths
            for (std::uint32_t n = pick(1, pick(0, 3) ? 20 : 80); n > 0; --n)
                s += char(pick(0x20, 0x7E));
            break;
        case 1: // a boundary code point
            s += encode(edges[pick(0, std::size(edges) - 1)]);
            break;
        case 2: // any scalar value
        case 3: {
            std::uint32_t cp = pick(0, 0x10FFFF);
            if (cp >= 0xD800 && cp <= 0xDFFF) cp -= 0x800;
            s += encode(cp);
            break;
        }
        case 4: { // a valid sequence with one byte replaced
            std::string e = encode(pick(0x80, 0x10FFFF));
            e[pick(0, std::uint32_t(e.size() - 1))] = char(pick(0, 255));
            s += e;
            break;
        }
        case 5: { // a truncated sequence
            std::string e = encode(pick(0x800, 0x10FFFF));
            s += e.substr(0, pick(1, std::uint32_t(e.size() - 1)));
            break;
        }
        case 6: // a special lead byte with any continuation byte (overlongs, surrogates, >max)
            s += char(std::initializer_list<int>{0xC0, 0xC1, 0xE0, 0xED, 0xF0, 0xF4, 0xF5}
                          .begin()[pick(0, 6)]);
            s += char(pick(0x80, 0xBF));
            s += char(pick(0x80, 0xBF));
            s += char(pick(0x80, 0xBF));
            break;
        case 7: // surrogate or beyond-max code points, encoded naively
            s += encode(pick(0, 1) ? pick(0xD800, 0xDFFF) : pick(0x110000, 0x1FFFFF));
            break;
        case 8: { // an overlong encoding
            std::uint32_t cp = pick(0, 0x7FF);
            s += char(0xE0 | cp >> 12);
            s += char(0x80 | (cp >> 6 & 0x3F));
            s += char(0x80 | (cp & 0x3F));
            break;
        }
        default: // one random byte
            s += char(pick(0, 255));
        }
    }
    if (!s.empty() && pick(0, 4) == 0) s.resize(pick(0, std::uint32_t(s.size() - 1)));
    return s;
}

TEST_CASE("utf8: accepts valid multi-byte text", "[utf8]") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain ASCII, longer than eight bytes"));
    CHECK(is_valid_utf8(std::string_view("nul\0inside", 10)));
    CHECK(is_valid_utf8("h\xC3\xA9llo"));                                 // é
    CHECK(is_valid_utf8("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5")); // κόσμε
    CHECK(is_valid_utf8("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"));         // 日本語
    CHECK(is_valid_utf8("\xF0\x9F\x98\x80 grinning"));                    // U+1F600
    CHECK(is_valid_utf8("\xEF\xBB\xBF"
                        "BOM"));
}

TEST_CASE("utf8: accepts the boundary code points of Table 3-7", "[utf8]") {
    for (std::uint32_t cp : {0x0u,     0x7Fu,    0x80u,    0x7FFu,   0x800u,    0xFFFu,   0x1000u,
                             0xCFFFu,  0xD000u,  0xD7FFu,  0xE000u,  0xFFFDu,   0xFFFEu,  0xFFFFu,
                             0x10000u, 0x3FFFFu, 0x40000u, 0xFFFFFu, 0x100000u, 0x10FFFFu}) {
        INFO("U+" << std::hex << cp);
        CHECK(is_valid_utf8(encode(cp)));
    }
}

TEST_CASE("utf8: rejects stray continuation and impossible bytes", "[utf8]") {
    CHECK_FALSE(is_valid_utf8(from_bytes({0x80})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xBF})));
    CHECK_FALSE(is_valid_utf8(from_bytes({'a', 0x80, 'b'})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xC3, 0xA9, 0xA9}))); // one continuation too many
    for (int b = 0xF5; b <= 0xFF; ++b) {
        INFO("lead byte " << b);
        CHECK_FALSE(is_valid_utf8(from_bytes({b, 0x80, 0x80, 0x80})));
    }
}

TEST_CASE("utf8: rejects overlong encodings", "[utf8]") {
    CHECK_FALSE(is_valid_utf8(from_bytes({0xC0, 0x80})));             // U+0000 in 2 bytes
    CHECK_FALSE(is_valid_utf8(from_bytes({0xC0, 0xAF})));             // '/' in 2 bytes
    CHECK_FALSE(is_valid_utf8(from_bytes({0xC1, 0xBF})));             // U+007F in 2 bytes
    CHECK_FALSE(is_valid_utf8(from_bytes({0xE0, 0x80, 0x80})));       // U+0000 in 3 bytes
    CHECK_FALSE(is_valid_utf8(from_bytes({0xE0, 0x9F, 0xBF})));       // U+07FF in 3 bytes
    CHECK_FALSE(is_valid_utf8(from_bytes({0xF0, 0x80, 0x80, 0x80}))); // U+0000 in 4 bytes
    CHECK_FALSE(is_valid_utf8(from_bytes({0xF0, 0x8F, 0xBF, 0xBF}))); // U+FFFF in 4 bytes
}

TEST_CASE("utf8: rejects surrogates", "[utf8]") {
    CHECK_FALSE(is_valid_utf8(from_bytes({0xED, 0xA0, 0x80}))); // U+D800
    CHECK_FALSE(is_valid_utf8(from_bytes({0xED, 0xAD, 0xBF}))); // U+DB7F
    CHECK_FALSE(is_valid_utf8(from_bytes({0xED, 0xB0, 0x80}))); // U+DC00
    CHECK_FALSE(is_valid_utf8(from_bytes({0xED, 0xBF, 0xBF}))); // U+DFFF
    // A surrogate pair encoded separately (CESU-8) for U+1F4A9.
    CHECK_FALSE(is_valid_utf8(from_bytes({0xED, 0xA0, 0xBD, 0xED, 0xB2, 0xA9})));
    CHECK(is_valid_utf8(from_bytes({0xED, 0x9F, 0xBF}))); // U+D7FF, just below
}

TEST_CASE("utf8: rejects code points above U+10FFFF", "[utf8]") {
    CHECK_FALSE(is_valid_utf8(from_bytes({0xF4, 0x90, 0x80, 0x80}))); // U+110000
    CHECK_FALSE(is_valid_utf8(from_bytes({0xF4, 0xBF, 0xBF, 0xBF})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xF5, 0x80, 0x80, 0x80})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xF7, 0xBF, 0xBF, 0xBF})));       // U+1FFFFF
    CHECK_FALSE(is_valid_utf8(from_bytes({0xF8, 0x88, 0x80, 0x80, 0x80}))); // old 5-byte form
    CHECK_FALSE(is_valid_utf8(from_bytes({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80})));
}

TEST_CASE("utf8: rejects bad continuation bytes", "[utf8]") {
    CHECK_FALSE(is_valid_utf8(from_bytes({0xC2, 0x41})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xC2, 0xC2, 0x80})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xC2, 0xC0})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xE1, 0x80, 0x41})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xE1, 0x41, 0x80})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xF1, 0x80, 0x80, 0x41})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xF1, 0x80, 0x80, 0xF1, 0x80, 0x80, 0x80})));
}

TEST_CASE("utf8: rejects truncated sequences at the end", "[utf8]") {
    CHECK_FALSE(is_valid_utf8(from_bytes({'a', 0xC3})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xE2, 0x82})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xF0, 0x9F, 0x98})));
    CHECK_FALSE(is_valid_utf8(from_bytes({0xF0})));
}

TEST_CASE("utf8: fails at the first byte that makes the input impossible", "[utf8]") {
    struct example {
        std::string bytes;
        long fail_at;
    };
    const example examples[] = {
        {from_bytes({'a', 'b', 0x80}), 2},
        {from_bytes({0xC0}), 0}, // always overlong
        {from_bytes({0xC1}), 0},
        {from_bytes({0xF5}), 0},       // always > U+10FFFF
        {from_bytes({0xE0, 0x9F}), 1}, // overlong known at byte 2
        {from_bytes({0xED, 0xA0}), 1}, // surrogate known at byte 2
        {from_bytes({0xF0, 0x8F}), 1},
        {from_bytes({0xF4, 0x90}), 1},
        {from_bytes({0xE1, 0x80, 'x'}), 2},
        {from_bytes({'0', '1', '2', '3', '4', '5', '6', '7', '8', 0xFF, 'z'}), 9},
        {from_bytes({0xE0, 0xA0, 0x80, 0xED, 0x9F, 0xBF, 0xF4, 0x8F, 0xBF, 0xC0}), 9},
    };
    for (const auto& e : examples) {
        INFO("example of " << e.bytes.size() << " bytes, expected failure at " << e.fail_at);
        CHECK(fail_index_bytewise(e.bytes) == e.fail_at);
        CHECK(reference_check(e.bytes).fail_index == e.fail_at); // the reference agrees
    }
}

TEST_CASE("utf8: a valid text split at every boundary validates the same", "[utf8]") {
    const std::string text = "ASCII run, \xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80, "
                             "\xED\x9F\xBF\xEE\x80\x80\xF4\x8F\xBF\xBF and more ASCII";
    REQUIRE(is_valid_utf8(text));
    for (std::size_t a = 0; a <= text.size(); ++a)
        for (std::size_t b = a; b <= text.size(); ++b) {
            utf8_validator v;
            INFO("pieces cut at " << a << " and " << b);
            REQUIRE(v.feed(std::string_view(text).substr(0, a)));
            REQUIRE(v.feed(std::string_view(text).substr(a, b - a)));
            REQUIRE(v.feed(std::string_view(text).substr(b)));
            REQUIRE(v.complete());
        }
}

TEST_CASE("utf8: complete() is false only inside a code point", "[utf8]") {
    const std::string euro = "\xE2\x82\xAC";
    utf8_validator v;
    CHECK(v.complete());
    CHECK(v.feed(euro.substr(0, 1)));
    CHECK_FALSE(v.complete());
    CHECK(v.feed(euro.substr(1, 1)));
    CHECK_FALSE(v.complete());
    CHECK(v.feed(euro.substr(2, 1)));
    CHECK(v.complete());
    CHECK(v.feed(""));
    CHECK(v.complete());
}

TEST_CASE("utf8: an invalid byte in a big buffer fails feed() at once", "[utf8]") {
    std::string big(64 * 1024, 'x');
    big[40000] = char(0xFF);
    utf8_validator v;
    CHECK_FALSE(v.feed(big));
    CHECK(v.failed());
    CHECK_FALSE(v.complete());

    // The failure sticks: even valid input is refused until reset().
    CHECK_FALSE(v.feed("valid"));
    v.reset();
    CHECK(v.feed("valid"));
    CHECK(v.complete());

    // Same for a surrogate in the middle of multi-byte text.
    std::string text;
    while (text.size() < 16 * 1024) text += "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5 ";
    text.insert(8000, "\xED\xA0\x80");
    v.reset();
    CHECK_FALSE(v.feed(text));
}

TEST_CASE("utf8: a truncated sequence at the end fails only when complete() is asked", "[utf8]") {
    std::string big(16 * 1024, 'y');
    big += "\xF0\x9F\x98"; // three of the four bytes of U+1F600
    utf8_validator v;
    CHECK(v.feed(big));
    CHECK_FALSE(v.complete());
    CHECK(v.feed("\x80"));
    CHECK(v.complete());
    CHECK_FALSE(is_valid_utf8(big));
}

TEST_CASE("utf8: the fast paths see non-ASCII at every position of a long ASCII run", "[utf8]") {
    // 100 bytes reach both the 8-byte and the 32-byte ASCII loops at every alignment.
    const std::string run(100, 'a');
    for (std::size_t pos = 0; pos + 4 <= run.size(); ++pos) {
        INFO("non-ASCII at " << pos);
        std::string stray = run;
        stray[pos] = char(0x80);
        utf8_validator before, at;
        CHECK(before.feed(std::string_view(stray).substr(0, pos)));
        CHECK_FALSE(at.feed(std::string_view(stray).substr(0, pos + 1))); // fails on that byte
        CHECK_FALSE(is_valid_utf8(stray));

        CHECK(is_valid_utf8(std::string(run).replace(pos, 2, "\xC3\xA9")));
        CHECK(is_valid_utf8(std::string(run).replace(pos, 3, "\xE2\x82\xAC")));
        CHECK(is_valid_utf8(std::string(run).replace(pos, 4, "\xF0\x9F\x98\x80")));
        CHECK_FALSE(is_valid_utf8(std::string(run).replace(pos, 3, "\xED\xA0\x80")));
        CHECK_FALSE(is_valid_utf8(std::string(run).replace(pos, 2, "\xC1\xBF")));
        CHECK_FALSE(is_valid_utf8(std::string(run).replace(pos, 4, "\xF4\x90\x80\x80")));
        CHECK_FALSE(is_valid_utf8(std::string(run).replace(pos, 3,
                                                           "\xE2\x82"
                                                           "a")));
    }
}

TEST_CASE("utf8: utf8_valid_prefix stops before the first incomplete or bad code point", "[utf8]") {
    CHECK(utf8_valid_prefix("") == 0);
    CHECK(utf8_valid_prefix("abc") == 3);
    CHECK(utf8_valid_prefix("ab\xE2\x82\xAC") == 5);
    CHECK(utf8_valid_prefix("ab\xE2\x82") == 2);
    CHECK(utf8_valid_prefix("ab\xFF"
                            "cd") == 2);
    CHECK(utf8_valid_prefix("\xC3\xA9\xC3") == 2);
}

TEST_CASE("utf8: matches a reference decoder on random near-valid input", "[utf8]") {
    std::mt19937 rng(3629);
    int valid_count = 0, invalid_count = 0, unfinished_count = 0;
    for (int round = 0; round < 10000; ++round) {
        std::string s = near_valid_string(rng);
        auto expected = reference_check(s);
        INFO("round " << round << ", " << s.size() << " bytes");

        // Whole buffer.
        utf8_validator whole;
        bool fed = whole.feed(s);
        REQUIRE(fed == (expected.fail_index < 0));
        REQUIRE(whole.complete() == expected.valid);
        REQUIRE(is_valid_utf8(s) == expected.valid);

        // Byte at a time: the failure lands on exactly the reference's byte.
        REQUIRE(fail_index_bytewise(s) == expected.fail_index);

        // Random pieces.
        utf8_validator pieces;
        bool ok = true;
        for (std::size_t i = 0; i < s.size();) {
            std::size_t n = std::min<std::size_t>(s.size() - i, rng() % 12);
            ok = pieces.feed(std::string_view(s).substr(i, n)) && ok;
            i += n;
        }
        REQUIRE(ok == (expected.fail_index < 0));
        REQUIRE(pieces.complete() == expected.valid);

        if (expected.valid) ++valid_count;
        else if (expected.fail_index >= 0) ++invalid_count;
        else ++unfinished_count;
    }
    // The generator must exercise all three outcomes substantially.
    INFO("valid " << valid_count << ", invalid " << invalid_count << ", unfinished "
                  << unfinished_count);
    CHECK(valid_count > 1000);
    CHECK(invalid_count > 1000);
    CHECK(unfinished_count > 100);
}

} // namespace utf8_test
