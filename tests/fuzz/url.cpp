// SPDX-License-Identifier: MIT
// Fuzzes url.hpp: percent-decoding against a reference, decode(encode(x)) == x, what encode may
// emit, and query strings against a reference parse_qsl and through encode_query and back.
#include "support/fuzz.hpp"

#include <aster/url.hpp>

#include <vector>

namespace {

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string reference_decode(std::string_view in, bool plus) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
            out += char(hex(in[i + 1]) * 16 + hex(in[i + 2]));
            i += 2;
        } else if (in[i] == '+' && plus) {
            out += ' ';
        } else {
            out += in[i];
        }
    }
    return out;
}

bool unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    aster_fuzz::input in(data, size);
    const bool plus = in.flag();
    std::string safe(in.bytes(8));
    std::erase(safe, '%'); // a kept '%' would read back as an escape
    const std::string_view s = in.rest();

    std::string decoded;
    decoded = "prefix";
    bool changed = aster::percent_decode_into(s, decoded, plus);
    ASTER_FUZZ_CHECK(decoded.substr(0, 6) == "prefix");
    ASTER_FUZZ_CHECK(decoded.substr(6) == reference_decode(s, plus), s);
    // false promises the input came through unchanged (callers keep a view of it then).
    ASTER_FUZZ_CHECK(changed || decoded.substr(6) == s, s);
    ASTER_FUZZ_CHECK(aster::percent_decode(s, plus) == decoded.substr(6));

    std::string encoded = aster::percent_encode(s, safe);
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        char c = encoded[i];
        if (c == '%') {
            ASTER_FUZZ_CHECK(i + 2 < encoded.size() && hex(encoded[i + 1]) >= 0 &&
                                 hex(encoded[i + 2]) >= 0,
                             encoded);
            ASTER_FUZZ_CHECK(!(encoded[i + 1] >= 'a') && !(encoded[i + 2] >= 'a'), encoded);
            i += 2;
        } else {
            ASTER_FUZZ_CHECK(unreserved(c) || safe.find(c) != std::string::npos, encoded);
        }
    }
    ASTER_FUZZ_CHECK(aster::percent_decode(encoded) == s, s);
    ASTER_FUZZ_CHECK(aster::percent_decode(aster::percent_encode(s, ""), true) == s, s);

    // Query strings: a reference parse_qsl(keep_blank_values=True).
    aster::query_params q(s);
    std::vector<std::pair<std::string, std::string>> expected;
    for (std::size_t start = 0; start <= s.size();) {
        auto amp = s.find('&', start);
        auto piece = s.substr(start,
                              amp == std::string_view::npos ? s.size() - start : amp - start);
        if (!piece.empty()) {
            auto eq = piece.find('=');
            expected.emplace_back(reference_decode(piece.substr(0, eq), true),
                                  eq == std::string_view::npos
                                      ? std::string()
                                      : reference_decode(piece.substr(eq + 1), true));
        }
        if (amp == std::string_view::npos) break;
        start = amp + 1;
    }
    ASTER_FUZZ_CHECK(q.size() == expected.size(), s);
    std::size_t i = 0;
    for (const auto& [k, v] : q) {
        ASTER_FUZZ_CHECK(k == expected[i].first && v == expected[i].second, s);
        ++i;
    }
    for (const auto& [k, v] : expected) {
        std::string_view last;
        for (const auto& [k2, v2] : expected)
            if (k2 == k) last = v2;
        ASTER_FUZZ_CHECK(q.get(k) == last, k);
    }
    // Every pair survives encode_query and parsing back, in order.
    std::string query = aster::encode_query(q);
    ASTER_FUZZ_CHECK(aster::query_params(query) == q, query);
    return 0;
}
