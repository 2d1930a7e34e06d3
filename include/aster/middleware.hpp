// SPDX-License-Identifier: MIT
// Middleware composed at compile time around the route table: `aster::middleware(a, b)`.
#ifndef ASTER_MIDDLEWARE_HPP
#define ASTER_MIDDLEWARE_HPP

#include <aster/detail/config.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>
#include <aster/task.hpp>

#include <concepts>
#include <optional>
#include <tuple>

namespace aster {

/// The rest of the chain, as a middleware sees it: the next middleware, or the router.
/// Cheap to copy (two pointers); valid while the application lives.
class call_next {
public:
    using function = task<response> (*)(const void* app, request& req);
    constexpr call_next(const void* app, function fn) noexcept : app_(app), fn_(fn) {}

    task<response> operator()(request& req) const { return fn_(app_, req); }

private:
    const void* app_;
    function fn_;
};

/// What `aster::middleware(...)` accepts: `task<response> operator()(request&, call_next) const`.
/// It may also define `std::optional<response> on_websocket(request&) const`: a refusal (sent
/// as the HTTP answer to the handshake) or nullopt to let the WebSocket through. A middleware
/// without it lets every WebSocket through untouched.
template <class M>
concept Middleware = requires(const M& m, request& req, call_next next) {
    { m(req, next) } -> std::same_as<task<response>>;
};

template <class M>
concept WebSocketMiddleware = requires(const M& m, request& req) {
    { m.on_websocket(req) } -> std::same_as<std::optional<response>>;
};

/// An ordered list of middleware; the first is outermost (sees the request first and the
/// response last), as in Starlette.
template <class... M>
struct middleware_list {
    std::tuple<M...> items;
};

/// @code
/// aster::application app{routes, aster::middleware(timing{},
/// aster::trusted_host{{"example.com"}})};
/// @endcode
template <class... M>
constexpr middleware_list<M...> middleware(M... m) {
    static_assert(
        (Middleware<M> && ...),
        "aster::middleware: each middleware needs "
        "`aster::task<aster::response> operator()(aster::request&, aster::call_next) const`");
    return {std::tuple<M...>(std::move(m)...)};
}

} // namespace aster

#endif // ASTER_MIDDLEWARE_HPP
