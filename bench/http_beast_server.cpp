// SPDX-License-Identifier: MIT
// The HTTP comparison point: a Boost.Beast plaintext server written the idiomatic Beast way,
// on Boost.Asio awaitables. One coroutine per connection: http::async_read into a request,
// http::async_write of a response, repeated while the request allows keep-alive. It sends the
// same headers aster does (Content-Length, Content-Type, Date rebuilt once a second).
// ./http_beast_server [--port 8004]; listens on 127.0.0.1 with one thread.
#include "beast_listen.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using net::ip::tcp;
using error_code = boost::system::error_code;

// The Date header, formatted at most once a second (as aster and the bare server do).
std::string_view http_date() {
    static std::time_t second = 0;
    static char text[32];
    static std::size_t size = 0;
    std::time_t now = std::time(nullptr);
    if (now != second) {
        second = now;
        std::tm parts{};
        gmtime_r(&now, &parts);
        size = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    }
    return {text, size};
}

net::awaitable<void> session(tcp::socket socket) {
    error_code ec;
    auto token = net::redirect_error(net::use_awaitable, ec);
    socket.set_option(tcp::no_delay(true), ec);
    boost::beast::flat_buffer buffer; // holds pipelined bytes from one request to the next
    for (;;) {
        http::request<http::string_body> req;
        co_await http::async_read(socket, buffer, req, token);
        if (ec) break; // end of stream, reset or a malformed request
        http::response<http::string_body> res;
        res.version(req.version());
        res.keep_alive(req.keep_alive());
        if (req.method() == http::verb::get && req.target() == "/plaintext") {
            res.result(http::status::ok);
            res.body() = "Hello, World!";
        } else {
            res.result(http::status::not_found);
            res.body() = "Not Found";
        }
        res.content_length(res.body().size());
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        auto date = http_date(); // Beast 1.74 takes boost::string_view
        res.set(http::field::date, boost::beast::string_view(date.data(), date.size()));
        co_await http::async_write(socket, res, token);
        if (ec || !res.keep_alive()) break;
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
}

} // namespace

int main(int argc, char** argv) {
    return beast_bench::serve("http_beast_server", argc, argv, 8004,
                              [](tcp::socket socket) { return session(std::move(socket)); });
}
