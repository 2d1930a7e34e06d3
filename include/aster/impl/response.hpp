// SPDX-License-Identifier: MIT
// Out-of-line members of aster::response.
#ifndef ASTER_IMPL_RESPONSE_HPP
#define ASTER_IMPL_RESPONSE_HPP

#include <aster/headers.hpp>

#include <algorithm>

namespace aster {

inline response& response::set_header(std::string_view name, std::string value) & {
    check_header(name, value);
    remove_header(name);
    headers_.emplace_back(std::string(name), std::move(value));
    return *this;
}

inline response& response::remove_header(std::string_view name) & {
    std::erase_if(headers_, [&](const auto& h) { return iequals(h.first, name); });
    return *this;
}

inline std::string_view response::header_value(std::string_view name) const noexcept {
    for (const auto& [n, v] : headers_)
        if (iequals(n, name)) return v;
    return {};
}

} // namespace aster

#endif // ASTER_IMPL_RESPONSE_HPP
