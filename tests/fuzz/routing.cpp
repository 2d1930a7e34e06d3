// SPDX-License-Identifier: MIT
// Fuzzes route matching (routing.hpp, detail/route_pattern.hpp, convertors.hpp): random paths
// against a table with every convertor. A match's typed values must agree with the text matched,
// and url_path_for of those values must give a path the same route matches with the same values.
// Short paths are also matched against multi-parameter patterns by the old backtracking matcher,
// which must agree with the one in detail/route_pattern.hpp on the outcome and every extent.
#include "support/fuzz.hpp"
#include "support/route_reference.hpp"

#include <aster/application.hpp>
#include <aster/detail/request_access.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace {

using aster::request;
using aster::response;

// What the last handler saw, as typed values.
struct seen_values {
    int route = -1;
    std::int64_t n = 0;
    std::uint16_t small = 0;
    double x = 0;
    aster::uuid u{};
    std::string s, p;
} seen;

response ok(int route) {
    seen.route = route;
    return aster::plain_text("ok");
}

constexpr auto table = aster::routes(
    aster::route<"/">([](request&) { return ok(0); }).named<"root">(),
    aster::route<"/n/{n:int}">([](request&, std::int64_t n) {
        seen.n = n;
        return ok(1);
    }).named<"n">(),
    aster::route<"/small/{v:int}">([](request&, std::uint16_t v) {
        seen.small = v;
        return ok(2);
    }).named<"small">(),
    aster::route<"/x/{x:float}">([](request&, double x) {
        seen.x = x;
        return ok(3);
    }).named<"x">(),
    aster::route<"/u/{u:uuid}">([](request&, aster::uuid u) {
        seen.u = u;
        return ok(4);
    }).named<"u">(),
    aster::route<"/s/{s}">([](request&, std::string_view s) {
        seen.s = s;
        return ok(5);
    }).named<"s">(),
    aster::route<"/p/{p:path}">([](request&, std::string_view p) {
        seen.p = p;
        return ok(6);
    }).named<"p">(),
    aster::route<"/f/{s}.{x:float}">([](request&, std::string_view s, double x) {
        seen.s = s;
        seen.x = x;
        return ok(7);
    }).named<"file">(),
    aster::route<"/m/{n:int}/{s}/{p:path}">([](request&, std::int64_t n, std::string s,
                                               std::string_view p) {
        seen.n = n;
        seen.s = s;
        seen.p = p;
        return ok(8);
    }).named<"mixed">(),
    aster::route<"/slash/">([](request&) { return ok(9); }).named<"slash">(),
    aster::route<"/post", aster::method::post>([](request&) { return ok(10); }).named<"post">());

constexpr aster::application app{table};

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

bool float_syntax(std::string_view s) {
    auto dot = s.find('.');
    if (dot == std::string_view::npos) return all_digits(s);
    return all_digits(s.substr(0, dot)) && all_digits(s.substr(dot + 1));
}

struct routed {
    int route = -1;
    aster::status status{};
    std::string location;
    std::vector<std::string> raw; // the matched text of each parameter
};

// Routes `raw` as the parser hands a target over: the raw path as sent (no control bytes: the
// parser refuses those) and the percent-decoded path the routes match.
routed route(std::string_view raw, aster::method m = aster::method::get) {
    using aster::detail::request_access;
    static request req;
    static std::string path;
    path = aster::percent_decode(raw);
    request_access::reset(req);
    request_access::set_method(req, m == aster::method::get ? "GET" : "POST");
    request_access::set_target(req, raw, raw, path, {});
    static const std::string empty;
    request_access::set_body(req, &empty);
    seen = {};
    response out;
    std::size_t index = app.routes().route_now(req, out);
    ASTER_FUZZ_CHECK(index == decltype(table)::size, path); // every handler here runs at once
    routed r;
    r.route = seen.route;
    r.status = out.status();
    r.location = std::string(out.header_value("location"));
    for (const auto& p : req.path_params()) r.raw.emplace_back(p.value);
    return r;
}

// The path url_path_for gives for what the handler saw.
std::string reverse(int r) {
    std::string out;
    switch (r) {
    case 0:
        out = app.url_path_for<"root">();
        break;
    case 1:
        out = app.url_path_for<"n">(seen.n);
        break;
    case 2:
        out = app.url_path_for<"small">(seen.small);
        break;
    case 3:
        out = app.url_path_for<"x">(seen.x);
        break;
    case 4:
        out = app.url_path_for<"u">(seen.u);
        break;
    case 5:
        out = app.url_path_for<"s">(seen.s);
        break;
    case 6:
        out = app.url_path_for<"p">(seen.p);
        break;
    case 7:
        out = app.url_path_for<"file">(seen.s, seen.x);
        break;
    case 8:
        out = app.url_path_for<"mixed">(seen.n, seen.s, seen.p);
        break;
    case 9:
        out = app.url_path_for<"slash">();
        break;
    case 10:
        out = app.url_path_for<"post">();
        break;
    }
    return out;
}

void check_values(int r, const routed& got, std::string_view path) {
    const auto& raw = got.raw;
    auto check_int = [&](std::string_view text, std::uint64_t value) {
        ASTER_FUZZ_CHECK(all_digits(text), path);
        auto digits = text.substr(std::min(text.find_first_not_of('0'), text.size() - 1));
        ASTER_FUZZ_CHECK(digits == std::to_string(value), path);
    };
    auto check_float = [&](std::string_view text, double value) {
        ASTER_FUZZ_CHECK(float_syntax(text), path);
        ASTER_FUZZ_CHECK(value == std::strtod(std::string(text).c_str(), nullptr), path);
    };
    switch (r) {
    case 1:
        check_int(raw.at(0), std::uint64_t(seen.n));
        break;
    case 2:
        check_int(raw.at(0), seen.small);
        break;
    case 3:
        check_float(raw.at(0), seen.x);
        break;
    case 4: {
        std::string lower(raw.at(0));
        for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
        ASTER_FUZZ_CHECK(seen.u.to_string() == lower, path);
        break;
    }
    case 5:
        ASTER_FUZZ_CHECK(
            !seen.s.empty() && seen.s.find('/') == std::string::npos && seen.s == raw.at(0), path);
        break;
    case 6:
        ASTER_FUZZ_CHECK(seen.p == raw.at(0), path);
        break;
    case 7:
        ASTER_FUZZ_CHECK(!seen.s.empty() && seen.s.find('/') == std::string::npos, path);
        check_float(raw.at(1), seen.x);
        break;
    case 8:
        check_int(raw.at(0), std::uint64_t(seen.n));
        break;
    }
}

// Shapes where the extents depend on backtracking: several parameters, literals they can contain.
template <aster::fixed_string Pattern>
void agrees_with_reference(std::string_view path) {
    constexpr auto& pp = aster::detail::pattern_of<Pattern>;
    std::string_view want[4], got[4];
    const bool expected = aster_reference::match(pp, path, want);
    std::size_t steps = 0;
    ASTER_FUZZ_CHECK(aster::detail::match_pattern(pp, path, got, &steps) == expected, path);
    ASTER_FUZZ_CHECK(steps <= 3 * (path.size() + 64) * pp.token_count, path);
    for (std::size_t i = 0; expected && i < pp.param_count; ++i)
        ASTER_FUZZ_CHECK(got[i].data() == want[i].data() && got[i].size() == want[i].size(), path);
}

void differential(std::string_view path) {
    if (path.size() > 48) return; // the reference is O(n^k)
    agrees_with_reference<"/{a}-{b}-{c}-{d}">(path);
    agrees_with_reference<"/{a:path}-{b:float}.{c:int}">(path);
    agrees_with_reference<"/{a:path}/{b:uuid}/{c:path}">(path);
    agrees_with_reference<"/{a}.{b:float}-{c:path}">(path);
    agrees_with_reference<"/x{a:int}-{b}/{c:path}-">(path);
    agrees_with_reference<"/{a:path}/{b}/{c:path}/{d:int}">(path);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    aster_fuzz::input in(data, size);
    const bool post = in.flag();
    std::string path;
    for (char c : in.rest().substr(0, 2048)) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            path += aster::percent_encode({&c, 1}, "");
        else path += c;
    }
    differential(path);
    const auto method = post ? aster::method::post : aster::method::get;
    routed got = route(path, method);
    if (got.route < 0) {
        // No handler: 404, 405 (a POST-only or GET-only path) or a slash redirect.
        auto s = got.status;
        ASTER_FUZZ_CHECK(s == aster::status::not_found || s == aster::status::method_not_allowed ||
                             s == aster::status::temporary_redirect,
                         path);
        if (s == aster::status::temporary_redirect) {
            // The redirect goes to the other spelling, which must route somewhere.
            auto again = route(got.location, method);
            ASTER_FUZZ_CHECK(again.route >= 0 || again.status == aster::status::method_not_allowed,
                             path + " -> " + got.location);
        }
        return 0;
    }
    ASTER_FUZZ_CHECK(got.status == aster::status::ok);
    check_values(got.route, got, path);
    const seen_values first = seen;
    // url_path_for the typed values: the same route matches the path and sees the same values.
    std::string back = reverse(got.route);
    routed again = route(back, method);
    ASTER_FUZZ_CHECK(again.route == got.route, back);
    ASTER_FUZZ_CHECK(seen.n == first.n && seen.small == first.small && seen.x == first.x &&
                         seen.u == first.u && seen.s == first.s && seen.p == first.p,
                     back);
    return 0;
}
