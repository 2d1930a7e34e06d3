// SPDX-License-Identifier: MIT
// The one user of <regex>: cors' allow_origin_regex.
#ifndef ASTER_MIDDLEWARE_IMPL_CORS_IPP
#define ASTER_MIDDLEWARE_IMPL_CORS_IPP

#include <aster/middleware/cors.hpp>

#include <regex>
#include <stdexcept>

namespace aster::detail {

ASTER_ENGINE origin_regex::origin_regex(const std::string& pattern) {
    try {
        regex_ = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        throw std::invalid_argument("aster::cors: allow_origin_regex \"" + pattern +
                                    "\" is not a valid ECMAScript regular expression: " + e.what());
    }
}

ASTER_ENGINE bool origin_regex::full_match(std::string_view origin) const {
    return std::regex_match(origin.begin(), origin.end(),
                            *static_cast<const std::regex*>(regex_.get()));
}

} // namespace aster::detail

#endif // ASTER_MIDDLEWARE_IMPL_CORS_IPP
