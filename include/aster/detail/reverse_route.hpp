// SPDX-License-Identifier: MIT
// Reverse routing by name at run time: the path a route_table builds.
#ifndef ASTER_DETAIL_REVERSE_ROUTE_HPP
#define ASTER_DETAIL_REVERSE_ROUTE_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/route_pattern.hpp>
#include <aster/detail/route_table.hpp>
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

template <class... Routes>
inline constexpr std::array<route_info, sizeof...(Routes)> route_infos{
    route_info{Routes::name.view(), Routes::pattern.view(), Routes::parsed.tokens.data(),
               Routes::parsed.token_count, Routes::parsed.param_count, Routes::is_websocket}...};

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
    const std::string which = "aster: route \"" + std::string(name) + "\" (" +
                              std::string(r.pattern) + ")";
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
