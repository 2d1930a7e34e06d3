// SPDX-License-Identifier: MIT
// What a server says: the access log's lines for requests and WebSocket sessions, refused
// requests, the start line, timestamps.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include "support/captured_log.hpp"

#include <unistd.h>

#include <cstdio>
#include <regex>
#include <string>

namespace logging_test {

aster::response hello(aster::request&) { return aster::plain_text("hello"); }
aster::task<> echo(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto m = co_await ws.receive();
        co_await ws.send_text(m.data);
    }
}
aster::task<> refuse(aster::websocket& ws) { co_await ws.close(4000); }

constexpr aster::application app{aster::routes(aster::route<"/hello">(hello),
                                               aster::websocket_route<"/ws">(echo),
                                               aster::websocket_route<"/no">(refuse))};

// Turns the access log on for this scope, and back off after.
struct access_log_on {
    access_log_on() { aster::logger().access_log = true; }
    ~access_log_on() { aster::logger().access_log = false; }
};

} // namespace logging_test

TEST_CASE("access log: a line per WebSocket session, with its status, close code, duration and "
          "messages",
          "[log]") {
    using namespace logging_test;
    test_support::captured_log logged(aster::log_level::info);
    access_log_on on;
    aster::test_client client{app};
    {
        auto ws = client.websocket_connect("/ws");
        ws.send_text("a");
        CHECK(ws.receive_text() == "a");
        ws.send_text("b");
        CHECK(ws.receive_text() == "b");
        ws.close(4001);
    }
    CHECK_THROWS(client.websocket_connect("/no"));
    std::string sessions;
    {
        std::lock_guard lock(logged.mutex);
        for (const auto& l : logged.lines)
            if (l.find("WebSocket") != std::string::npos) sessions += l + "\n";
    }
    INFO(sessions);
    CHECK(std::regex_search(
        sessions,
        std::regex(R"(testclient:50000 - "WebSocket /ws" 101 4001 [0-9.]+m?s in=2 out=2\n)")));
    CHECK(std::regex_search(sessions,
                            std::regex(R"("WebSocket /no" 403 - [0-9.]+m?s in=0 out=0\n)")));
}

TEST_CASE("log: a request the parser refuses is an info line with its status", "[log]") {
    using namespace logging_test;
    test_support::captured_log logged(aster::log_level::info);
    aster::test_client client{app};
    auto r = client.exchange(
        "GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status_code == 400);
    CHECK(logged.contains("testclient:50000 - refused 400"));
}

TEST_CASE("log: the start line names the threads and every setting that is not the default",
          "[log]") {
    aster::server_config config;
    CHECK(aster::detail::non_default_settings(config).empty());
    config.limits.max_body_bytes = 1024;
    config.websocket.ping_interval = std::chrono::milliseconds(0);
    config.access_log = false;
    CHECK(aster::detail::non_default_settings(config) ==
          "max_body_bytes=1024, websocket.ping_interval=0ms, access_log=off");
    CHECK(aster::detail::listening_line(config, 8123, 2) ==
          "aster: listening on http://127.0.0.1:8123 with 2 threads (max_body_bytes=1024, "
          "websocket.ping_interval=0ms, access_log=off)");
    CHECK(aster::detail::listening_line(aster::server_config{}, 80, 1) ==
          "aster: listening on http://127.0.0.1:80 with 1 thread");
}

TEST_CASE("log: timestamps put the UTC time in front of the default sink's lines", "[log]") {
    // The default sink writes to stderr: catch it in a pipe for one line.
    int pipe_ends[2];
    REQUIRE(pipe(pipe_ends) == 0);
    std::fflush(stderr);
    int saved = dup(2);
    dup2(pipe_ends[1], 2);
    const auto level = aster::logger().level;
    aster::logger().level = aster::log_level::info;
    aster::logger().timestamps = true;
    aster::log(aster::log_level::info, "stamped line");
    aster::logger().timestamps = false;
    aster::log(aster::log_level::info, "plain line");
    aster::logger().level = level;
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(pipe_ends[1]);
    char buf[256];
    ssize_t n = read(pipe_ends[0], buf, sizeof buf);
    close(pipe_ends[0]);
    REQUIRE(n > 0);
    std::string out(buf, std::size_t(n));
    CHECK(std::regex_match(
        out,
        std::regex(
            R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO: stamped line\nINFO: plain line\n)")));
}
