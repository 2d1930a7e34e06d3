// SPDX-License-Identifier: MIT
// The compile-time baseline: the smallest idiomatic Asio C++20 coroutine TCP echo server.
// bench/compile_time.sh compiles it beside examples/hello/main.cpp.
#include <asio.hpp>

using asio::ip::tcp;

asio::awaitable<void> echo(tcp::socket socket) {
    char data[1024];
    for (;;) {
        std::size_t n = co_await socket.async_read_some(asio::buffer(data), asio::use_awaitable);
        co_await asio::async_write(socket, asio::buffer(data, n), asio::use_awaitable);
    }
}

asio::awaitable<void> listener(unsigned short port) {
    auto executor = co_await asio::this_coro::executor;
    tcp::acceptor acceptor(executor, {tcp::v4(), port});
    for (;;) {
        tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        asio::co_spawn(executor, echo(std::move(socket)), asio::detached);
    }
}

int main() {
    asio::io_context ctx;
    asio::co_spawn(ctx, listener(8000), asio::detached);
    ctx.run();
}
