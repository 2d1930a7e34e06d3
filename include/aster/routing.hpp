// SPDX-License-Identifier: MIT
// The compile-time route table: route<"/pattern">(handler), route<"/p", Endpoint>(), mount,
// routes(...).
#ifndef ASTER_ROUTING_HPP
#define ASTER_ROUTING_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/fixed_string.hpp>
#include <aster/detail/handler_call.hpp>
#include <aster/detail/request_access.hpp>
#include <aster/detail/reverse_route.hpp>
#include <aster/detail/route_errors.hpp>
#include <aster/detail/route_pattern.hpp>
#include <aster/endpoints.hpp>
#include <aster/method.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>
#include <aster/url.hpp>

#include <array>
#include <charconv>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace aster {

namespace detail {

template <fixed_string Pattern, fixed_string Name>
struct route_base {
    static constexpr auto pattern = Pattern;
    static constexpr auto name = Name;
    static constexpr const auto& parsed = pattern_of<Pattern>;
    static constexpr bool is_websocket = false;
    static constexpr bool is_metrics = false;
    /// The route's label in the access log's metrics: its name, else its pattern.
    static constexpr std::string_view label() noexcept {
        return Name.view().empty() ? Pattern.view() : Name.view();
    }

    static bool match_path(std::string_view path, std::string_view* values) noexcept {
        return match_pattern(parsed, path, values);
    }
};
} // namespace detail

/// A function route: `route<"/users/{id:int}">(show_user)` answers GET (and HEAD);
/// `route<"/items", method::post>(create)` names other methods.
template <fixed_string Pattern, method Methods, class Handler, fixed_string Name = "">
struct function_route : detail::route_base<Pattern, Name> {
    using signature = detail::callable_traits<Handler>;
    static constexpr method allowed = any(Methods & method::get) ? Methods | method::head : Methods;
    static constexpr method allow_list = allowed;

    Handler handler;

    template <fixed_string NewName>
    constexpr auto named() const {
        return function_route<Pattern, Methods, Handler, NewName>{{}, handler};
    }
    template <fixed_string Prefix>
    constexpr auto mounted_at() const {
        return function_route<detail::concat<Prefix, Pattern>(), Methods, Handler, Name>{{},
                                                                                         handler};
    }
    static bool values_convert(std::span<const std::string_view> values) {
        return detail::values_convert<typename signature::args>(values);
    }
    // A plain function runs inside the router, with no coroutine frame.
    static constexpr bool runs_now = std::is_same_v<typename signature::result, response>;
    response call_now(request& req) const { return detail::call_now<signature>(handler, req); }
    task<response> invoke(request& req) const {
        return detail::call_handler<signature>(handler, req);
    }
};

/// A class-based route: `route<"/users/{id:int}", user_endpoint>()`.
template <fixed_string Pattern, class Endpoint, fixed_string Name = "">
struct endpoint_route : detail::route_base<Pattern, Name> {
    static constexpr method allowed = detail::endpoint_methods<Endpoint>();
    static constexpr method allow_list = detail::endpoint_allow_list<Endpoint>();

    template <fixed_string NewName>
    constexpr auto named() const {
        return endpoint_route<Pattern, Endpoint, NewName>{};
    }
    template <fixed_string Prefix>
    constexpr auto mounted_at() const {
        return endpoint_route<detail::concat<Prefix, Pattern>(), Endpoint, Name>{};
    }
    static bool values_convert(std::span<const std::string_view> values) {
        return detail::endpoint_values_convert<Endpoint>(values);
    }
    static constexpr bool runs_now = false;
    response call_now(request&) const { return {}; }
    task<response> invoke(request& req) const { return detail::run_endpoint<Endpoint>(req); }
};

/// A class-based WebSocket route: `websocket_route<"/ws", chat_endpoint>()`.
template <fixed_string Pattern, class Endpoint, fixed_string Name = "">
struct websocket_endpoint_route : detail::route_base<Pattern, Name> {
    static constexpr bool is_websocket = true;
    static constexpr method allowed = method::get;
    static constexpr method allow_list = method::get;

    template <fixed_string NewName>
    constexpr auto named() const {
        return websocket_endpoint_route<Pattern, Endpoint, NewName>{};
    }
    template <fixed_string Prefix>
    constexpr auto mounted_at() const {
        return websocket_endpoint_route<detail::concat<Prefix, Pattern>(), Endpoint, Name>{};
    }
    static bool values_convert(std::span<const std::string_view>) { return true; }
    task<> run(request&, websocket& ws) const {
        return detail::run_websocket_endpoint<Endpoint>(ws);
    }
};

/// A function WebSocket route: `websocket_route<"/ws/{room}">(fn)` with
/// `aster::task<> fn(aster::websocket&, std::string_view room)`.
template <fixed_string Pattern, class Handler, fixed_string Name = "">
struct websocket_function_route : detail::route_base<Pattern, Name> {
    using signature = detail::callable_traits<Handler>;
    static constexpr bool is_websocket = true;
    static constexpr method allowed = method::get;
    static constexpr method allow_list = method::get;

    Handler handler;

    template <fixed_string NewName>
    constexpr auto named() const {
        return websocket_function_route<Pattern, Handler, NewName>{{}, handler};
    }
    template <fixed_string Prefix>
    constexpr auto mounted_at() const {
        return websocket_function_route<detail::concat<Prefix, Pattern>(), Handler, Name>{{},
                                                                                          handler};
    }
    static bool values_convert(std::span<const std::string_view> values) {
        return detail::values_convert<typename signature::args>(values);
    }
    task<> run(request& req, websocket& ws) const {
        using args = typename signature::args;
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            auto params = req.path_params();
            return handler(ws, *detail::convert_segment<std::tuple_element_t<I + 1, args>>(
                                   params[I].value)...);
        }
        (std::make_index_sequence<std::tuple_size_v<args> - 1>{});
    }
};

template <fixed_string Pattern, class Endpoint>
constexpr auto websocket_route() {
    static_assert(detail::check_pattern<Pattern>());
    static_assert(detail::check_websocket_endpoint<Endpoint>());
    return websocket_endpoint_route<Pattern, Endpoint>{};
}

template <fixed_string Pattern, class Handler>
constexpr auto websocket_route(Handler handler) {
    static_assert(detail::check_pattern<Pattern>());
    using sig = detail::callable_traits<Handler>;
    using args = typename sig::args;
    static_assert(std::is_same_v<typename sig::result, task<>>,
                  "aster::websocket_route: a WebSocket handler must return aster::task<>");
    if constexpr (std::tuple_size_v < args >> 0) {
        static_assert(std::is_same_v<std::tuple_element_t<0, args>, websocket&>,
                      "aster::websocket_route: a WebSocket handler's first parameter must be "
                      "aster::websocket&");
        static_assert(std::tuple_size_v<args> == detail::pattern_of<Pattern>.param_count + 1,
                      "aster::route: the handler's path parameters do not match the pattern: it "
                      "takes a different number of them");
        static_assert(std::tuple_size_v<args> != detail::pattern_of<Pattern>.param_count + 1 ||
                          detail::params_fit<Pattern, args>(),
                      "aster::route: the handler's path parameters do not match the pattern's "
                      "convertors: int takes an integer, float a floating-point type, str and path "
                      "std::string_view or std::string, uuid aster::uuid");
    } else {
        static_assert(std::tuple_size_v<args> > 0,
                      "aster::websocket_route: a WebSocket handler's first parameter must be "
                      "aster::websocket&");
    }
    return websocket_function_route<Pattern, Handler>{{}, handler};
}

template <fixed_string Pattern, method Methods = method::get, class Handler>
constexpr auto route(Handler handler) {
    static_assert(detail::check_pattern<Pattern>());
    static_assert(std::is_class_v<Handler> || std::is_pointer_v<Handler>,
                  "aster::route: the handler must be a function or a callable object");
    static_assert(detail::check_signature<Pattern, detail::callable_traits<Handler>>());
    static_assert(Methods != method::none, "aster::route: name at least one method");
    return function_route<Pattern, Methods, Handler>{{}, handler};
}

template <fixed_string Pattern, class Endpoint>
constexpr auto route() {
    static_assert(detail::check_pattern<Pattern>());
    static_assert(detail::check_endpoint<Pattern, Endpoint>());
    return endpoint_route<Pattern, Endpoint>{};
}

template <class... Routes>
class router;

namespace detail {

template <class T>
struct is_router : std::false_type {};
template <class... R>
struct is_router<router<R...>> : std::true_type {};

template <class T>
constexpr auto as_route_tuple(const T& item) {
    if constexpr (is_router<T>::value) return item.entries();
    else return std::tuple<T>(item);
}

template <class A, class B>
constexpr bool routes_conflict() {
    return A::is_websocket == B::is_websocket && same_shape(A::parsed, B::parsed) &&
           any(A::allowed & B::allowed);
}

template <class A, class B>
constexpr bool names_conflict() {
    return !A::name.view().empty() && same_text(A::name.view(), B::name.view());
}

template <class A, class B>
struct route_conflict : std::bool_constant<routes_conflict<A, B>()> {};
template <class A, class B>
struct name_conflict : std::bool_constant<names_conflict<A, B>()> {};

// The first pair i < j of routes in conflict, as i * n + j; n * n when there is none.
template <template <class, class> class Conflict, class... R>
constexpr std::size_t first_pair() {
    using list = std::tuple<R...>;
    constexpr std::size_t n = sizeof...(R);
    std::size_t found = n * n;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&]<std::size_t... J>(std::index_sequence<J...>) {
                constexpr std::size_t i = I;
                ((found == n * n && J > i &&
                          Conflict<std::tuple_element_t<i, list>,
                                   std::tuple_element_t<J, list>>::value
                      ? void(found = i * n + J)
                      : void()),
                 ...);
            }(std::make_index_sequence<n>{}),
            ...);
    }
    (std::make_index_sequence<n>{});
    return found;
}

// True when no two routes clash; otherwise the first clash is a compile error naming both.
template <class... R>
constexpr bool routes_are_distinct() {
    constexpr std::size_t n = sizeof...(R);
    using list = std::tuple<R...>;
    constexpr std::size_t same = first_pair<route_conflict, R...>();
    if constexpr (same < n * n) {
        using A = std::tuple_element_t<same / n, list>;
        using B = std::tuple_element_t<same % n, list>;
        return duplicate_route<A::pattern,
                               B::pattern>::give_one_of_them_another_pattern_or_other_methods();
    }
    constexpr std::size_t named = first_pair<name_conflict, R...>();
    if constexpr (named < n * n) {
        using A = std::tuple_element_t<named / n, list>;
        return duplicate_route_name<A::name>::give_each_route_a_name_of_its_own();
    }
    return true;
}

template <fixed_string Name, class... R>
constexpr std::size_t index_of_name() {
    constexpr std::array<std::string_view, sizeof...(R)> names{R::name.view()...};
    for (std::size_t i = 0; i < names.size(); ++i)
        if (same_text(names[i], Name.view())) return i;
    return names.size();
}

template <class T>
void append_path_value(std::string& out, convertor conv, const T& value) {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::is_arithmetic_v<U> || std::is_same_v<U, uuid>) {
        append_path_text(out, value);
    } else {
        out += percent_encode(std::string_view(value), conv == convertor::path ? "/" : "");
    }
}

} // namespace detail

/// An ordered table of routes, built at compile time; the first full match wins.
/// @code
/// constexpr auto table = aster::routes(aster::route<"/hello">(hello),
///                                      aster::mount<"/api">(api_routes));
/// @endcode
template <class... Routes>
class router {
    static_assert(detail::routes_are_distinct<Routes...>(),
                  "aster::routes: duplicate route: two routes have the same pattern and share a "
                  "method, or the same name (the first error names them)");

public:
    static constexpr std::size_t size = sizeof...(Routes);

    constexpr explicit router(Routes... r) : routes_(r...) {}
    constexpr explicit router(std::tuple<Routes...> r) : routes_(r) {}

    constexpr const std::tuple<Routes...>& entries() const noexcept { return routes_; }

    static constexpr bool has_websocket_routes = (Routes::is_websocket || ...);
    static constexpr bool has_metrics = (Routes::is_metrics || ...);

    /// The index of the first WebSocket route matching the request's path (path parameters are
    /// filled in), or `size`.
    std::size_t match_websocket(request& req) const;
    /// Runs WebSocket route `index` on an upgraded connection.
    task<> run_websocket(std::size_t index, request& req, websocket& ws) const;

    /// Routes the request and runs its handler: 404 when no path matches, 405 with `Allow` when
    /// only the method misses, a 307 to `/x` from `/x/` (or back) when only the other exists.
    task<response> dispatch(request& req) const;

    /// Routing alone: the index of the route the request reaches (its path parameters filled
    /// in), or `size` with routing's own answer (404, 405 or a redirect) in `out`. `unmatched`,
    /// when given, is set when that answer is a 404 or 405 (for exception handlers).
    std::size_t match(request& req, response& out, bool* unmatched = nullptr) const;
    /// True when route `index` is a plain function, which call_now runs without a coroutine.
    static bool runs_now(std::size_t index) noexcept;
    /// Runs plain route `index` into `out`; its body must be buffered (see request::body).
    void call_now(std::size_t index, request& req, response& out) const;
    /// The synchronous half of dispatch: answers into `out` and returns `size` when no
    /// coroutine is needed (a plain handler ran, or 404/405/redirect); otherwise returns the
    /// index of the coroutine route for `invoke`. `unmatched` as for match.
    std::size_t route_now(request& req, response& out, bool* unmatched = nullptr) const;
    /// Runs coroutine route `index`, returning the handler's own awaitable.
    task<response> invoke(std::size_t index, request& req) const;
    /// True when the request reaches a coroutine route, which may read its body as it arrives
    /// (request::read_some); false for plain handlers (they get it whole) and unmatched paths.
    bool streams_body(request& req) const;

    /// Every route's name and pattern, for run-time reverse routing (request::url_path_for).
    static constexpr detail::route_table route_table() noexcept {
        return {detail::route_infos<Routes...>.data(), size, &detail::reverse_route};
    }

    /// The path of the route named `Name`, with `params` in the pattern's order.
    template <fixed_string Name, class... Params>
    std::string url_path_for(const Params&... params) const;

private:
    std::tuple<Routes...> routes_;
};

/// Builds a table from routes and tables, flattened in order.
template <class... Items>
constexpr auto routes(Items... items) {
    auto all = std::tuple_cat(detail::as_route_tuple(items)...);
    return std::apply([](auto... r) { return router<decltype(r)...>(r...); }, all);
}

/// The routes of `table` under `Prefix`: `mount<"/api">(api)` serves `/api/users` from `/users`.
template <fixed_string Prefix, class... Routes>
constexpr auto mount(const router<Routes...>& table) {
    static_assert(detail::check_pattern<Prefix>());
    static_assert(detail::pattern_of<Prefix>.param_count == 0,
                  "aster::mount: a mount prefix takes no parameters");
    static_assert(!Prefix.view().ends_with('/'),
                  "aster::mount: write the prefix without a trailing '/'");
    return std::apply(
        [](auto... r) {
            return router<decltype(r.template mounted_at<Prefix>())...>(
                r.template mounted_at<Prefix>()...);
        },
        table.entries());
}

} // namespace aster

#include <aster/impl/routing.hpp>

#endif // ASTER_ROUTING_HPP
