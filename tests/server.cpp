// SPDX-License-Identifier: MIT
// The real server over loopback: 127.0.0.1, port 0, a deadline on every wait.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace server_test {

using aster::request;
using aster::response;

response hello(request& r) {
    return aster::plain_text("Hello from " + r.client().host);
}

constexpr aster::application app{aster::routes(aster::route<"/hello">(hello))};

// Sends `bytes` and reads until the server closes or `expected` bytes of body text have been seen.
std::string exchange(std::uint16_t port, const std::string& bytes) {
    using aster::net::ip::tcp;
    aster::net::io_context ctx;
    tcp::socket socket(ctx);
    socket.connect(tcp::endpoint(aster::net::ip::make_address("127.0.0.1"), port));
    aster::net::write(socket, aster::net::buffer(bytes));
    socket.shutdown(tcp::socket::shutdown_send);
    std::string out;
    std::error_code ec;
    char buf[4096];
    for (int i = 0; i < 1000; ++i) { // bounded: the server closes after Connection: close
        std::size_t n = socket.read_some(aster::net::buffer(buf), ec);
        out.append(buf, n);
        if (ec) break;
    }
    return out;
}

} // namespace server_test

TEST_CASE("server: serves keep-alive and pipelined requests over loopback", "[server]") {
    aster::server srv{server_test::app, {.host = "127.0.0.1", .port = 0, .handle_signals = false}};
    srv.listen();
    REQUIRE(srv.port() != 0);
    auto running = std::async(std::launch::async, [&] { srv.run(); });

    auto reply = server_test::exchange(srv.port(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                                                   "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                                                   "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(reply.find("HTTP/1.1 200 OK\r\n") == 0);
    CHECK(reply.find("Hello from 127.0.0.1") != std::string::npos);
    CHECK(reply.find("HTTP/1.1 404 Not Found\r\n") != std::string::npos);
    auto last = reply.rfind("HTTP/1.1 200 OK\r\n");
    CHECK(last > reply.find("404"));
    CHECK(reply.find("Connection: close\r\n", last) != std::string::npos);

    auto bad = server_test::exchange(srv.port(), "NONSENSE\r\n\r\n");
    CHECK(bad.find("HTTP/1.1 400 Bad Request\r\n") == 0);
    // Still serving after a bad client.
    CHECK(server_test::exchange(srv.port(), "GET /hello HTTP/1.0\r\n\r\n").find("200 OK") != std::string::npos);

    srv.stop();
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}

TEST_CASE("server: several event loops share one port", "[server]") {
    aster::server srv{server_test::app, {.port = 0, .threads = 2, .handle_signals = false}};
    srv.listen();
    auto running = std::async(std::launch::async, [&] { srv.run(); });
    for (int i = 0; i < 8; ++i)
        CHECK(server_test::exchange(srv.port(), "GET /hello HTTP/1.0\r\n\r\n").find("200 OK") != std::string::npos);
    srv.stop();
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}

TEST_CASE("server_config: flags --host, --port and --threads", "[server]") {
    const char* argv[] = {"prog", "--host", "0.0.0.0", "--port=9001", "--threads", "3"};
    auto c = aster::server_config::from_args(6, const_cast<char**>(argv));
    CHECK(c.host == "0.0.0.0");
    CHECK(c.port == 9001);
    CHECK(c.threads == 3);
    const char* bad[] = {"prog", "--port", "70000"};
    CHECK_THROWS_WITH(aster::server_config::from_args(3, const_cast<char**>(bad)), Catch::Contains("--port"));
    const char* unknown[] = {"prog", "--verbose"};
    CHECK_THROWS_WITH(aster::server_config::from_args(2, const_cast<char**>(unknown)), Catch::Contains("unknown option"));
}
