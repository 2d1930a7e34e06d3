// SPDX-License-Identifier: MIT
// Compile-time checks that a handler fits its route pattern, and the call that converts path
// values.
#ifndef ASTER_DETAIL_HANDLER_CALL_HPP
#define ASTER_DETAIL_HANDLER_CALL_HPP

#include <aster/detail/config.hpp>
#include <aster/convertors.hpp>
#include <aster/detail/callable_traits.hpp>
#include <aster/detail/request_access.hpp>
#include <aster/detail/route_pattern.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>

#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace aster::detail {

template <fixed_string Pattern>
constexpr bool check_pattern() {
    constexpr auto e = pattern_of<Pattern>.error;
    static_assert(e != pattern_error::not_absolute, "aster::route: a pattern must start with '/'");
    static_assert(e != pattern_error::unbalanced_brace,
                  "aster::route: malformed pattern: unbalanced '{' or '}'");
    static_assert(e != pattern_error::bad_name,
                  "aster::route: malformed pattern: a parameter name must be an identifier, as in "
                  "{id} or {id:int}");
    static_assert(e != pattern_error::unknown_convertor,
                  "aster::route: unknown convertor in pattern; use str, int, float, uuid or path");
    static_assert(e != pattern_error::duplicate_name,
                  "aster::route: malformed pattern: a parameter name appears twice");
    static_assert(e != pattern_error::adjacent_params,
                  "aster::route: malformed pattern: two parameters need a literal between them");
    static_assert(pattern_of<Pattern>.param_count <= request::max_path_params,
                  "aster::route: a pattern may have at most 16 parameters");
    return e == pattern_error::none;
}

template <class R>
constexpr bool is_response_result = std::is_same_v<R, response> ||
                                    std::is_same_v<R, task<response>>;

// Parameters after the request must match the pattern's convertors in number, order and type.
template <fixed_string Pattern, class Args>
constexpr bool params_fit() {
    constexpr auto& pp = pattern_of<Pattern>;
    if constexpr (std::tuple_size_v<Args> != pp.param_count + 1) {
        return false;
    } else {
        return []<std::size_t... I>(std::index_sequence<I...>) {
            return (convertor_accepts<pp.param(I).conv, std::tuple_element_t<I + 1, Args>>() &&
                    ...);
        }
        (std::make_index_sequence<pp.param_count>{});
    }
}

template <fixed_string Pattern, class Sig>
constexpr bool check_signature() {
    using args = typename Sig::args;
    if constexpr (std::tuple_size_v<args> == 0) {
        static_assert(std::tuple_size_v<args> != 0,
                      "aster::route: a handler's first parameter must be aster::request&");
        return false;
    } else {
        static_assert(std::is_same_v<std::tuple_element_t<0, args>, request&>,
                      "aster::route: a handler's first parameter must be aster::request&");
        static_assert(is_response_result<typename Sig::result>,
                      "aster::route: a handler must return aster::response or "
                      "aster::task<aster::response>");
        static_assert(std::tuple_size_v<args> == pattern_of<Pattern>.param_count + 1,
                      "aster::route: the handler's path parameters do not match the pattern: it "
                      "takes a different number of them");
        static_assert(std::tuple_size_v<args> != pattern_of<Pattern>.param_count + 1 ||
                          params_fit<Pattern, args>(),
                      "aster::route: the handler's path parameters do not match the pattern's "
                      "convertors: int takes an integer, float a floating-point type, str and path "
                      "std::string_view or std::string, uuid aster::uuid");
        return true;
    }
}

// True when every path value converts to the handler's parameter type (an int may overflow it).
template <class Args>
bool values_convert(std::span<const std::string_view> values) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return (convert_segment<std::tuple_element_t<I + 1, Args>>(values[I]).has_value() && ...);
    }
    (std::make_index_sequence<std::tuple_size_v<Args> - 1>{});
}

inline task<response> ready_response(response r) { co_return r; }

// Calls a plain (non-coroutine) handler with converted path values.
template <class Sig, class F>
response call_now(const F& f, request& req) {
    using args = typename Sig::args;
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto params = req.path_params();
        return f(req, *convert_segment<std::tuple_element_t<I + 1, args>>(params[I].value)...);
    }
    (std::make_index_sequence<std::tuple_size_v<args> - 1>{});
}

// A plain handler run from a coroutine (an endpoint's member) with a body still streaming in:
// it reads buffered_body(), so the body is gathered first. The call is type-erased, so the
// frame's type does not depend on the handler's (a lambda at namespace scope, say).
inline task<response> call_gathered(request& req, std::function<response(request&)> call) {
    co_await req.body();
    co_return call(req);
}

// Calls `f(req, converted path values...)`. A coroutine handler's own awaitable is returned as is,
// so the call adds no coroutine frame of its own.
template <class Sig, class F>
task<response> call_handler(F& f, request& req) {
    using args = typename Sig::args;
    if constexpr (std::is_same_v<typename Sig::result, response>) {
        if (request_access::body_streaming(req))
            return call_gathered(req, [f](request& r) { return call_now<Sig>(f, r); });
        return ready_response(call_now<Sig>(f, req));
    } else {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            auto params = req.path_params();
            return f(req, *convert_segment<std::tuple_element_t<I + 1, args>>(params[I].value)...);
        }
        (std::make_index_sequence<std::tuple_size_v<args> - 1>{});
    }
}

} // namespace aster::detail

#endif // ASTER_DETAIL_HANDLER_CALL_HPP
