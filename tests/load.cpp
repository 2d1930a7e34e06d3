// SPDX-License-Identifier: MIT
// Load and faults over loopback, nothing lost: many WebSockets, 10,000 idle connections, clients
// that vanish mid-way, slow readers. The real server and real sockets; every wait is bounded.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include "support/loopback.hpp"

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace load_test {

namespace net = aster::net;
using aster::detail::use_tuple;
using net::ip::tcp;

std::string id_text(aster::request&, std::int64_t id) { return std::to_string(id); }

aster::response item(aster::request&, std::int64_t id) {
    return aster::plain_text("item " + std::to_string(id));
}

aster::response kilobyte(aster::request&) { return aster::plain_text(std::string(1024, 'k')); }

aster::task<aster::response> slow(aster::request&) {
    net::steady_timer timer(co_await net::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(200));
    co_await timer.async_wait(net::use_awaitable);
    co_return aster::plain_text("late");
}

aster::task<> echo(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) co_await ws.send_text(co_await ws.receive_text());
}

// Sends numbered 1 KiB messages for ever: only backpressure or a disconnect stops it.
std::atomic<long> firehose_sent{0};
aster::task<> firehose(aster::websocket& ws) {
    co_await ws.accept();
    std::string message(1024, 'x');
    for (long i = 0;; ++i) {
        auto n = std::to_string(i);
        message.replace(0, n.size() + 1, n + ":");
        co_await ws.send_text(message);
        firehose_sent = i + 1;
    }
}

// Closes first: the client may then vanish instead of answering.
aster::task<> closer(aster::websocket& ws) {
    co_await ws.accept();
    co_await ws.close(4000);
}

constexpr aster::application app{
    aster::routes(aster::route<"/item/{id:int}">(item), aster::route<"/kb">(kilobyte),
                  aster::route<"/slow">(slow), aster::websocket_route<"/ws">(echo),
                  aster::websocket_route<"/firehose">(firehose),
                  aster::websocket_route<"/closer">(closer))};

// Raises the soft (and if need be the hard) limit on open files, or says why it cannot.
void need_open_files(rlim_t wanted) {
    rlimit lim{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &lim) == 0);
    if (lim.rlim_cur >= wanted) return;
    if (lim.rlim_max < wanted) lim.rlim_max = wanted; // only root may raise it
    lim.rlim_cur = wanted;
    INFO("this test needs RLIMIT_NOFILE >= " << wanted << " (ulimit -n " << wanted
                                             << "; the hard limit needs root to raise)");
    REQUIRE(setrlimit(RLIMIT_NOFILE, &lim) == 0);
}

// The server on its own thread, serving this file's app.
struct running_server : test_support::running_server {
    explicit running_server(aster::server_config config)
        : test_support::running_server(app, std::move(config)) {}
};

using test_support::all_zero;
using test_support::client_frame;
using test_support::read_frame;
using test_support::ws_open;

// Runs the client coroutines on `ctx` for at most `limit`; true when all of them finished.
bool run_clients(net::io_context& ctx, std::chrono::seconds limit) {
    ctx.run_for(limit);
    return ctx.stopped();
}

// The cases live in the namespace too: the unity build shares one scope between test files.

TEST_CASE("load: 1,000 WebSockets x 100 numbered messages, every echo once and in order",
          "[load]") {
    constexpr int connections = 1000, messages = 100;
    need_open_files(2 * connections + 256);
    running_server server({});
    net::io_context ctx;
    std::vector<int> in_order(connections, 0); // echoes received in sequence, per connection
    std::vector<std::string> errors;
    auto started = std::chrono::steady_clock::now();
    for (int c = 0; c < connections; ++c) {
        net::co_spawn(
            ctx,
            [&, c]() -> aster::task<> {
                tcp::socket s(ctx);
                try {
                    std::string in = co_await ws_open(s, server.endpoint(), "/ws");
                    // The writer runs ahead of the reader: up to all 100 in flight.
                    net::co_spawn(
                        ctx,
                        [&s, c]() -> aster::task<> {
                            for (int m = 0; m < messages; ++m) {
                                auto f = client_frame(0x1,
                                                      std::to_string(c) + "/" + std::to_string(m));
                                co_await net::async_write(s, net::buffer(f), net::use_awaitable);
                            }
                        },
                        net::detached);
                    for (int m = 0; m < messages; ++m) {
                        auto got = co_await read_frame(s, in);
                        if (got != std::to_string(c) + "/" + std::to_string(m)) {
                            errors.push_back("connection " + std::to_string(c) + " message " +
                                             std::to_string(m) + ": got " + got);
                            break;
                        }
                        ++in_order[c];
                    }
                    auto bye = client_frame(0x8, std::string("\x03\xe8", 2));
                    co_await net::async_write(s, net::buffer(bye), net::use_awaitable);
                    co_await read_frame(s, in); // the close reply
                } catch (const std::exception& e) {
                    errors.push_back("connection " + std::to_string(c) + ": " + e.what());
                }
            },
            net::detached);
    }
    REQUIRE(run_clients(ctx, std::chrono::seconds(60)));
    auto took = std::chrono::steady_clock::now() - started;
    CAPTURE(std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
    CHECK(errors.empty());
    if (!errors.empty()) FAIL_CHECK(errors.front());
    long total = 0;
    for (int n : in_order) total += n;
    CHECK(total == long(connections) * messages);
    CHECK(all_zero(server.wait_for(all_zero)));
}

// One line over a pipe, with a deadline (the other process may have died).
std::string read_line(int fd, std::chrono::seconds limit) {
    std::string line;
    auto until = std::chrono::steady_clock::now() + limit;
    char c;
    while (std::chrono::steady_clock::now() < until) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        if (::read(fd, &c, 1) != 1) break;
        if (c == '\n') return line;
        line += c;
    }
    return line.empty() ? "no answer" : line;
}

void write_line(int fd, const std::string& line) {
    std::string l = line + "\n";
    for (std::size_t done = 0; done < l.size();) {
        auto n = ::write(fd, l.data() + done, l.size() - done);
        if (n <= 0) return;
        done += std::size_t(n);
    }
}

// The client side of the 10,000-connection test, in a child process: both ends in one process
// would need 20,000 descriptors, beyond many machines' hard limit. Reports over `out`.
[[noreturn]] void idle_clients(int in, int out, int connections) {
    auto port = std::uint16_t(std::stoi(read_line(in, std::chrono::seconds(30))));
    tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
    net::io_context ctx;
    std::vector<std::unique_ptr<tcp::socket>> sockets;
    for (int i = 0; i < connections; ++i) sockets.push_back(std::make_unique<tcp::socket>(ctx));
    int connected = 0, served = 0;
    std::string error;
    // A few hundred connects at a time: more would overflow the listen backlog.
    constexpr int workers = 200;
    for (int w = 0; w < workers; ++w) {
        net::co_spawn(
            ctx,
            [&, w]() -> aster::task<> {
                for (int i = w; i < connections; i += workers) {
                    auto [ec] = co_await sockets[i]->async_connect(endpoint, use_tuple);
                    if (ec) error = "connect " + std::to_string(i) + ": " + ec.message();
                    else ++connected;
                }
            },
            net::detached);
    }
    ctx.run_for(std::chrono::seconds(60));
    write_line(out, "connected " + std::to_string(connected) + " " + error);
    read_line(in, std::chrono::seconds(60)); // the server has counted them: now ask
    ctx.restart();
    for (int i = 0; i < connections; ++i) {
        net::co_spawn(
            ctx,
            [&, i]() -> aster::task<> {
                auto& s = *sockets[i];
                std::string req = "GET /item/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
                std::string in;
                try {
                    co_await net::async_write(s, net::buffer(req), net::use_awaitable);
                    // The body comes last: read until all of it is there.
                    std::string want = "item " + std::to_string(i);
                    while (in.size() < want.size() ||
                           in.compare(in.size() - want.size(), want.size(), want) != 0)
                        co_await net::async_read(s, net::dynamic_buffer(in),
                                                 net::transfer_at_least(1), net::use_awaitable);
                    if (in.rfind("HTTP/1.1 200 OK\r\n", 0) == 0) ++served;
                    else error = std::to_string(i) + ": " + in.substr(0, 40);
                } catch (const std::exception& e) {
                    error = std::to_string(i) + ": " + e.what();
                }
                s.close();
            },
            net::detached);
    }
    ctx.run_for(std::chrono::seconds(60));
    write_line(out, "served " + std::to_string(served) + " " + error);
    ::_exit(0); // no atexit handlers, no Catch: this is the parent's test
}

TEST_CASE("load: 10,000 idle connections are held, then every one is served", "[load]") {
    constexpr int connections = 10000;
    need_open_files(connections + 512); // the server's ends; the clients are in a child
    aster::server_config config;
    config.limits.header_timeout = std::chrono::seconds(120); // held idle on purpose
    REQUIRE(config.max_connections >= connections);           // the default admits them all
    int to_child[2], from_child[2];
    REQUIRE(::pipe(to_child) == 0);
    REQUIRE(::pipe(from_child) == 0);
    // Forked before the server starts its thread: the child is a plain single-threaded copy.
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) idle_clients(to_child[0], from_child[1], connections);
    ::close(to_child[0]);
    ::close(from_child[1]);
    struct reap {
        pid_t pid;
        int fds[2];
        ~reap() {
            ::close(fds[0]);
            ::close(fds[1]);
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    } reaper{child, {to_child[1], from_child[0]}};
    aster::server_stats held;
    {
        running_server server(config);
        write_line(to_child[1], std::to_string(server.srv.port()));
        auto connected = read_line(from_child[0], std::chrono::seconds(70));
        REQUIRE(connected == "connected " + std::to_string(connections) + " ");
        held = server.wait_for([&](const aster::server_stats& s) {
            return s.connections == std::size_t(connections);
        });
        CHECK(held.connections == std::size_t(connections));
        CHECK(held.sockets == std::size_t(connections));
        write_line(to_child[1], "go");
        auto served = read_line(from_child[0], std::chrono::seconds(70));
        CHECK(served == "served " + std::to_string(connections) + " ");
        CHECK(all_zero(server.wait_for(all_zero)));
    }
}

TEST_CASE("faults: clients that vanish mid-request, mid-frame and mid-close leave nothing behind",
          "[load][mt]") {
    running_server server({.threads = 2});
    net::io_context ctx;
    constexpr int each = 20;
    struct vanishing {
        std::string path_or_request; // an HTTP request start, or a WebSocket path ("/ws...")
        std::string then_send;       // sent after the handshake, for WebSockets
        bool reset;                  // RST (SO_LINGER 0) instead of FIN
    };
    const std::vector<vanishing> kinds = {
        {"GET /item/1 HTTP/1.1\r\nHost: x\r\n", "", false}, // mid-head
        {"GET /item/1 HTTP/1.1\r\nHo", "", true},
        {"POST /kb HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc", "", true}, // mid-body
        {"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", "", true},     // mid-response
        {"/ws", client_frame(0x1, "hello").substr(0, 4), false}, // mid-frame
        {"/ws", client_frame(0x1, "hello").substr(0, 9), true},
        {"/ws", client_frame(0x8, std::string("\x03\xe8", 2)), true}, // mid-close (ours)
        {"/closer", "", false},                                       // mid-close (theirs)
        {"/closer", "", true},
    };
    std::vector<std::unique_ptr<tcp::socket>> sockets;
    std::vector<std::string> errors;
    int ready = 0;
    for (const auto& k : kinds) {
        for (int i = 0; i < each; ++i) {
            sockets.push_back(std::make_unique<tcp::socket>(ctx));
            net::co_spawn(
                ctx,
                [&, &s = *sockets.back()]() -> aster::task<> {
                    try {
                        if (k.path_or_request[0] == '/') {
                            co_await ws_open(s, server.endpoint(), k.path_or_request);
                            if (!k.then_send.empty())
                                co_await net::async_write(s, net::buffer(k.then_send),
                                                          net::use_awaitable);
                        } else {
                            co_await s.async_connect(server.endpoint(), net::use_awaitable);
                            co_await net::async_write(s, net::buffer(k.path_or_request),
                                                      net::use_awaitable);
                        }
                        ++ready;
                    } catch (const std::exception& e) {
                        errors.push_back(k.path_or_request + ": " + e.what());
                    }
                },
                net::detached);
        }
    }
    REQUIRE(run_clients(ctx, std::chrono::seconds(20)));
    REQUIRE(errors.empty());
    REQUIRE(ready == int(kinds.size()) * each);
    // Everything is in the server's hands now (the ones that may already have finished aside).
    auto live = server.wait_for(
        [&](const aster::server_stats& s) { return s.websockets >= 4 * each; });
    CHECK(live.connections >= std::size_t(4 * each));
    CHECK(live.websockets >= std::size_t(4 * each));
    // Vanish: the kernel sends FIN or RST, nothing more comes.
    for (std::size_t i = 0; i < sockets.size(); ++i) {
        std::error_code ignored;
        if (kinds[i / each].reset)
            sockets[i]->set_option(net::socket_base::linger(true, 0), ignored);
        sockets[i]->close(ignored);
    }
    auto after = server.wait_for(all_zero);
    CAPTURE(after.connections, after.sockets, after.websockets, after.buffered_bytes);
    CHECK(all_zero(after));
    // And the server still serves.
    std::string echoed;
    ctx.restart();
    net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            tcp::socket s(ctx);
            std::string in = co_await ws_open(s, server.endpoint(), "/ws");
            auto f = client_frame(0x1, "still here");
            co_await net::async_write(s, net::buffer(f), net::use_awaitable);
            echoed = co_await read_frame(s, in);
        },
        [&](std::exception_ptr e) {
            if (e) try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    echoed = x.what();
                }
        });
    REQUIRE(run_clients(ctx, std::chrono::seconds(10)));
    CHECK(echoed == "still here");
}

TEST_CASE("slow readers: a WebSocket that never reads holds at most max_send_queue_bytes",
          "[load]") {
    aster::server_config config;
    config.websocket.max_send_queue_bytes = 64 * 1024;
    running_server server(config);
    net::io_context ctx;
    tcp::socket s(ctx);
    std::string in;
    net::co_spawn(
        ctx, [&]() -> aster::task<> { in = co_await ws_open(s, server.endpoint(), "/firehose"); },
        net::detached);
    REQUIRE(run_clients(ctx, std::chrono::seconds(10)));
    firehose_sent = 0;
    // The handler sends as fast as it can; the client reads nothing, so the socket buffers fill
    // and the handler must stall with the queue at its limit.
    long before = -1;
    for (int i = 0; i < 200 && firehose_sent != before; ++i) {
        before = firehose_sent;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        CHECK(server.srv.stats().buffered_bytes <= config.websocket.max_send_queue_bytes);
    }
    CHECK(firehose_sent == before); // stalled, not growing
    auto held = server.srv.stats();
    CHECK(held.buffered_bytes > 0);
    CHECK(held.buffered_bytes <= config.websocket.max_send_queue_bytes);
    // Nothing was lost: reading now yields every message, numbered in order.
    long expected = 0;
    net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            while (expected < before + 10) {
                auto m = co_await read_frame(s, in);
                if (m.substr(0, m.find(':')) != std::to_string(expected)) co_return;
                ++expected;
            }
        },
        net::detached);
    ctx.restart();
    REQUIRE(run_clients(ctx, std::chrono::seconds(20)));
    CHECK(expected == before + 10);
    s.set_option(net::socket_base::linger(true, 0));
    s.close();
    CHECK(all_zero(server.wait_for(all_zero)));
}

TEST_CASE("slow readers: a WebSocket that pings but never reads stops being read", "[load]") {
    aster::server_config config;
    config.websocket.max_send_queue_bytes = 16 * 1024;
    running_server server(config);
    net::io_context ctx;
    tcp::socket s(ctx);
    std::size_t written = 0;
    net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            co_await ws_open(s, server.endpoint(), "/ws");
            std::string pings;
            for (int i = 0; i < 256; ++i) pings += client_frame(0x9, std::string(125, 'p'));
            for (;
                 ;) { // until the server stops reading and the buffers fill: then the timer ends it
                co_await net::async_write(s, net::buffer(pings), net::use_awaitable);
                written += pings.size();
            }
        },
        net::detached);
    ctx.run_for(std::chrono::seconds(3));
    auto held = server.srv.stats();
    CAPTURE(written, held.buffered_bytes);
    CHECK(written > 0);
    CHECK(held.buffered_bytes <= config.websocket.max_send_queue_bytes);
    std::error_code ignored;
    s.set_option(net::socket_base::linger(true, 0), ignored);
    s.close(ignored);
    ctx.run_for(std::chrono::milliseconds(100));
    CHECK(all_zero(server.wait_for(all_zero)));
}

TEST_CASE("slow readers: a pipelining client that never reads stops being read", "[load]") {
    running_server server({});
    net::io_context ctx;
    tcp::socket s(ctx);
    std::size_t written = 0;
    net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            co_await s.async_connect(server.endpoint(), net::use_awaitable);
            std::string batch;
            for (int i = 0; i < 100; ++i) batch += "GET /kb HTTP/1.1\r\nHost: x\r\n\r\n";
            for (;;) {
                co_await net::async_write(s, net::buffer(batch), net::use_awaitable);
                written += batch.size();
            }
        },
        net::detached);
    std::size_t peak = 0;
    for (int i = 0; i < 30; ++i) {
        ctx.run_for(std::chrono::milliseconds(100));
        peak = std::max(peak, server.srv.stats().buffered_bytes);
    }
    CAPTURE(written, peak);
    // Writes ~1.1 KiB per answer: if the server kept reading, the output would be ~37x the input.
    CHECK(written > 0);
    CHECK(peak > 0);
    // What a connection holds: one batch (max_pending_output) plus the response that crossed it.
    CHECK(peak <= aster::detail::max_pending_output + 2 * 1024);
    std::error_code ignored;
    s.set_option(net::socket_base::linger(true, 0), ignored);
    s.close(ignored);
    ctx.run_for(std::chrono::milliseconds(100));
    CHECK(all_zero(server.wait_for(all_zero)));
}

} // namespace load_test
