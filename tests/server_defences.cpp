// SPDX-License-Identifier: MIT
// What an attacker over loopback must not get: a spinning accept loop when descriptors run
// out, a loop held by a compression bomb. The real server and real sockets; every wait bounded.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include "support/captured_log.hpp"
#include "support/loopback.hpp"

#include <asio/steady_timer.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace server_defences_test {

namespace net = aster::net;
using net::ip::tcp;
using test_support::captured_log;
using test_support::running_server;

aster::response hello(aster::request&) { return aster::plain_text("hello"); }

aster::task<> echo(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto m = co_await ws.receive();
        co_await ws.send_bytes(m.data);
    }
}

aster::response sized(aster::request& req) {
    return aster::plain_text("got " + std::to_string(req.buffered_body().size()));
}

aster::task<aster::response> streamed(aster::request& req) {
    std::size_t n = 0;
    for (auto piece = co_await req.read_some(); !piece.empty(); piece = co_await req.read_some())
        n += piece.size();
    co_return aster::plain_text("got " + std::to_string(n));
}

aster::response big(aster::request&) { return aster::plain_text(std::string(8 << 20, 'b')); }

std::atomic<int> firehose_code{0};

// Sends 1 MiB messages until the peer stops reading and the queue is full for good.
aster::task<> firehose(aster::websocket& ws) {
    co_await ws.accept();
    try {
        for (;;) co_await ws.send_bytes(std::string(1 << 20, 'f'));
    } catch (const aster::websocket_disconnect& e) {
        firehose_code = e.code();
    }
}

constexpr auto post = aster::method::post;
constexpr aster::application app{
    aster::routes(aster::route<"/hello">(hello), aster::websocket_route<"/ws">(echo),
                  aster::route<"/sized", post>(sized), aster::route<"/streamed", post>(streamed),
                  aster::route<"/big">(big), aster::websocket_route<"/firehose">(firehose))};

// Rates checked over one-second windows, so a test needs seconds, not the default's minutes.
aster::server_config quick_rates() {
    aster::server_config c;
    c.threads = 1;
    c.limits.min_receive_rate = {.bytes_per_second = 1000, .window = std::chrono::seconds(1)};
    c.limits.min_send_rate = {.bytes_per_second = 1000, .window = std::chrono::seconds(1)};
    c.websocket.min_receive_rate = c.limits.min_receive_rate;
    c.websocket.min_send_rate = c.limits.min_send_rate;
    return c;
}

// Writes `head`, then `trickle` one byte at a time every 100 ms, while reading what the server
// answers; stops when the server closes or after `limit`. Returns what the server sent.
std::string trickle(tcp::endpoint ep, const std::string& head, const std::string& slow,
                    std::chrono::milliseconds limit) {
    net::io_context ctx;
    tcp::socket s(ctx);
    std::string in;
    bool closed = false;
    net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            co_await s.async_connect(ep, net::use_awaitable);
            co_await net::async_write(s, net::buffer(head), net::use_awaitable);
            net::steady_timer t(s.get_executor());
            for (char c : slow) {
                if (closed) break;
                t.expires_after(std::chrono::milliseconds(100));
                co_await t.async_wait(net::use_awaitable);
                auto [ec, n] = co_await net::async_write(s, net::buffer(&c, 1),
                                                         aster::detail::use_tuple);
                if (ec) break;
            }
        },
        net::detached);
    net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            co_await net::this_coro::executor;
            char buf[4096];
            for (;;) {
                auto [ec, n] = co_await s.async_read_some(net::buffer(buf),
                                                          aster::detail::use_tuple);
                in.append(buf, n);
                if (ec) break;
            }
            closed = true;
        },
        net::detached);
    ctx.run_for(limit);
    return in;
}

// GET `path` on a fresh connection, answered within `limit`; the response text ("" if none).
std::string get_path(tcp::endpoint ep, std::string path, std::chrono::milliseconds limit) {
    net::io_context ctx;
    tcp::socket s(ctx);
    std::string in;
    net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            co_await s.async_connect(ep, net::use_awaitable);
            std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            co_await net::async_write(s, net::buffer(req), net::use_awaitable);
            auto [ec, n] = co_await net::async_read(s, net::dynamic_buffer(in),
                                                    aster::detail::use_tuple);
            (void)ec, (void)n;
        },
        net::detached);
    ctx.run_for(limit);
    return in;
}

std::size_t open_descriptors() {
    std::size_t n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd");
         it != std::filesystem::directory_iterator(); ++it)
        ++n;
    return n;
}

// Takes every descriptor the process may still open (up to a lowered soft limit), and gives
// them back, with the old limit, when it goes.
struct descriptor_hog {
    rlimit saved{};
    std::vector<int> held;
    descriptor_hog() {
        REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
        rlimit low = saved;
        low.rlim_cur = rlim_t(open_descriptors() + 16);
        REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
        for (int i = 0; i < 1024; ++i) { // bounded: the limit stops it after about 16
            int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) break;
            held.push_back(fd);
        }
        REQUIRE(::open("/dev/null", O_RDONLY | O_CLOEXEC) < 0);
    }
    void release() {
        for (int fd : held) ::close(fd);
        held.clear();
        setrlimit(RLIMIT_NOFILE, &saved);
    }
    ~descriptor_hog() { release(); }
};

} // namespace server_defences_test

TEST_CASE("descriptors: the soft limit is raised toward max_connections, with a warning past "
          "the hard limit",
          "[server][defences]") {
    using aster::detail::plan_descriptors;
    auto fine = plan_descriptors(1024, 1048576, 10064);
    CHECK(fine.soft == 10064);
    CHECK(fine.warning.empty());
    auto short_of = plan_descriptors(1024, 4096, 10064);
    CHECK(short_of.soft == 4096);
    CHECK_THAT(short_of.warning,
               Catch::Contains("max_connections cannot be reached") && Catch::Contains("4096"));
    CHECK(plan_descriptors(65536, 65536, 10064).soft == 65536); // never lowered

    rlimit saved{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 2064) {
        WARN("hard RLIMIT_NOFILE below 2064: the raise is checked by plan_descriptors only");
        return;
    }
    rlimit low = saved;
    low.rlim_cur = 512;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
    {
        aster::server srv{server_defences_test::app,
                          {.port = 0, .handle_signals = false, .max_connections = 2000}};
        srv.listen();
        rlimit now{};
        REQUIRE(getrlimit(RLIMIT_NOFILE, &now) == 0);
        CHECK(now.rlim_cur >= 2000);
    }
    setrlimit(RLIMIT_NOFILE, &saved);
}

TEST_CASE("descriptors: out of them, accepts pause instead of spinning, and resume once they "
          "free up",
          "[server][defences][mt]") {
    using namespace server_defences_test;
    captured_log logged(aster::log_level::warning);
    running_server server(app, {.threads = 1, .max_connections = 100});
    // Serving already (its loop and watchdog set up) before the descriptors go: under the
    // sanitizers, a first use of a type then needs a descriptor of its own for the runtime.
    REQUIRE(get_path(server.endpoint(), "/hello", std::chrono::seconds(5)).find("200 OK") !=
            std::string::npos);
    // And what the server does on a failed accept (the error's message, a log line) done once.
    CHECK_FALSE(std::error_code(EMFILE, std::system_category()).message().empty());
    aster::log(aster::log_level::warning, "warming the log before the descriptors run out");
    net::io_context ctx;
    std::vector<tcp::socket> clients;
    for (int i = 0; i < 4; ++i) clients.emplace_back(ctx, tcp::v4()); // their descriptors now
    std::string replies[4];
    {
        descriptor_hog hog;
        for (auto& c : clients) c.connect(server.endpoint()); // queued: the server cannot accept
        // The first failure is logged; then, for half a second of exhaustion, the loop pauses
        // instead of retrying at once (which logged ~250,000 lines a second and spun a core).
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!logged.contains("accept failed") && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        REQUIRE(logged.contains("accept failed"));
        std::this_thread::sleep_for(std::chrono::milliseconds(500)); // exhaustion lasting a while
        CHECK(logged.count("accept failed") == 1);
        CHECK(logged.size() <= 3); // with the warming line
    }
    // Descriptors are back: every queued client is served.
    for (int i = 0; i < 4; ++i) {
        net::co_spawn(
            ctx,
            [&, i]() -> aster::task<> {
                std::string req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
                co_await net::async_write(clients[i], net::buffer(req), net::use_awaitable);
                auto [ec, n] = co_await net::async_read(clients[i], net::dynamic_buffer(replies[i]),
                                                        aster::detail::use_tuple);
                (void)ec, (void)n;
            },
            net::detached);
    }
    ctx.run_for(std::chrono::seconds(5));
    for (const auto& r : replies) CHECK(r.find("HTTP/1.1 200 OK") == 0);
    CHECK(logged.contains("accepting again after"));
}

TEST_CASE("permessage-deflate over loopback: a frame of empty final blocks is refused with 1007 "
          "while the loop keeps serving",
          "[server][defences][deflate]") {
#ifdef ASTER_HAS_ZLIB
    using namespace server_defences_test;
    running_server server(app, {.threads = 1});
    // 4 MiB of `03 00`: each an empty DEFLATE block with BFINAL set. Once, inflating it cost
    // the loop about 6 s while the message stayed empty.
    std::string bomb;
    bomb.reserve(4 << 20);
    for (int i = 0; i < (2 << 20); ++i) bomb.append("\x03\x00", 2);
    const std::string frame = test_support::client_frame(0x2, bomb, true, true);
    net::io_context ctx;
    tcp::socket s(ctx);
    std::uint16_t code = 0;
    std::promise<void> sent;
    net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            std::string in = co_await test_support::ws_open(
                s, server.endpoint(), "/ws", "Sec-WebSocket-Extensions: permessage-deflate\r\n");
            co_await net::async_write(s, net::buffer(frame), net::use_awaitable);
            sent.set_value();
            auto f = co_await test_support::read_server_frame(s, in);
            if (f.opcode == 0x8) code = f.close_code();
        },
        net::detached);
    std::thread attacker([&] { ctx.run_for(std::chrono::seconds(10)); });
    // Once the server has the whole frame, the same loop answers another client, well within
    // a second.
    REQUIRE(sent.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    const auto hello_reply = get_path(server.endpoint(), "/hello", std::chrono::milliseconds(1000));
    attacker.join();
    CHECK(hello_reply.find("HTTP/1.1 200 OK") == 0);
    CHECK(code == 1007);
#else
    WARN("built without zlib: permessage-deflate is not negotiated");
#endif
}

TEST_CASE("rates: a request body trickled below min_receive_rate gets 408, a steady one does not",
          "[server][defences][rates]") {
    using namespace server_defences_test;
    running_server server(app, quick_rates());
    // One byte per 100 ms is 10 B/s, against 1000 B/s over one-second windows: refused in
    // about two seconds (it used to stay open as long as no gap reached body_timeout, 30 s).
    for (std::string path : {"/sized", "/streamed"}) {
        INFO(path);
        const auto start = std::chrono::steady_clock::now();
        auto answer = trickle(server.endpoint(),
                              "POST " + path +
                                  " HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
                              std::string(100, 'x'), std::chrono::seconds(8));
        CHECK(answer.find("HTTP/1.1 408 Request Timeout") == 0);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(6));
    }
    // Trailer lines one byte at a time: the same.
    auto trailers = trickle(server.endpoint(),
                            "POST /sized HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "3\r\nabc\r\n0\r\n",
                            std::string("X-Trailer: 1\r\nX-More: 2\r\nX-Again: 3\r\n\r\n"),
                            std::chrono::seconds(8));
    CHECK(trailers.find("HTTP/1.1 408 Request Timeout") == 0);
    // 40 KB at 20 KB/s (above the minimum, taking two windows) is served.
    net::io_context ctx;
    tcp::socket s(ctx);
    std::string in;
    net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            co_await s.async_connect(server.endpoint(), net::use_awaitable);
            std::string head =
                "POST /streamed HTTP/1.1\r\nHost: x\r\nContent-Length: 40000\r\n\r\n";
            co_await net::async_write(s, net::buffer(head), net::use_awaitable);
            net::steady_timer t(s.get_executor());
            const std::string piece(2000, 'y');
            for (int i = 0; i < 20; ++i) {
                t.expires_after(std::chrono::milliseconds(100));
                co_await t.async_wait(net::use_awaitable);
                co_await net::async_write(s, net::buffer(piece), net::use_awaitable);
            }
            co_await net::async_read_until(s, net::dynamic_buffer(in), "got 40000",
                                           net::use_awaitable);
        },
        net::detached);
    ctx.run_for(std::chrono::seconds(8));
    CHECK(in.find("HTTP/1.1 200 OK") == 0);
    CHECK(in.find("got 40000") != std::string::npos);
}

TEST_CASE("rates: a client that stops reading a response is let go, and its memory with it",
          "[server][defences][rates]") {
    using namespace server_defences_test;
    running_server server(app, quick_rates());
    net::io_context ctx;
    tcp::socket s(ctx);
    s.connect(server.endpoint());
    s.set_option(net::socket_base::receive_buffer_size(4096));
    std::string req = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
    net::write(s, net::buffer(req));
    // The 8 MiB answer fills the socket buffers and the rest waits in the server...
    auto held = server.wait_for(
        [](const aster::server_stats& st) { return st.buffered_bytes > 0; });
    CHECK(held.buffered_bytes > 0);
    // ...until the watchdog sees nothing drain for a window, and closes the connection.
    auto after = server.wait_for(
        [](const aster::server_stats& st) { return st.buffered_bytes == 0 && st.connections == 0; },
        std::chrono::seconds(8));
    CHECK(after.buffered_bytes == 0);
    CHECK(after.connections == 0);
}

TEST_CASE("rates: a WebSocket that stops reading is closed with 1008, one that trickles a "
          "message too",
          "[server][defences][rates]") {
    using namespace server_defences_test;
    running_server server(app, quick_rates());
    firehose_code = 0;
    {
        net::io_context ctx;
        tcp::socket s(ctx);
        s.open(tcp::v4());
        s.set_option(net::socket_base::receive_buffer_size(4096));
        net::co_spawn(ctx, test_support::ws_open(s, server.endpoint(), "/firehose"), net::detached);
        ctx.run_for(std::chrono::seconds(5)); // the handshake; then it never reads again
        auto after = server.wait_for(
            [](const aster::server_stats& st) {
                return st.buffered_bytes == 0 && st.websockets == 0;
            },
            std::chrono::seconds(8));
        CHECK(after.buffered_bytes == 0);
        CHECK(after.websockets == 0);
        CHECK(firehose_code == 1008);
    }
    // A frame of 100 KB announced, then one byte every 100 ms.
    net::io_context ctx;
    tcp::socket s(ctx);
    std::uint16_t code = 0;
    // Outlives both coroutines: the trickle may still be writing when the close arrives.
    const std::string frame = test_support::client_frame(0x2, std::string(100000, 'm'));
    net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            std::string in = co_await test_support::ws_open(s, server.endpoint(), "/ws");
            co_await net::async_write(s, net::buffer(frame.data(), 200), net::use_awaitable);
            net::co_spawn(
                s.get_executor(),
                [&]() -> aster::task<> {
                    net::steady_timer t(s.get_executor());
                    for (std::size_t i = 200; i < 300; ++i) {
                        t.expires_after(std::chrono::milliseconds(100));
                        co_await t.async_wait(net::use_awaitable);
                        auto [ec, n] = co_await net::async_write(s,
                                                                 net::buffer(frame.data() + i, 1),
                                                                 aster::detail::use_tuple);
                        if (ec) break;
                    }
                },
                net::detached);
            auto f = co_await test_support::read_server_frame(s, in);
            if (f.opcode == 0x8) code = f.close_code();
            s.close();
        },
        net::detached);
    ctx.run_for(std::chrono::seconds(8));
    CHECK(code == 1008);
}

TEST_CASE("limits: max_connections_per_client refuses one host's connection past the cap with "
          "503",
          "[server][defences]") {
    using namespace server_defences_test;
    running_server server(app, {.threads = 1, .max_connections_per_client = 2});
    net::io_context ctx;
    auto open_one = [&] {
        tcp::socket s(ctx);
        s.connect(server.endpoint());
        return s;
    };
    auto first = open_one(), second = open_one();
    server.wait_for([](const aster::server_stats& st) { return st.connections == 2; });
    auto third = get_path(server.endpoint(), "/hello", std::chrono::milliseconds(2000));
    CHECK(third.find("HTTP/1.1 503 Service Unavailable") == 0);
    CHECK(server.srv.stats().refused_connections == 1);
    first.close();
    server.wait_for([](const aster::server_stats& st) { return st.connections == 1; });
    CHECK(get_path(server.endpoint(), "/hello", std::chrono::milliseconds(2000))
              .find("HTTP/1.1 200 OK") == 0);
}

TEST_CASE("limits: bodies and messages past the memory budget are refused, 503 and 1013",
          "[server][defences]") {
    using namespace server_defences_test;
    aster::server_config config;
    config.threads = 1;
    config.memory_budget = 1 << 20;
    running_server server(app, config);
    // A holds 600 KB of the 1 MiB budget while its body is on the way.
    net::io_context ctx;
    tcp::socket a(ctx);
    a.connect(server.endpoint());
    const std::string body(600000, 'a');
    std::string head = "POST /sized HTTP/1.1\r\nHost: x\r\nContent-Length: 600000\r\n\r\n";
    net::write(a, net::buffer(head + body.substr(0, 1000)));
    server.wait_for([](const aster::server_stats& st) { return st.budget_bytes >= 600000; });
    // B's 600 KB would pass it: 503 before its body is read.
    tcp::socket b(ctx);
    b.connect(server.endpoint());
    net::write(b, net::buffer(head));
    std::string refused;
    std::error_code ec;
    net::read(b, net::dynamic_buffer(refused), ec); // until the server closes
    CHECK(refused.find("HTTP/1.1 503 Service Unavailable") == 0);
    CHECK(refused.find("Connection: close") != std::string::npos);
    CHECK(server.srv.stats().budget_refusals == 1);
    // A finishes, gives its share back, and B's size fits again.
    net::write(a, net::buffer(body.substr(1000)));
    std::string answer;
    net::read_until(a, net::dynamic_buffer(answer), "got 600000");
    CHECK(server.wait_for([](const aster::server_stats& st) { return st.budget_bytes == 0; })
              .budget_bytes == 0);
    tcp::socket c(ctx);
    c.connect(server.endpoint());
    net::write(c, net::buffer(head + body));
    std::string served;
    net::read_until(c, net::dynamic_buffer(served), "got 600000");
    CHECK(served.find("HTTP/1.1 200 OK") == 0);

    // A WebSocket frame of 2 MiB announced: 1013, whole or fragmented.
    for (bool fragmented : {false, true}) {
        INFO((fragmented ? "fragmented" : "one frame"));
        net::io_context ws_ctx;
        tcp::socket s(ws_ctx);
        std::uint16_t code = 0;
        net::co_spawn(
            ws_ctx,
            [&]() -> aster::task<> {
                std::string in = co_await test_support::ws_open(s, server.endpoint(), "/ws");
                std::string wire;
                if (fragmented) {
                    for (int i = 0; i < 40; ++i)
                        wire += test_support::client_frame(i == 0 ? 0x2 : 0x0,
                                                           std::string(50000, 'm'), false);
                } else {
                    wire =
                        test_support::client_frame(0x2, std::string(2 << 20, 'm')).substr(0, 1000);
                }
                co_await net::async_write(s, net::buffer(wire), net::use_awaitable);
                auto f = co_await test_support::read_server_frame(s, in);
                if (f.opcode == 0x8) code = f.close_code();
            },
            net::detached);
        ws_ctx.run_for(std::chrono::seconds(5));
        CHECK(code == 1013);
    }
    CHECK(server.wait_for([](const aster::server_stats& st) { return st.budget_bytes == 0; })
              .budget_bytes == 0);
}

namespace server_defences_test {

aster::task<> waits_in_receive(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) (void)co_await ws.receive();
}

aster::task<aster::response> endless(aster::request&) {
    co_return aster::streaming([](aster::body_writer& out) -> aster::task<> {
        for (;;) co_await out.write(std::string(64 * 1024, 'e'));
    });
}

aster::response fails(aster::request&) { throw std::runtime_error("provoked"); }

constexpr aster::application more_app{aster::routes(aster::websocket_route<"/ws">(waits_in_receive),
                                                    aster::route<"/endless">(endless),
                                                    aster::route<"/fails">(fails))};

} // namespace server_defences_test

TEST_CASE("shutdown: a WebSocket waiting in receive() is let go after close_timeout, not "
          "shutdown_timeout",
          "[server][defences]") {
    using namespace server_defences_test;
    aster::server_config config;
    config.threads = 1;
    config.shutdown_timeout = std::chrono::seconds(10);
    config.websocket.close_timeout = std::chrono::milliseconds(300);
    auto server = std::make_unique<running_server>(more_app, config);
    net::io_context ctx;
    tcp::socket s(ctx);
    net::co_spawn(ctx, test_support::ws_open(s, server->endpoint(), "/ws"), net::detached);
    ctx.run_for(std::chrono::seconds(5)); // open; it never answers the close that comes
    server->wait_for([](const aster::server_stats& st) { return st.websockets == 1; });
    const auto start = std::chrono::steady_clock::now();
    server->srv.stop();
    REQUIRE(server->done.wait_for(std::chrono::seconds(9)) == std::future_status::ready);
    // It used to wait for the whole shutdown_timeout (10 s here).
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("logging: clients cannot flood the log: a dropped download is debug, repeated "
          "errors are one a second with a count",
          "[server][defences]") {
    using namespace server_defences_test;
    captured_log logged(aster::log_level::info);
    running_server server(more_app, {.threads = 1});
    // Five clients drop an endless download after its first bytes.
    for (int i = 0; i < 5; ++i) {
        net::io_context ctx;
        tcp::socket s(ctx);
        s.connect(server.endpoint());
        std::string req = "GET /endless HTTP/1.1\r\nHost: x\r\n\r\n";
        net::write(s, net::buffer(req));
        char buf[1024];
        s.read_some(net::buffer(buf));
        s.set_option(net::socket_base::linger(true, 0)); // a reset, as a vanishing client
        s.close();
    }
    server.wait_for([](const aster::server_stats& st) { return st.connections == 0; });
    CHECK(logged.count("streaming response") == 0); // debug: below this log's level
    // Twenty handler exceptions within a second: one line, the rest counted later.
    for (int i = 0; i < 20; ++i)
        CHECK(get_path(server.endpoint(), "/fails", std::chrono::seconds(2)).find("HTTP/1.1 500") ==
              0);
    CHECK(logged.count("exception in handler") <= 2);
}

TEST_CASE("log_limited: one line per kind per second, then the count of those dropped", "[log]") {
    test_support::captured_log logged(aster::log_level::info);
    for (int i = 0; i < 10; ++i)
        aster::log_limited(aster::log_level::info, "test kind a", "a line");
    aster::log_limited(aster::log_level::info, "test kind b", "b line");
    CHECK(logged.count("a line") == 1);
    CHECK(logged.count("b line") == 1);
    // The next second's first line says how many were dropped.
    const auto second = std::time(nullptr);
    while (std::time(nullptr) == second) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    aster::log_limited(aster::log_level::info, "test kind a", "a line");
    CHECK(logged.contains("a line (9 more like it in the last second(s) not logged)"));
}
