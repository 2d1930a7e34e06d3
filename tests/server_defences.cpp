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

constexpr aster::application app{
    aster::routes(aster::route<"/hello">(hello), aster::websocket_route<"/ws">(echo))};

// GET /hello on a fresh connection, answered within `limit`; the response text ("" if none).
std::string get_hello(tcp::endpoint ep, std::chrono::milliseconds limit) {
    net::io_context ctx;
    tcp::socket s(ctx);
    std::string in;
    net::co_spawn(ctx, [&]() -> aster::task<> {
        co_await s.async_connect(ep, net::use_awaitable);
        std::string req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        co_await net::async_write(s, net::buffer(req), net::use_awaitable);
        auto [ec, n] = co_await net::async_read(s, net::dynamic_buffer(in), aster::detail::use_tuple);
        (void)ec, (void)n;
    }, net::detached);
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
          "the hard limit", "[server][defences]") {
    using aster::detail::plan_descriptors;
    auto fine = plan_descriptors(1024, 1048576, 10064);
    CHECK(fine.soft == 10064);
    CHECK(fine.warning.empty());
    auto short_of = plan_descriptors(1024, 4096, 10064);
    CHECK(short_of.soft == 4096);
    CHECK_THAT(short_of.warning, Catch::Contains("max_connections cannot be reached") &&
                                     Catch::Contains("4096"));
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
          "free up", "[server][defences][mt]") {
    using namespace server_defences_test;
    captured_log logged(aster::log_level::warning);
    running_server server(app, {.threads = 1, .max_connections = 100});
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
        CHECK(logged.size() <= 2);
    }
    // Descriptors are back: every queued client is served.
    for (int i = 0; i < 4; ++i) {
        net::co_spawn(ctx, [&, i]() -> aster::task<> {
            std::string req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            co_await net::async_write(clients[i], net::buffer(req), net::use_awaitable);
            auto [ec, n] = co_await net::async_read(clients[i], net::dynamic_buffer(replies[i]),
                                                    aster::detail::use_tuple);
            (void)ec, (void)n;
        }, net::detached);
    }
    ctx.run_for(std::chrono::seconds(5));
    for (const auto& r : replies) CHECK(r.find("HTTP/1.1 200 OK") == 0);
    CHECK(logged.contains("accepting again after"));
}

TEST_CASE("permessage-deflate over loopback: a frame of empty final blocks is refused with 1007 "
          "while the loop keeps serving", "[server][defences][deflate]") {
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
    net::co_spawn(ctx, [&]() -> aster::task<> {
        std::string in = co_await test_support::ws_open(s, server.endpoint(), "/ws",
                                                        "Sec-WebSocket-Extensions: permessage-deflate\r\n");
        co_await net::async_write(s, net::buffer(frame), net::use_awaitable);
        sent.set_value();
        auto f = co_await test_support::read_server_frame(s, in);
        if (f.opcode == 0x8) code = f.close_code();
    }, net::detached);
    std::thread attacker([&] { ctx.run_for(std::chrono::seconds(10)); });
    // Once the server has the whole frame, the same loop answers another client, well within
    // a second.
    REQUIRE(sent.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    const auto hello_reply = get_hello(server.endpoint(), std::chrono::milliseconds(1000));
    attacker.join();
    CHECK(hello_reply.find("HTTP/1.1 200 OK") == 0);
    CHECK(code == 1007);
#else
    WARN("built without zlib: permessage-deflate is not negotiated");
#endif
}
