// SPDX-License-Identifier: MIT
// The broadcast benchmark's Boost.Beast point: the members in a vector, each message handed to
// every member's write queue (shared, not copied) and written one message per write, as Beast's
// own chat examples do, on Boost.Asio awaitables. No permessage-deflate, no timeouts; any path is
// accepted, so it serves `/` like broadcast_server.
//
//   ./broadcast_beast_server [--port 8000]; listens on 127.0.0.1 with one thread
#include "beast_listen.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace net = boost::asio;
namespace websocket = boost::beast::websocket;
using net::ip::tcp;
using error_code = boost::system::error_code;

struct message {
    std::string data;
    bool binary;
};

class member : public std::enable_shared_from_this<member> {
public:
    explicit member(tcp::socket socket) : ws_(std::move(socket)) {}

    static net::awaitable<void> run(std::shared_ptr<member> self);
    // Queues `m` and starts the writer if it is idle: Beast allows one write in flight.
    void deliver(std::shared_ptr<const message> m) {
        queue_.push_back(std::move(m));
        if (!writing_) {
            writing_ = true;
            net::co_spawn(ws_.get_executor(), write_queue(shared_from_this()), net::detached);
        }
    }

private:
    static net::awaitable<void> write_queue(std::shared_ptr<member> self) {
        error_code ec;
        auto token = net::redirect_error(net::use_awaitable, ec);
        while (!self->queue_.empty() && !self->closed_) {
            const auto m = self->queue_.front();
            self->ws_.binary(m->binary);
            co_await self->ws_.async_write(net::buffer(m->data), token);
            if (ec) break;
            self->queue_.pop_front();
        }
        self->writing_ = false;
    }

    websocket::stream<tcp::socket> ws_;
    std::deque<std::shared_ptr<const message>> queue_;
    bool writing_ = false, closed_ = false;
};

std::vector<std::shared_ptr<member>> members; // one thread: no lock

net::awaitable<void> member::run(std::shared_ptr<member> self) {
    auto& ws = self->ws_;
    error_code ec;
    auto token = net::redirect_error(net::use_awaitable, ec);
    ws.next_layer().set_option(tcp::no_delay(true), ec);
    ws.auto_fragment(false);
    websocket::permessage_deflate deflate; // off: every server in the comparison sends raw frames
    deflate.server_enable = false;
    deflate.client_enable = false;
    ws.set_option(deflate);
    co_await ws.async_accept(token);
    if (ec) co_return;
    members.push_back(self);
    boost::beast::flat_buffer buffer;
    for (;;) {
        co_await ws.async_read(buffer, token);
        if (ec) break;
        auto m = std::make_shared<const message>(
            message{boost::beast::buffers_to_string(buffer.data()), !ws.got_text()});
        buffer.consume(buffer.size());
        for (const auto& to : members) to->deliver(m);
    }
    self->closed_ = true;
    std::erase(members, self);
}

} // namespace

int main(int argc, char** argv) {
    return beast_bench::serve("broadcast_beast_server", argc, argv, 8000, [](tcp::socket socket) {
        return member::run(std::make_shared<member>(std::move(socket)));
    });
}
