// SPDX-License-Identifier: MIT
// `Cookie` and `Set-Cookie` parsing, and `Set-Cookie` formatting [requests.py, responses.py].
#ifndef ASTER_COOKIES_HPP
#define ASTER_COOKIES_HPP

#include <aster/detail/config.hpp>
#include <aster/headers.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// Splits a `Cookie` header leniently, as Starlette's `cookie_parser`: pieces between `;` are
/// trimmed, a piece without `=` has the name "" (browsers send such cookies), empty pieces are
/// skipped and one pair of double quotes around a value is removed. Backslash escapes inside
/// quotes are left as sent, since the result views `header`.
ASTER_DECL std::vector<std::pair<std::string_view, std::string_view>>
parse_cookie_header(std::string_view header);

/// The value of the first cookie called `name` in a `Cookie` header, or nullopt. The first one wins
/// because browsers list the cookie with the longest path first (RFC 6265 §5.4).
ASTER_DECL std::optional<std::string_view> find_cookie(std::string_view header,
                                                       std::string_view name) noexcept;

/// Attributes of a `Set-Cookie` header; the defaults are Starlette's `set_cookie` defaults.
/// @code
/// r.header("Set-Cookie",
///          aster::format_set_cookie("sid", token, {.max_age = 3600, .httponly = true}));
/// @endcode
struct cookie_options {
    std::optional<std::int64_t> max_age = {}; // seconds; none gives a session cookie
    std::string expires = {};                 // an HTTP-date, written as given; empty omits it
    std::string path = "/";                   // whole site: a cookie set under /login is seen at /
    std::string domain = {};                  // empty: host-only, the narrowest scope
    bool secure = false;
    bool httponly = false;
    std::string samesite = "lax"; // browsers' own default; "strict", "lax", "none" or "" to omit
    bool partitioned = false;     // CHIPS; browsers also require `secure`
};

/// A `Set-Cookie` value in Starlette's attribute order: `name=value; Domain=…; expires=…;
/// HttpOnly; Max-Age=…; Path=…; SameSite=…; Secure; Partitioned`.
/// Throws std::invalid_argument when `name` is not an RFC 6265 token, `value` holds a byte outside
/// cookie-octet (controls, space, `"`, `,`, `;`, `\`, non-ASCII: percent-encode such values; one
/// pair of enclosing quotes is allowed), an attribute holds a control byte or `;`, or `samesite`
/// is not strict/lax/none.
ASTER_DECL std::string format_set_cookie(std::string_view name, std::string_view value,
                                         const cookie_options& options = {});

/// A `Set-Cookie` value that makes the browser drop `name`: `name=""; expires=Thu, 01 Jan 1970
/// 00:00:00 GMT; Max-Age=0; Path=/; SameSite=lax`. Path and domain must match the ones it was set
/// with, or the browser keeps the cookie.
ASTER_DECL std::string format_delete_cookie(std::string_view name, std::string_view path = "/",
                                            std::string_view domain = {});
/// The same, keeping the other attributes of `options` (a `__Secure-` cookie needs `secure`).
ASTER_DECL std::string format_delete_cookie(std::string_view name, cookie_options options);

/// What a client keeps from one `Set-Cookie` header.
struct set_cookie {
    std::string name = {};
    std::string value = {};                   // as sent, quotes included (RFC 6265 §5.2)
    std::optional<std::int64_t> max_age = {}; // the last valid Max-Age, if any
    bool expired = false;                     // the server asks the client to drop the cookie
    std::string path = {}; // empty when absent or not starting with '/': the default path
};

/// Parses a `Set-Cookie` header value as a user agent does (RFC 6265 §5.2): attribute names are
/// case-insensitive, malformed attributes are ignored, Max-Age wins over Expires. `expired` is set
/// for Max-Age <= 0 or an Expires not after `now`. Nullopt when there is no `=` or no name.
ASTER_DECL std::optional<set_cookie>
parse_set_cookie(std::string_view header_value,
                 std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// ---- implementation ----------------------------------------------------------------------------

namespace detail::cookie_impl {

// Splits off the text before the next `;` and advances `rest` past it.
constexpr std::string_view next_piece(std::string_view& rest) noexcept {
    auto semi = rest.find(';');
    auto piece = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    return piece;
}

// One `Cookie` piece as cookie_parser reads it: no `=` means an empty name.
constexpr std::pair<std::string_view, std::string_view>
split_cookie(std::string_view piece) noexcept {
    auto eq = piece.find('=');
    bool bare = eq == std::string_view::npos;
    std::string_view name = bare ? std::string_view{} : piece.substr(0, eq);
    std::string_view value = bare ? piece : piece.substr(eq + 1);
    value = trim_ows(value);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
    return {trim_ows(name), value};
}

// RFC 6265 §4.1.1 cookie-octet: visible ASCII except `"`, `,`, `;` and `\`.
constexpr bool is_cookie_octet(char c) noexcept {
    return c > 0x20 && c < 0x7F && c != '"' && c != ',' && c != ';' && c != '\\';
}

inline void check_attribute(std::string_view what, std::string_view value) {
    for (char c : value) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7F || c == ';')
            throw std::invalid_argument("aster: cookie " + std::string(what) +
                                        " must not contain ';' or control characters");
    }
}

// RFC 6265 §5.1.1 cookie-date; nullopt for anything the algorithm rejects.
inline std::optional<std::chrono::sys_seconds> parse_cookie_date(std::string_view s) noexcept {
    constexpr auto is_delimiter = [](char c) {
        auto b = static_cast<unsigned char>(c);
        return b == 0x09 || (b >= 0x20 && b <= 0x2F) || (b >= 0x3B && b <= 0x40) ||
               (b >= 0x5B && b <= 0x60) || (b >= 0x7B && b <= 0x7E);
    };
    constexpr auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    // Reads 1..max digits not followed by another digit; -1 when absent.
    constexpr auto digits = [is_digit](std::string_view& t, std::size_t min, std::size_t max) {
        std::size_t n = 0;
        int v = 0;
        // Counts every digit but adds up at most `max` of them: a long run must not overflow.
        for (; n < t.size() && is_digit(t[n]); ++n)
            if (n < max) v = v * 10 + (t[n] - '0');
        if (n < min || n > max) return -1;
        t.remove_prefix(n);
        return v;
    };
    int hour = -1, minute = -1, second = -1, day = -1, month = -1, year = -1;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_delimiter(s[i])) ++i;
        std::size_t start = i;
        while (i < s.size() && !is_delimiter(s[i])) ++i;
        std::string_view token = s.substr(start, i - start);
        if (token.empty()) continue;
        if (hour < 0) {
            auto t = token;
            int h = digits(t, 1, 2);
            if (h >= 0 && t.starts_with(':')) {
                t.remove_prefix(1);
                int m = digits(t, 1, 2);
                if (m >= 0 && t.starts_with(':')) {
                    t.remove_prefix(1);
                    int sec = digits(t, 1, 2);
                    if (sec >= 0) {
                        hour = h, minute = m, second = sec;
                        continue;
                    }
                }
            }
        }
        if (day < 0) {
            auto t = token;
            if (int d = digits(t, 1, 2); d >= 0) {
                day = d;
                continue;
            }
        }
        if (month < 0 && token.size() >= 3) {
            constexpr std::string_view names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"};
            for (int m = 0; m < 12; ++m)
                if (iequals(token.substr(0, 3), names[m])) month = m + 1;
            if (month > 0) continue;
        }
        if (year < 0) {
            auto t = token;
            if (int y = digits(t, 2, 4); y >= 0) year = y;
        }
    }
    if (year >= 70 && year <= 99) year += 1900;
    if (year >= 0 && year <= 69) year += 2000;
    if (hour < 0 || day < 1 || month < 1 || year < 1601 || hour > 23 || minute > 59 || second > 59)
        return std::nullopt;
    using namespace std::chrono;
    year_month_day date{std::chrono::year(year), std::chrono::month(unsigned(month)),
                        std::chrono::day(unsigned(day))};
    if (!date.ok()) return std::nullopt;
    return sys_days(date) + hours(hour) + minutes(minute) + seconds(second);
}

// RFC 6265 §5.2.2: an optional '-' then digits only; out-of-range values saturate.
inline std::optional<std::int64_t> parse_max_age(std::string_view v) noexcept {
    bool negative = v.starts_with('-');
    auto digits = negative ? v.substr(1) : v;
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc::result_out_of_range)
        return negative ? std::numeric_limits<std::int64_t>::min()
                        : std::numeric_limits<std::int64_t>::max();
    return n;
}

} // namespace detail::cookie_impl

ASTER_DECL std::vector<std::pair<std::string_view, std::string_view>>
parse_cookie_header(std::string_view header) {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    while (!header.empty()) {
        auto [name,
              value] = detail::cookie_impl::split_cookie(detail::cookie_impl::next_piece(header));
        if (!name.empty() || !value.empty()) out.emplace_back(name, value);
    }
    return out;
}

ASTER_DECL std::optional<std::string_view> find_cookie(std::string_view header,
                                                       std::string_view name) noexcept {
    while (!header.empty()) {
        auto [n, v] = detail::cookie_impl::split_cookie(detail::cookie_impl::next_piece(header));
        if ((!n.empty() || !v.empty()) && n == name) return v;
    }
    return std::nullopt;
}

ASTER_DECL std::string format_set_cookie(std::string_view name, std::string_view value,
                                         const cookie_options& options) {
    using namespace detail::cookie_impl;
    using detail::is_tchar, detail::trim_ows;
    if (name.empty()) throw std::invalid_argument("aster: cookie name must not be empty");
    for (char c : name)
        if (!is_tchar(c))
            throw std::invalid_argument("aster: cookie name '" + std::string(name) +
                                        "' has a character outside RFC 6265 token characters");
    auto inner = value;
    if (inner.size() >= 2 && inner.front() == '"' && inner.back() == '"')
        inner = inner.substr(1, inner.size() - 2);
    for (char c : inner)
        if (!is_cookie_octet(c))
            throw std::invalid_argument("aster: value of cookie '" + std::string(name) +
                                        "' has a byte outside RFC 6265 cookie-octet; "
                                        "percent-encode it");
    check_attribute("expires", options.expires);
    check_attribute("path", options.path);
    check_attribute("domain", options.domain);
    const auto& samesite = options.samesite;
    if (!samesite.empty() && !iequals(samesite, "strict") && !iequals(samesite, "lax") &&
        !iequals(samesite, "none"))
        throw std::invalid_argument("aster: cookie samesite must be 'strict', 'lax' or 'none'");

    std::string out;
    out.reserve(name.size() + value.size() + 64);
    out.append(name).append("=").append(value);
    if (!options.domain.empty()) out.append("; Domain=").append(options.domain);
    if (!options.expires.empty()) out.append("; expires=").append(options.expires);
    if (options.httponly) out.append("; HttpOnly");
    if (options.max_age) out.append("; Max-Age=").append(std::to_string(*options.max_age));
    if (!options.path.empty()) out.append("; Path=").append(options.path);
    if (!samesite.empty()) out.append("; SameSite=").append(samesite);
    if (options.secure) out.append("; Secure");
    if (options.partitioned) out.append("; Partitioned");
    return out;
}

ASTER_DECL std::string format_delete_cookie(std::string_view name, cookie_options options) {
    options.max_age = 0;
    options.expires = "Thu, 01 Jan 1970 00:00:00 GMT";
    return format_set_cookie(name, "\"\"", options);
}

ASTER_DECL std::string format_delete_cookie(std::string_view name, std::string_view path,
                                            std::string_view domain) {
    cookie_options options;
    options.path = path;
    options.domain = domain;
    return format_delete_cookie(name, std::move(options));
}

ASTER_DECL std::optional<set_cookie> parse_set_cookie(std::string_view header_value,
                                                      std::chrono::system_clock::time_point now) {
    using namespace detail::cookie_impl;
    using detail::is_tchar, detail::trim_ows;
    auto pair = next_piece(header_value);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    set_cookie out;
    out.name = trim_ows(pair.substr(0, eq));
    out.value = trim_ows(pair.substr(eq + 1));
    if (out.name.empty()) return std::nullopt;

    std::optional<std::chrono::sys_seconds> expires;
    while (!header_value.empty()) {
        auto attr = next_piece(header_value);
        auto aeq = attr.find('=');
        auto key = trim_ows(attr.substr(0, aeq));
        auto val = aeq == std::string_view::npos ? std::string_view{}
                                                 : trim_ows(attr.substr(aeq + 1));
        if (iequals(key, "max-age")) {
            if (auto n = parse_max_age(val)) out.max_age = n;
        } else if (iequals(key, "expires")) {
            if (auto t = parse_cookie_date(val)) expires = t;
        } else if (iequals(key, "path")) {
            out.path = val.starts_with('/') ? val : std::string_view{};
        }
    }
    if (out.max_age) out.expired = *out.max_age <= 0;
    else if (expires)
        // Compared in seconds: year 9999 in nanoseconds would overflow.
        out.expired = *expires <= std::chrono::floor<std::chrono::seconds>(now);
    return out;
}

} // namespace aster

#endif // ASTER_COOKIES_HPP
