// SPDX-License-Identifier: MIT
// `application`: the route table plus what serves it; what test_client and the server run.
#ifndef ASTER_APPLICATION_HPP
#define ASTER_APPLICATION_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/app_ref.hpp>
#include <aster/exception_handlers.hpp>
#include <aster/lifespan.hpp>
#include <aster/middleware.hpp>
#include <aster/options.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>
#include <aster/routing.hpp>

#include <cstdint>
#include <functional>
#include <tuple>
#include <type_traits>
#include <string>

namespace aster {

/// An app: a compile-time route table and the entry points that serve it.
/// Thread safety: const after construction; one app may serve many threads.
/// @code
/// constexpr auto table = aster::routes(aster::route<"/hello">(hello));
/// int main() { aster::application app{table}; app.run({.port = 8000}); }
/// @endcode
template <class Router, class Middleware = middleware_list<>>
class application;

/// With no middleware (the default) requests go straight to the router: no extra call, no
/// coroutine frame. With `aster::middleware(a, b)` each request runs a → b → router.
template <class Router, class... M>
class application<Router, middleware_list<M...>> {
public:
    using router_type = Router;
    static constexpr bool has_middleware = sizeof...(M) > 0;

    constexpr explicit application(Router table) : router_(table) {}
    constexpr application(Router table, middleware_list<M...> mw)
        : router_(table), middleware_(std::move(mw.items)) {}
    /// With startup/shutdown hooks (aster/lifespan.hpp), after the optional middleware.
    constexpr application(Router table, aster::lifespan hooks) : router_(table), lifespan_(hooks) {}
    constexpr application(Router table, middleware_list<M...> mw, aster::lifespan hooks)
        : router_(table), middleware_(std::move(mw.items)), lifespan_(hooks) {}
    /// With exception handlers (aster/exception_handlers.hpp): they sit innermost, around the
    /// router, as `detail::exception_guard`, the last entry of the middleware list.
    template <class... N, class... H>
    constexpr application(Router table, middleware_list<N...> mw, exception_handler_list<H...> eh,
                          aster::lifespan hooks = {})
        : router_(table),
          middleware_(std::tuple_cat(std::move(mw.items),
                                     std::tuple<detail::exception_guard<H...>>(
                                         detail::exception_guard<H...>{std::move(eh.items)}))),
          lifespan_(hooks) {}
    template <class... H>
    constexpr application(Router table, exception_handler_list<H...> eh, aster::lifespan hooks = {})
        : application(table, middleware_list<>{}, std::move(eh), hooks) {}

    /// Runs one request through the middleware and the router.
    task<response> handle(request& req) const {
        if constexpr (has_middleware) return level<0>(this, req);
        else return router_.dispatch(req);
    }

    const Router& routes() const noexcept { return router_; }
    const aster::lifespan& lifespan() const noexcept { return lifespan_; }

    /// The app as the connection engine sees it (valid while this app lives).
    detail::app_ref ref() const noexcept {
        detail::app_ref r = detail::make_app_ref(router_);
        r.startup = lifespan_.startup;
        r.shutdown = lifespan_.shutdown;
        r.state = lifespan_.state.object;
        r.state_type = lifespan_.state.type;
        if constexpr (has_middleware) {
            r.app = this;
            // Everything goes through invoke, which runs the chain (index 0: "the chain").
            r.route_now = +[](const void*, request&, response&) -> std::size_t { return 0; };
            r.invoke = +[](const void* p, std::size_t, request& req) -> task<response> {
                return level<0>(p, req);
            };
            // Middleware sees every body as the route would: streamed for coroutine routes.
            r.streams_body = +[](const void* p, request& req) {
                return static_cast<const application*>(p)->router_.streams_body(req);
            };
            r.match_websocket = +[](const void* p, request& req) -> std::size_t {
                std::size_t i = static_cast<const application*>(p)->router_.match_websocket(req);
                return i == Router::size ? detail::app_ref::none : i;
            };
            r.run_websocket = +[](const void* p, std::size_t i, request& req,
                                  websocket& ws) -> task<> {
                return static_cast<const application*>(p)->router_.run_websocket(i, req, ws);
            };
            if constexpr ((WebSocketMiddleware<M> || ...))
                r.check_websocket = +[](const void* p, request& req, response& out) {
                    return static_cast<const application*>(p)->refuse_websocket(req, out);
                };
        }
        return r;
    }

    /// The path of the route named `Name`; a missing name or a wrong parameter count does not
    /// compile.
    template <fixed_string Name, class... Params>
    std::string url_path_for(const Params&... params) const {
        return router_.template url_path_for<Name>(params...);
    }

    /// Serves on `config.host:config.port` until SIGINT/SIGTERM (defined in server.hpp).
    void run(server_config config = {}) const;

    /// Serves inside the caller's own io_context, as one coroutine on its executor (`threads`
    /// and `handle_signals` do not apply: the caller's loop and signals decide).
    /// `on_listening` gets the bound port (useful with port 0). Cancelling the coroutine stops
    /// it gracefully, as server::stop() does: no new connections, requests in flight finish,
    /// WebSockets close with 1001, and after `shutdown_timeout` (or a second cancellation) the
    /// rest are closed; it returns once every connection has ended. Bind/resolve failures throw
    /// std::system_error.
    /// @code
    /// asio::cancellation_signal stop;
    /// asio::co_spawn(ctx, app.serve({.port = 8080}),
    ///                asio::bind_cancellation_slot(stop.slot(), asio::detached));
    /// // later, on ctx's thread: stop.emit(asio::cancellation_type::terminal);
    /// @endcode
    task<> serve(server_config config = {},
                 std::function<void(std::uint16_t)> on_listening = {}) const;

private:
    // Level I runs middleware I with the rest of the chain as its `call_next`; past the last
    // one it is the router.
    template <std::size_t I>
    static task<response> level(const void* p, request& req) {
        const auto& self = *static_cast<const application*>(p);
        if constexpr (I == sizeof...(M)) return self.router_.dispatch(req);
        else if constexpr (detail::is_exception_guard<std::tuple_element_t<I, std::tuple<M...>>>)
            return std::get<I>(self.middleware_).run(self.router_, req);
        else return std::get<I>(self.middleware_)(req, call_next(p, &level<I + 1>));
    }

    // The first middleware (outermost first) that refuses the handshake answers it.
    bool refuse_websocket(request& req, response& out) const {
        return std::apply(
            [&](const auto&... m) {
                auto one = [&](const auto& item) {
                    if constexpr (WebSocketMiddleware<std::remove_cvref_t<decltype(item)>>) {
                        if (auto refusal = item.on_websocket(req)) {
                            out = std::move(*refusal);
                            return true;
                        }
                    }
                    return false;
                };
                return (one(m) || ...);
            },
            middleware_);
    }

    Router router_;
    [[no_unique_address]] std::tuple<M...> middleware_;
    aster::lifespan lifespan_;
};

template <class Router>
application(Router) -> application<Router>;
template <class Router, class... M>
application(Router, middleware_list<M...>) -> application<Router, middleware_list<M...>>;
template <class Router>
application(Router, lifespan) -> application<Router>;
template <class Router, class... M>
application(Router, middleware_list<M...>, lifespan) -> application<Router, middleware_list<M...>>;
template <class Router, class... M, class... H>
application(Router, middleware_list<M...>, exception_handler_list<H...>)
    -> application<Router, middleware_list<M..., detail::exception_guard<H...>>>;
template <class Router, class... M, class... H>
application(Router, middleware_list<M...>, exception_handler_list<H...>, lifespan)
    -> application<Router, middleware_list<M..., detail::exception_guard<H...>>>;
template <class Router, class... H>
application(Router, exception_handler_list<H...>)
    -> application<Router, middleware_list<detail::exception_guard<H...>>>;
template <class Router, class... H>
application(Router, exception_handler_list<H...>, lifespan)
    -> application<Router, middleware_list<detail::exception_guard<H...>>>;

/// Short name for the common spelling `aster::app app{routes};`.
template <class Router, class Middleware = middleware_list<>>
using app = application<Router, Middleware>;

} // namespace aster

#endif // ASTER_APPLICATION_HPP
