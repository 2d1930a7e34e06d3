// SPDX-License-Identifier: MIT
// Exceptions the user-facing API throws and the framework turns into responses.
#ifndef ASTER_ERROR_HPP
#define ASTER_ERROR_HPP

#include <aster/detail/config.hpp>
#include <aster/status.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace aster {

/// Thrown from a handler to answer with `status`: the body is `detail`, or the reason phrase.
/// @code
/// if (!user) throw aster::http_exception{aster::status::not_found, "no such user"};
/// @endcode
class http_exception : public std::runtime_error {
public:
    using header_list = std::vector<std::pair<std::string, std::string>>;

    explicit http_exception(aster::status code, std::string detail = {}, header_list headers = {})
        : std::runtime_error(detail.empty() ? std::string(reason(code)) : detail),
          status_(code), headers_(std::move(headers)) {}

    aster::status status() const noexcept { return status_; }
    std::string_view detail() const noexcept { return what(); }
    const header_list& headers() const noexcept { return headers_; }

private:
    aster::status status_;
    header_list headers_;
};

} // namespace aster

#endif // ASTER_ERROR_HPP
