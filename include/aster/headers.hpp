// SPDX-License-Identifier: MIT
// Case-insensitive, multi-valued header list of views into the connection's read buffer.
#ifndef ASTER_HEADERS_HPP
#define ASTER_HEADERS_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/http_grammar.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aster {

/// Header fields a program owns and sends: a response's, an exception's, a WebSocket accept's,
/// the test client's. Name and value pairs in order; names may repeat.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// ASCII case-insensitive equality, as header names compare (RFC 9110 §5.1).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (detail::ascii_lower(a[i]) != detail::ascii_lower(b[i])) return false;
    return true;
}

/// A field name is a token (RFC 9110 §5.1, §5.6.2).
constexpr bool valid_field_name(std::string_view name) noexcept { return detail::is_token(name); }

/// A field value holds no control character but HTAB (RFC 9110 §5.5): a line break would
/// split the message, a NUL breaks the clients that see it.
constexpr bool valid_field_value(std::string_view value) noexcept {
    for (char c : value)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return false;
    return true;
}

struct header_field {
    std::string_view name;
    std::string_view value;
};

/// The request's headers, in arrival order. Lookups ignore case; repeated names keep every value.
/// The views stay valid while the handler runs (they point into the connection's buffer).
class headers {
public:
    using const_iterator = std::vector<header_field>::const_iterator;

    /// The first value of `name`, or nullopt.
    std::optional<std::string_view> get(std::string_view name) const noexcept {
        for (const auto& f : fields_)
            if (iequals(f.name, name)) return f.value;
        return std::nullopt;
    }
    /// The first value of `name`, or `fallback`.
    std::string_view get(std::string_view name, std::string_view fallback) const noexcept {
        return get(name).value_or(fallback);
    }
    std::vector<std::string_view> get_all(std::string_view name) const {
        std::vector<std::string_view> out;
        for (const auto& f : fields_)
            if (iequals(f.name, name)) out.push_back(f.value);
        return out;
    }
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    const_iterator begin() const noexcept { return fields_.begin(); }
    const_iterator end() const noexcept { return fields_.end(); }

    void add(std::string_view name, std::string_view value) { fields_.push_back({name, value}); }
    void clear() noexcept { fields_.clear(); } // keeps capacity: no allocation per request

private:
    std::vector<header_field> fields_;
};

} // namespace aster

#endif // ASTER_HEADERS_HPP
