// SPDX-License-Identifier: MIT
// The WebSocket comparison point: a Boost.Beast echo server written the way Beast's own
// coroutine examples are, on Boost.Asio awaitables. One coroutine per connection reads a whole
// message into a flat_buffer and writes it back with the same text/binary flag; no
// fragmentation, no permessage-deflate, no timeouts.
// ./ws_beast_echo [--port 8003]; listens on 127.0.0.1 with one thread; any path is accepted.
#include "beast_listen.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

namespace net = boost::asio;
namespace websocket = boost::beast::websocket;
using net::ip::tcp;
using error_code = boost::system::error_code;

net::awaitable<void> session(tcp::socket socket) {
    error_code ec;
    auto token = net::redirect_error(net::use_awaitable, ec);
    socket.set_option(tcp::no_delay(true), ec); // as aster: replies must not wait for Nagle
    websocket::stream<tcp::socket> ws(std::move(socket));
    ws.auto_fragment(false);
    websocket::permessage_deflate deflate; // off: both sides of the comparison send raw frames
    deflate.server_enable = false;
    deflate.client_enable = false;
    ws.set_option(deflate);
    co_await ws.async_accept(token);
    if (ec) co_return;
    boost::beast::flat_buffer buffer;
    for (;;) {
        co_await ws.async_read(buffer, token);
        if (ec) break; // closed by the peer (Beast answers the close frame itself) or lost
        ws.text(ws.got_text());
        co_await ws.async_write(buffer.data(), token);
        if (ec) break;
        buffer.consume(buffer.size());
    }
}

} // namespace

int main(int argc, char** argv) {
    return beast_bench::serve("ws_beast_echo", argc, argv, 8003,
                              [](tcp::socket socket) { return session(std::move(socket)); });
}
