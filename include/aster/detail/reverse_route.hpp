// SPDX-License-Identifier: MIT
// Reverse routing by name at run time: the route table as plain data, and the path it builds.
#ifndef ASTER_DETAIL_REVERSE_ROUTE_HPP
#define ASTER_DETAIL_REVERSE_ROUTE_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/route_pattern.hpp>
#include <aster/error.hpp>
#include <aster/url.hpp>

#include <array>
#include <charconv>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace aster::detail {

/// One route as reverse routing sees it. A router holds a constexpr array of these, so the
/// lookup below is one non-template function for every app.
struct route_info {
    std::string_view name; // empty: not named
    std::string_view pattern;
    const pattern_token* tokens = nullptr;
    std::size_t token_count = 0;
    std::size_t param_count = 0;
    bool websocket = false;
};

struct route_table {
    const route_info* routes = nullptr;
    std::size_t size = 0;
};

template <class... Routes>
inline constexpr std::array<route_info, sizeof...(Routes)> route_infos{
    route_info{Routes::name.view(), Routes::pattern.view(), Routes::parsed.tokens.data(),
               Routes::parsed.token_count, Routes::parsed.param_count, Routes::is_websocket}...};

/// Appends a path parameter's text, not yet percent-encoded: integers in decimal, floating
/// point in fixed notation (the shortest form may be `1e+23`, which no {x:float} matches),
/// uuids in their 8-4-4-4-12 form, strings as they are.
template <class T>
void append_path_text(std::string& out, const T& value) {
    using U = std::remove_cvref_t<T>;
    static_assert(!std::is_same_v<U, bool> && !std::is_same_v<U, char>,
                  "aster::url_path_for: a path parameter is a number, a string or an aster::uuid, "
                  "not a bool or a char");
    if constexpr (std::is_floating_point_v<U>) {
        // Up to ~330 characters for a double (more for a long double): grow until it fits.
        std::string buf(64, '\0');
        for (;;) {
            auto [end, ec] =
                std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed);
            if (ec == std::errc{}) {
                out.append(buf.data(), end);
                return;
            }
            buf.resize(buf.size() * 4);
        }
    } else if constexpr (std::is_arithmetic_v<U>) {
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
        out.append(buf, end);
    } else if constexpr (std::is_same_v<U, uuid>) {
        out += value.to_string();
    } else {
        static_assert(std::is_convertible_v<const T&, std::string_view>,
                      "aster::url_path_for: a path parameter is a number, a string or an "
                      "aster::uuid");
        out += std::string_view(value);
    }
}

/// The path of the route named `name` with `values` (one per parameter, in the pattern's
/// order), percent-encoded as the compile-time url_path_for does. Throws no_match_found when
/// no route has the name, the count differs, or a value does not fit its convertor (an int
/// parameter given "abc" or "-1", an empty str). `websocket`, when given, says whether the
/// route is a WebSocket route.
ASTER_DECL std::string reverse_route(route_table table, std::string_view name,
                                     std::span<const std::string> values, bool* websocket) {
    const route_info* found = nullptr;
    for (std::size_t i = 0; i < table.size && !found; ++i)
        if (!table.routes[i].name.empty() && table.routes[i].name == name) found = &table.routes[i];
    if (!found)
        throw no_match_found("aster: no route exists for name \"" + std::string(name) + "\"");
    const route_info& r = *found;
    const std::string which =
        "aster: route \"" + std::string(name) + "\" (" + std::string(r.pattern) + ")";
    if (values.size() != r.param_count)
        throw no_match_found(which + " takes " + std::to_string(r.param_count) +
                             " path parameter(s), not " + std::to_string(values.size()));
    std::string out;
    for (std::size_t t = 0; t < r.token_count; ++t) {
        const pattern_token& token = r.tokens[t];
        if (!token.is_param) {
            out += token.text;
            continue;
        }
        const std::string& raw = values[token.param_index];
        // str encodes '/' too (one segment), path keeps it; the others must already fit.
        std::string text = token.conv == convertor::str    ? percent_encode(raw, "")
                           : token.conv == convertor::path ? percent_encode(raw, "/")
                                                           : raw;
        if (convertor_extent(token.conv, text) != text.size() ||
            (text.empty() && token.conv != convertor::path))
            throw no_match_found(which + ": parameter \"" + std::string(token.text) +
                                 "\" cannot be \"" + raw + "\"");
        out += text;
    }
    if (websocket) *websocket = r.websocket;
    return out;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_REVERSE_ROUTE_HPP
