// SPDX-License-Identifier: MIT
// `aster::task<T>`: the coroutine type of every handler, an Asio awaitable, so handlers can
// co_await any Asio operation.
#ifndef ASTER_TASK_HPP
#define ASTER_TASK_HPP

#include <aster/detail/config.hpp>

#include <asio/awaitable.hpp>

#include <type_traits>

namespace aster {

namespace net = ::asio;

/// The return type of coroutine handlers: `aster::task<aster::response> get(aster::request&)`.
template <class T = void>
using task = net::awaitable<T>;

namespace detail {
template <class T>
struct is_task : std::false_type {};
template <class T, class E>
struct is_task<net::awaitable<T, E>> : std::true_type {
    using value_type = T;
};
} // namespace detail

} // namespace aster

#endif // ASTER_TASK_HPP
