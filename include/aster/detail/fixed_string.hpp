// SPDX-License-Identifier: MIT
// A string literal usable as a template argument, so route patterns are parsed at compile time.
#ifndef ASTER_DETAIL_FIXED_STRING_HPP
#define ASTER_DETAIL_FIXED_STRING_HPP

#include <aster/detail/config.hpp>

#include <cstddef>
#include <string_view>

namespace aster {

/// A compile-time string: `route<"/users/{id:int}">` passes one of these as a template argument.
template <std::size_t N>
struct fixed_string {
    char chars[N]{}; // N counts the terminating zero, as for the literal it came from

    constexpr fixed_string() = default;
    constexpr fixed_string(const char (&literal)[N]) noexcept {
        for (std::size_t i = 0; i < N; ++i) chars[i] = literal[i];
    }

    static constexpr std::size_t length = N - 1;
    constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
    constexpr operator std::string_view() const noexcept { return view(); }

    template <std::size_t M>
    constexpr bool operator==(const fixed_string<M>& other) const noexcept {
        return view() == other.view();
    }
};

template <std::size_t N>
fixed_string(const char (&)[N]) -> fixed_string<N>;

namespace detail {

template <fixed_string A, fixed_string B>
consteval auto concat() {
    fixed_string<A.length + B.length + 1> out;
    for (std::size_t i = 0; i < A.length; ++i) out.chars[i] = A.chars[i];
    for (std::size_t i = 0; i < B.length; ++i) out.chars[A.length + i] = B.chars[i];
    return out;
}

} // namespace detail
} // namespace aster

#endif // ASTER_DETAIL_FIXED_STRING_HPP
