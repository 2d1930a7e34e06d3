// SPDX-License-Identifier: MIT
// Fuzzes cookies.hpp: Cookie headers against a reference split, find_cookie against the parse,
// Set-Cookie formatting parsed back by parse_set_cookie, and parse_set_cookie on any bytes
// (including RFC 6265 §5.1.1 dates).
#include "support/fuzz.hpp"

#include <aster/cookies.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool inside(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() &&
                            part.data() + part.size() <= whole.data() + whole.size());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    aster_fuzz::input in(data, size);
    const std::uint8_t mode = in.byte();

    if (mode % 3 == 0) {
        // A Cookie header: Starlette's cookie_parser, written out plainly.
        std::string_view header = in.rest();
        auto got = aster::parse_cookie_header(header);
        std::vector<std::pair<std::string_view, std::string_view>> expected;
        std::size_t start = 0;
        for (;;) {
            auto semi = header.find(';', start);
            auto piece = header.substr(start,
                                       semi == std::string_view::npos ? header.npos : semi - start);
            auto eq = piece.find('=');
            std::string_view name = eq == piece.npos ? std::string_view()
                                                     : trim(piece.substr(0, eq));
            std::string_view value = trim(eq == piece.npos ? piece : piece.substr(eq + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            if (!name.empty() || !value.empty()) expected.emplace_back(name, value);
            if (semi == std::string_view::npos) break;
            start = semi + 1;
        }
        ASTER_FUZZ_CHECK(got == expected, header);
        for (const auto& [n, v] : got) {
            ASTER_FUZZ_CHECK(inside(n, header) && inside(v, header));
            auto first = aster::find_cookie(header, n);
            ASTER_FUZZ_CHECK(first.has_value());
            for (const auto& [n2, v2] : got)
                if (n2 == n) {
                    ASTER_FUZZ_CHECK(*first == v2);
                    break;
                }
        }
        std::string absent = "z";
        for (const auto& [n, v] : got)
            if (n.size() >= absent.size()) absent = std::string(n) + "z";
        ASTER_FUZZ_CHECK(!aster::find_cookie(header, absent).has_value());
    } else if (mode % 3 == 1) {
        // format_set_cookie either refuses or writes a header value parse_set_cookie reads back.
        std::string name(in.until_nul()), value(in.until_nul());
        aster::cookie_options o;
        if (in.flag()) o.max_age = std::int64_t(std::int32_t(in.u16() << 16 | in.u16()));
        o.path = std::string(in.until_nul());
        o.domain = std::string(in.until_nul());
        o.httponly = in.flag();
        o.secure = in.flag();
        const char* sites[] = {"lax", "strict", "none", "", "LAX", "bogus"};
        o.samesite = sites[in.byte() % 6];
        std::string out;
        try {
            out = aster::format_set_cookie(name, value, o);
        } catch (const std::invalid_argument&) {
            return 0;
        }
        for (char c : out) ASTER_FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0', out);
        auto back = aster::parse_set_cookie(out);
        ASTER_FUZZ_CHECK(back.has_value(), out);
        ASTER_FUZZ_CHECK(back->name == name && back->value == value, out);
        ASTER_FUZZ_CHECK(back->max_age == o.max_age, out);
        if (o.path.starts_with('/') && o.path.find(';') == std::string::npos)
            ASTER_FUZZ_CHECK(back->path == trim(o.path), out);
        if (o.max_age) ASTER_FUZZ_CHECK(back->expired == (*o.max_age <= 0), out);
        auto gone = aster::parse_set_cookie(aster::format_delete_cookie(name, o));
        ASTER_FUZZ_CHECK(gone && gone->expired && gone->name == name);
    } else {
        // Any Set-Cookie value, at a fuzzer-chosen now.
        auto now = std::chrono::system_clock::time_point(
            std::chrono::seconds(std::int64_t(in.u16()) * 40000)); // 1970 to 2053
        std::string_view value = in.rest();
        auto c = aster::parse_set_cookie(value, now);
        if (c) {
            ASTER_FUZZ_CHECK(!c->name.empty());
            ASTER_FUZZ_CHECK(c->name == trim(c->name) && c->value == trim(c->value));
            ASTER_FUZZ_CHECK(c->path.empty() || c->path.front() == '/');
            if (c->max_age) ASTER_FUZZ_CHECK(c->expired == (*c->max_age <= 0));
        }
    }
    return 0;
}
