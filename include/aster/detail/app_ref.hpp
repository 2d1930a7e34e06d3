// SPDX-License-Identifier: MIT
// app_ref: what the connection engine needs from an app, behind a few function pointers.
#ifndef ASTER_DETAIL_APP_REF_HPP
#define ASTER_DETAIL_APP_REF_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/route_table.hpp>
#include <aster/task.hpp>

#include <cstddef>

namespace aster {
class request;
class response;
class websocket;
} // namespace aster

namespace aster::detail {

/// The route table seen through plain function pointers. The connection, WebSocket and server
/// code talks to apps only through this, so it is compiled once for every app rather than once
/// per route table, and can be compiled separately (ASTER_SEPARATE_COMPILATION). The cost is
/// one indirect call per request. The app must outlive every app_ref to it.
struct app_ref {
    /// Returned by route_now and match_websocket when there is nothing more to run.
    static constexpr std::size_t none = static_cast<std::size_t>(-1);

    const void* app = nullptr;
    /// Routes and, for a plain handler, answers into the response; returns `none` then, or the
    /// index of the coroutine route that `invoke` must run.
    std::size_t (*route_now)(const void* app, request& req, response& out) = nullptr;
    task<response> (*invoke)(const void* app, std::size_t index, request& req) = nullptr;
    /// Whether the request reaches a coroutine route, which may read its body as it arrives
    /// (checked when a body is large or still arriving); plain handlers get it whole.
    bool (*streams_body)(const void* app, request& req) = nullptr;
    /// The WebSocket route for the request's path, with path parameters filled in, or `none`.
    std::size_t (*match_websocket)(const void* app, request& req) = nullptr;
    task<> (*run_websocket)(const void* app, std::size_t index, request& req,
                            websocket& ws) = nullptr;
    /// Middleware that may refuse a WebSocket handshake: true with the refusal in `out`.
    /// Null when no middleware looks at WebSockets.
    bool (*check_websocket)(const void* app, request& req, response& out) = nullptr;
    /// The app's lifespan hooks (aster/lifespan.hpp); null when it has none.
    task<> (*startup)() = nullptr;
    task<> (*shutdown)() = nullptr;
    /// The app's state for request::state<T>() and the tag of its type; null when none.
    void* state = nullptr;
    const void* state_type = nullptr;
    /// The routes by name, for request::url_path_for.
    route_table routes{};
    /// The app serves metrics_route: its connections count requests and sessions.
    bool has_metrics = false;
};

/// Binds an app_ref to a router (anything with route_now, invoke, streams_body, match_websocket,
/// run_websocket and a static `size` meaning "none").
template <class Router>
app_ref make_app_ref(const Router& router) noexcept {
    app_ref ref;
    ref.app = &router;
    ref.routes = router.route_table();
    ref.has_metrics = Router::has_metrics;
    ref.route_now = +[](const void* p, request& req, response& out) -> std::size_t {
        std::size_t i = static_cast<const Router*>(p)->route_now(req, out);
        return i == Router::size ? app_ref::none : i;
    };
    ref.invoke = +[](const void* p, std::size_t i, request& req) -> task<response> {
        return static_cast<const Router*>(p)->invoke(i, req);
    };
    ref.streams_body = +[](const void* p, request& req) {
        return static_cast<const Router*>(p)->streams_body(req);
    };
    ref.match_websocket = +[](const void* p, request& req) -> std::size_t {
        std::size_t i = static_cast<const Router*>(p)->match_websocket(req);
        return i == Router::size ? app_ref::none : i;
    };
    ref.run_websocket = +[](const void* p, std::size_t i, request& req, websocket& ws) -> task<> {
        return static_cast<const Router*>(p)->run_websocket(i, req, ws);
    };
    return ref;
}

} // namespace aster::detail

#endif // ASTER_DETAIL_APP_REF_HPP
