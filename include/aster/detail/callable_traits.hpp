// SPDX-License-Identifier: MIT
// The return and parameter types of functions, lambdas and member functions, for signature checks.
#ifndef ASTER_DETAIL_CALLABLE_TRAITS_HPP
#define ASTER_DETAIL_CALLABLE_TRAITS_HPP

#include <aster/detail/config.hpp>

#include <cstddef>
#include <tuple>

namespace aster::detail {

template <class R, class... Args>
struct signature {
    using result = R;
    using args = std::tuple<Args...>;
    static constexpr std::size_t arity = sizeof...(Args);
};

template <class F>
struct callable_traits : callable_traits<decltype(&F::operator())> {};

template <class R, class... A>
struct callable_traits<R (*)(A...)> : signature<R, A...> {};
template <class R, class... A>
struct callable_traits<R (*)(A...) noexcept> : signature<R, A...> {};
template <class R, class... A>
struct callable_traits<R(A...)> : signature<R, A...> {};

#define ASTER_MEMBER_TRAITS(QUALIFIERS)                                      \
    template <class C, class R, class... A>                                  \
    struct callable_traits<R (C::*)(A...) QUALIFIERS> : signature<R, A...> { \
        using object = C;                                                    \
    };
ASTER_MEMBER_TRAITS()
ASTER_MEMBER_TRAITS(const)
ASTER_MEMBER_TRAITS(noexcept)
ASTER_MEMBER_TRAITS(const noexcept)
ASTER_MEMBER_TRAITS(&)
ASTER_MEMBER_TRAITS(const&)
#undef ASTER_MEMBER_TRAITS

} // namespace aster::detail

#endif // ASTER_DETAIL_CALLABLE_TRAITS_HPP
