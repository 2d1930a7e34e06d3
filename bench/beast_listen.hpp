// SPDX-License-Identifier: MIT
// What the Boost.Beast comparison servers share: `--port` from the command line, and one
// thread accepting on 127.0.0.1 that starts a coroutine per connection.
#pragma once

#include <utility> // Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace beast_bench {

namespace net = boost::asio;
using net::ip::tcp;

inline unsigned short port_from_args(int argc, char** argv, unsigned long port) {
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

template <class Session>
net::awaitable<void> accept_loop(tcp::acceptor& acceptor, Session session) {
    for (;;) {
        boost::system::error_code ec;
        tcp::socket socket = co_await acceptor.async_accept(
            net::redirect_error(net::use_awaitable, ec));
        if (ec) continue;
        net::co_spawn(acceptor.get_executor(), session(std::move(socket)), net::detached);
    }
}

/// Serves `session(tcp::socket)` (an awaitable) for every connection on one thread, as the
/// aster server under test runs, until the process is stopped; 1 and a message on failure.
template <class Session>
int serve(const char* name, int argc, char** argv, unsigned short default_port, Session session) {
    try {
        net::io_context ctx{1};
        tcp::acceptor acceptor(ctx);
        tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"),
                               port_from_args(argc, argv, default_port));
        acceptor.open(endpoint.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(net::socket_base::max_listen_connections);
        net::co_spawn(ctx, accept_loop(acceptor, std::move(session)), net::detached);
        ctx.run();
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", name, e.what());
        return 1;
    }
}

} // namespace beast_bench
