// SPDX-License-Identifier: MIT
// `lifespan`: coroutines an app runs once before serving and once after its last connection.
#ifndef ASTER_LIFESPAN_HPP
#define ASTER_LIFESPAN_HPP

#include <aster/detail/config.hpp>
#include <aster/request.hpp>
#include <aster/task.hpp>

namespace aster {

/// Startup and shutdown hooks, as Starlette's lifespan: `startup` runs before the first
/// connection is accepted (a throw stops the server from starting, with that exception),
/// `shutdown` after the last connection has ended on a graceful stop. Either may be null.
/// Plain function pointers (captureless lambdas convert), so an app stays constexpr.
/// @code
/// aster::application app{routes, aster::lifespan{.startup = open_pool, .shutdown = close_pool}};
/// @endcode
/// An object every handler reaches as `req.state<T>()` (Starlette's lifespan state): the app
/// does not own it, and handlers on several server threads share it, so it must outlive the
/// app and be safe for them to use concurrently.
struct app_state {
    void* object = nullptr;
    const void* type = nullptr; // detail::type_tag<T>, checked by request::state<T>()
};

template <class T>
constexpr app_state state_of(T& object) noexcept {
    return {static_cast<void*>(&object), &detail::type_tag<T>};
}

struct lifespan {
    task<> (*startup)() = nullptr;
    task<> (*shutdown)() = nullptr;
    app_state state{}; // for req.state<T>(); set it with aster::state_of(object)
};

} // namespace aster

#endif // ASTER_LIFESPAN_HPP
