// SPDX-License-Identifier: MIT
// `lifespan`: coroutines an app runs once before serving and once after its last connection.
#ifndef ASTER_LIFESPAN_HPP
#define ASTER_LIFESPAN_HPP

#include <aster/detail/config.hpp>
#include <aster/task.hpp>

namespace aster {

/// Startup and shutdown hooks, as Starlette's lifespan: `startup` runs before the first
/// connection is accepted (a throw stops the server from starting, with that exception),
/// `shutdown` after the last connection has ended on a graceful stop. Either may be null.
/// Plain function pointers (captureless lambdas convert), so an app stays constexpr.
/// @code
/// aster::application app{routes, aster::lifespan{.startup = open_pool, .shutdown = close_pool}};
/// @endcode
struct lifespan {
    task<> (*startup)() = nullptr;
    task<> (*shutdown)() = nullptr;
};

} // namespace aster

#endif // ASTER_LIFESPAN_HPP
