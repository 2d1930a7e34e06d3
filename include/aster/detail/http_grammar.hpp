// SPDX-License-Identifier: MIT
// The small pieces of HTTP's grammar (RFC 9110 §5.6) that headers, cookies, forms, CORS, the
// URL decoder and the WebSocket handshake share: whitespace, tokens, hex digits, quoted
// strings and comma-separated lists. Dependency-free and constexpr.
#ifndef ASTER_DETAIL_HTTP_GRAMMAR_HPP
#define ASTER_DETAIL_HTTP_GRAMMAR_HPP

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace aster::detail {

/// OWS: space or horizontal tab (RFC 9110 §5.6.3).
constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

/// `s` without leading and trailing OWS.
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

inline constexpr std::array<bool, 256> tchar_table = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();

/// tchar (RFC 9110 §5.6.2): the characters of a token, such as a field or cookie name.
constexpr bool is_tchar(char c) noexcept { return tchar_table[static_cast<unsigned char>(c)]; }

/// A non-empty run of tchar.
constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_tchar(c)) return false;
    return true;
}

constexpr char ascii_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

/// The value of a hex digit, or -1.
constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Reads a quoted-string (RFC 9110 §5.6.4) starting at s[i] == '"', handing each character of
/// its value to `put` with quoted-pairs undone; leaves `i` after the closing quote. False when
/// the string does not end. `lenient_backslash` keeps a backslash that quotes neither `"` nor
/// `\` (old browsers send Windows paths unescaped in multipart file names).
template <class Put>
constexpr bool read_quoted(std::string_view s, std::size_t& i, Put&& put,
                           bool lenient_backslash = false) {
    ++i; // the opening quote
    while (i < s.size()) {
        char c = s[i++];
        if (c == '"') return true;
        if (c == '\\' && i < s.size()) {
            if (!lenient_backslash || s[i] == '"' || s[i] == '\\') c = s[i++];
        }
        put(c);
    }
    return false;
}

/// Calls `item` with each element of a comma-separated list (RFC 9110 §5.6.1), trimmed; empty
/// elements are skipped, as the RFC asks. When `item` returns bool, true stops the walk and is
/// returned. Quoted commas are not special: no list aster reads this way (Connection, Upgrade,
/// Transfer-Encoding, entity tags, subprotocols, CORS headers) holds one.
template <class Item>
constexpr bool for_each_list_item(std::string_view list, Item&& item) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto element = trim_ows(list.substr(0, comma));
        if (!element.empty()) {
            if constexpr (std::is_same_v<decltype(item(element)), bool>) {
                if (item(element)) return true;
            } else {
                item(element);
            }
        }
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_HTTP_GRAMMAR_HPP
