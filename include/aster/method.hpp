// SPDX-License-Identifier: MIT
// HTTP methods as a bit set, so a route's allowed methods and the `Allow` header are one integer.
#ifndef ASTER_METHOD_HPP
#define ASTER_METHOD_HPP

#include <aster/detail/config.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace aster {

/// Methods a route answers. Combine with `|`: `route<"/items", method::get | method::post>(fn)`.
enum class method : std::uint16_t {
    none = 0,
    get = 1 << 0,
    head = 1 << 1,
    post = 1 << 2,
    put = 1 << 3,
    patch = 1 << 4,
    delete_ = 1 << 5,
    options = 1 << 6,
    other = 1 << 7, // any method without its own bit (CONNECT, TRACE, PROPFIND, ...)
};

constexpr method operator|(method a, method b) noexcept {
    return method(std::uint16_t(a) | std::uint16_t(b));
}
constexpr method operator&(method a, method b) noexcept {
    return method(std::uint16_t(a) & std::uint16_t(b));
}
constexpr bool any(method m) noexcept { return m != method::none; }

constexpr method parse_method(std::string_view name) noexcept {
    if (name == "GET") return method::get;
    if (name == "HEAD") return method::head;
    if (name == "POST") return method::post;
    if (name == "PUT") return method::put;
    if (name == "PATCH") return method::patch;
    if (name == "DELETE") return method::delete_;
    if (name == "OPTIONS") return method::options;
    return method::other;
}

/// The `Allow` header value for a set, in the fixed order GET, HEAD, POST, PUT, PATCH, DELETE,
/// OPTIONS.
inline std::string allow_header(method set) {
    static constexpr std::pair<method, std::string_view> order[] = {
        {method::get, "GET"},        {method::head, "HEAD"},   {method::post, "POST"},
        {method::put, "PUT"},        {method::patch, "PATCH"}, {method::delete_, "DELETE"},
        {method::options, "OPTIONS"}};
    std::string out;
    for (auto [m, name] : order) {
        if (!any(set & m)) continue;
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

} // namespace aster

#endif // ASTER_METHOD_HPP
