// SPDX-License-Identifier: MIT
// route_table: the app's routes as plain data, which every request holds for url_path_for. The
// router fills it (routing.hpp); reverse_route.hpp builds paths from it.
#ifndef ASTER_DETAIL_ROUTE_TABLE_HPP
#define ASTER_DETAIL_ROUTE_TABLE_HPP

#include <aster/detail/config.hpp>

#include <charconv>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace aster {
struct uuid; // convertors.hpp: whoever passes one has it
} // namespace aster

namespace aster::detail {

struct pattern_token; // route_pattern.hpp

/// One route as reverse routing sees it. A router holds a constexpr array of these, so
/// reverse_route is one non-template function for every app.
struct route_info {
    std::string_view name; // empty: not named
    std::string_view pattern;
    const pattern_token* tokens = nullptr;
    std::size_t token_count = 0;
    std::size_t param_count = 0;
    bool websocket = false;
};

struct route_table;
using reverse_fn = std::string (*)(route_table table, std::string_view name,
                                   std::span<const std::string> values, bool* websocket);

struct route_table {
    const route_info* routes = nullptr;
    std::size_t size = 0;
    // reverse_route (reverse_route.hpp), set by the router: a request reaches it through here,
    // so request.hpp needs neither the pattern engine nor the function's definition.
    reverse_fn reverse = nullptr;
};

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
            auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value,
                                           std::chars_format::fixed);
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

} // namespace aster::detail

#endif // ASTER_DETAIL_ROUTE_TABLE_HPP
