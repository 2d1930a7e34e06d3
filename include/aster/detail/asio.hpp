// SPDX-License-Identifier: MIT
// The Asio pieces the protocol engines use, and nothing more: <asio.hpp> alone costs a second per
// TU.
#ifndef ASTER_DETAIL_ASIO_HPP
#define ASTER_DETAIL_ASIO_HPP

#include <aster/detail/config.hpp>
#include <aster/task.hpp>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#if ASIO_VERSION >= 102300
#include <asio/as_tuple.hpp>
#else
#include <asio/experimental/as_tuple.hpp>
#endif

namespace aster::detail {

// Completion token for I/O whose failure is a value, not an exception (EOF, reset, timeout).
#if ASIO_VERSION >= 102300
inline constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
#else
inline constexpr auto use_tuple = net::experimental::as_tuple(net::use_awaitable);
#endif

} // namespace aster::detail

#endif // ASTER_DETAIL_ASIO_HPP
