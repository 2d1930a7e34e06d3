// SPDX-License-Identifier: MIT
// `application`: the route table plus what serves it; what test_client and the server run.
#ifndef ASTER_APPLICATION_HPP
#define ASTER_APPLICATION_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/app_ref.hpp>
#include <aster/options.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>
#include <aster/routing.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace aster {

/// An app: a compile-time route table and the entry points that serve it.
/// Thread safety: const after construction; one app may serve many threads.
/// @code
/// constexpr auto table = aster::routes(aster::route<"/hello">(hello));
/// int main() { aster::application app{table}; app.run({.port = 8000}); }
/// @endcode
template <class Router>
class application {
public:
    using router_type = Router;

    constexpr explicit application(Router table) : router_(table) {}

    /// Routes one request to its handler; used by the connection loop.
    task<response> handle(request& req) const { return router_.dispatch(req); }

    const Router& routes() const noexcept { return router_; }

    /// The route table as the connection engine sees it (valid while this app lives).
    detail::app_ref ref() const noexcept { return detail::make_app_ref(router_); }

    /// The path of the route named `Name`; a missing name or a wrong parameter count does not compile.
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
    Router router_;
};

template <class Router>
application(Router) -> application<Router>;

/// Short name for the common spelling `aster::app app{routes};`.
template <class Router>
using app = application<Router>;

} // namespace aster

#endif // ASTER_APPLICATION_HPP
