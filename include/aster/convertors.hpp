// SPDX-License-Identifier: MIT
// Typed path segments: {name} {n:int} {x:float} {u:uuid} {p:path} and the C++ types they convert
// to.
#ifndef ASTER_CONVERTORS_HPP
#define ASTER_CONVERTORS_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/http_grammar.hpp>

#include <array>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace aster {

/// The convertor named after the colon in a pattern parameter; `str` when none is named.
enum class convertor { str, int_, float_, uuid, path };

/// A UUID taken from a `{u:uuid}` segment: 16 bytes, printed in lower-case 8-4-4-4-12 form.
struct uuid {
    std::array<std::uint8_t, 16> bytes{};

    static constexpr std::optional<uuid> parse(std::string_view text) noexcept;
    std::string to_string() const;
    friend constexpr bool operator==(const uuid&, const uuid&) = default;
};

namespace detail {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Which C++ parameter types a convertor can feed. Checked at compile time against the handler.
template <convertor C, class T>
constexpr bool convertor_accepts() {
    using U = std::remove_cvref_t<T>;
    if constexpr (C == convertor::int_)
        return std::is_integral_v<U> && !std::is_same_v<U, bool> && !std::is_same_v<U, char>;
    else if constexpr (C == convertor::float_) return std::is_floating_point_v<U>;
    else if constexpr (C == convertor::uuid)
        return std::is_same_v<U, uuid> || std::is_same_v<U, std::string_view> ||
               std::is_same_v<U, std::string>;
    else return std::is_same_v<U, std::string_view> || std::is_same_v<U, std::string>;
}

// The length of the longest prefix of `s` that the convertor's syntax accepts (Starlette regexes:
// str `[^/]+`, int `[0-9]+`, float `[0-9]+(\.[0-9]+)?`, uuid 8-4-4-4-12 hex, path `.*`).
constexpr std::size_t convertor_extent(convertor c, std::string_view s) noexcept {
    switch (c) {
    case convertor::str: {
        auto slash = s.find('/');
        return slash == std::string_view::npos ? s.size() : slash;
    }
    case convertor::int_: {
        std::size_t i = 0;
        while (i < s.size() && is_digit(s[i])) ++i;
        return i;
    }
    case convertor::float_: {
        std::size_t i = 0;
        while (i < s.size() && is_digit(s[i])) ++i;
        if (i > 0 && i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
            i += 2;
            while (i < s.size() && is_digit(s[i])) ++i;
        }
        return i;
    }
    case convertor::uuid:
        return s.size() >= 36 && uuid::parse(s.substr(0, 36)) ? 36 : 0;
    case convertor::path:
        return s.size();
    }
    return 0;
}

// Converts an already-matched segment to the handler's parameter type. nullopt means the value
// is syntactically fine but does not fit (an int that overflows `T`): the route then answers 404.
template <class T>
std::optional<std::remove_cvref_t<T>> convert_segment(std::string_view s) {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::is_integral_v<U> || std::is_floating_point_v<U>) {
        U value{};
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
        return value;
    } else if constexpr (std::is_same_v<U, uuid>) {
        return uuid::parse(s);
    } else {
        return U(s);
    }
}

} // namespace detail

constexpr std::optional<uuid> uuid::parse(std::string_view text) noexcept {
    if (text.size() != 36) return std::nullopt;
    uuid out;
    std::size_t byte = 0;
    for (std::size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') return std::nullopt;
            ++i;
            continue;
        }
        int hi = detail::hex_value(text[i]), lo = detail::hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.bytes[byte++] = static_cast<std::uint8_t>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

inline std::string uuid::to_string() const {
    constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(digits[bytes[i] >> 4]);
        out.push_back(digits[bytes[i] & 15]);
    }
    return out;
}

} // namespace aster

#endif // ASTER_CONVERTORS_HPP
