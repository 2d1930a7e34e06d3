// SPDX-License-Identifier: MIT
// The recursive route matcher detail/route_pattern.hpp used to have, kept as the reference for
// its semantics (tests/routing.cpp, tests/fuzz/routing.cpp). O(n^k): only for short paths.
#ifndef ASTER_TESTS_FUZZ_SUPPORT_ROUTE_REFERENCE_HPP
#define ASTER_TESTS_FUZZ_SUPPORT_ROUTE_REFERENCE_HPP

#include <aster/detail/route_pattern.hpp>

#include <cstddef>
#include <string_view>

namespace aster_reference {

// Each parameter tries its extents longest first; the first split where the rest matches wins.
template <std::size_t N>
bool match_from(const aster::detail::parsed_pattern<N>& pp, std::size_t index,
                std::string_view path, std::string_view* values) {
    using aster::convertor;
    using aster::detail::convertor_extent;
    if (index == pp.token_count) return path.empty();
    const auto& token = pp.tokens[index];
    if (!token.is_param) {
        if (!path.starts_with(token.text)) return false;
        return match_from(pp, index + 1, path.substr(token.text.size()), values);
    }
    std::size_t longest = convertor_extent(token.conv, path);
    for (std::size_t n = longest; n >= 1; --n) {
        if (n != longest && convertor_extent(token.conv, path.substr(0, n)) != n) continue;
        values[token.param_index] = path.substr(0, n);
        if (match_from(pp, index + 1, path.substr(n), values)) return true;
    }
    // A path parameter may be empty only at the very end of the URL.
    if (token.conv == convertor::path && path.empty() && index + 1 == pp.token_count) {
        values[token.param_index] = path;
        return true;
    }
    return false;
}

template <std::size_t N>
bool match(const aster::detail::parsed_pattern<N>& pp, std::string_view path,
           std::string_view* values) {
    return match_from(pp, 0, path, values);
}

} // namespace aster_reference

#endif // ASTER_TESTS_FUZZ_SUPPORT_ROUTE_REFERENCE_HPP
