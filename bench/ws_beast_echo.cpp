// SPDX-License-Identifier: MIT
// The WebSocket comparison point: a Boost.Beast echo server written the way Beast's own
// coroutine examples are, on Boost.Asio awaitables. One coroutine per connection reads a whole
// message into a flat_buffer and writes it back with the same text/binary flag; no
// fragmentation, no permessage-deflate, no timeouts.
// ./ws_beast_echo [--port 8003]; listens on 127.0.0.1 with one thread; any path is accepted.
#include <utility> // Boost 1.74's awaitable.hpp uses std::exchange without including it

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

net::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
    for (;;) {
        error_code ec;
        tcp::socket socket = co_await acceptor.async_accept(
            net::redirect_error(net::use_awaitable, ec));
        if (ec) continue;
        net::co_spawn(acceptor.get_executor(), session(std::move(socket)), net::detached);
    }
}

unsigned short port_from_args(int argc, char** argv) {
    unsigned long port = 8003;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        const char* text = nullptr;
        if (arg == "--port" && i + 1 < argc) text = argv[++i];
        else if (arg.starts_with("--port=")) text = argv[i] + 7;
        else throw std::invalid_argument("unknown option: " + std::string(arg) + " (use --port)");
        char* end = nullptr;
        port = std::strtoul(text, &end, 10);
        if (*text == '\0' || *end != '\0' || port > 65535)
            throw std::invalid_argument("--port: not a port number: " + std::string(text));
    }
    return static_cast<unsigned short>(port);
}

} // namespace

int main(int argc, char** argv) {
    try {
        net::io_context ctx{1}; // one thread, as the aster server under test
        tcp::acceptor acceptor(ctx);
        tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port_from_args(argc, argv));
        acceptor.open(endpoint.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(net::socket_base::max_listen_connections);
        net::co_spawn(ctx, accept_loop(acceptor), net::detached);
        ctx.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ws_beast_echo: %s\n", e.what());
        return 1;
    }
}
