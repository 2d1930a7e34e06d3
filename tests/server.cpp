// SPDX-License-Identifier: MIT
// The real server over loopback: 127.0.0.1, port 0, a deadline on every wait.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace server_test {

using aster::request;
using aster::response;

response hello(request& r) { return aster::plain_text("Hello from " + r.client().host); }

aster::task<response> slow(request&) {
    aster::net::steady_timer timer(co_await aster::net::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(300));
    co_await timer.async_wait(aster::net::use_awaitable);
    co_return aster::plain_text("finished anyway");
}

std::atomic<int> last_close_code{0};

struct ws_echo : aster::websocket_endpoint {
    aster::task<> on_receive(aster::websocket& ws, std::string_view m) { co_await ws.send_text(m); }
    void on_disconnect(aster::websocket&, aster::close_code code) { last_close_code = int(code); }
};

constexpr aster::application app{aster::routes(aster::route<"/hello">(hello),
                                               aster::route<"/slow">(slow),
                                               aster::websocket_route<"/ws", ws_echo>())};

// Reads until `marker` appears or the peer closes; bounded by the socket's own timeouts.
std::string read_until(aster::net::ip::tcp::socket& socket, std::string_view marker) {
    std::string out;
    char buf[4096];
    std::error_code ec;
    for (int i = 0; i < 1000 && out.find(marker) == std::string::npos; ++i) {
        std::size_t n = socket.read_some(aster::net::buffer(buf), ec);
        out.append(buf, n);
        if (ec) break;
    }
    return out;
}

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

TEST_CASE("server: serves keep-alive and pipelined requests over loopback", "[server][mt]") {
    aster::server srv{server_test::app, {.host = "127.0.0.1", .port = 0, .handle_signals = false}};
    srv.listen();
    REQUIRE(srv.port() != 0);
    auto running = std::async(std::launch::async, [&] { srv.run(); });

    auto reply = server_test::exchange(
        srv.port(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
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
    CHECK(server_test::exchange(srv.port(), "GET /hello HTTP/1.0\r\n\r\n").find("200 OK") !=
          std::string::npos);

    srv.stop();
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}

TEST_CASE("server: several event loops share one port", "[server][mt]") {
    aster::server srv{server_test::app, {.port = 0, .threads = 2, .handle_signals = false}};
    srv.listen();
    auto running = std::async(std::launch::async, [&] { srv.run(); });
    for (int i = 0; i < 8; ++i)
        CHECK(server_test::exchange(srv.port(), "GET /hello HTTP/1.0\r\n\r\n").find("200 OK") !=
              std::string::npos);
    srv.stop();
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}

TEST_CASE("server: a second server on a busy port is refused, unless both ask to share it",
          "[server]") {
    using server_test::app;
    aster::server first{app, {.port = 0, .threads = 2, .handle_signals = false}};
    first.listen();
    for (unsigned threads : {1u, 2u}) {
        aster::server second{app,
                             {.port = first.port(), .threads = threads, .handle_signals = false}};
        CHECK_THROWS_WITH(second.listen(), Catch::Contains("another process listens there") &&
                                               Catch::Contains("--reuse-port"));
    }
    // Asking to share while the first did not: still refused.
    aster::server sharing{app, {.port = first.port(), .handle_signals = false, .reuse_port = true}};
    CHECK_THROWS(sharing.listen());
    // Both asking (a restart without downtime): the second joins.
    aster::server old_one{app,
                          {.port = 0, .threads = 2, .handle_signals = false, .reuse_port = true}};
    old_one.listen();
    aster::server new_one{app,
                          {.port = old_one.port(), .handle_signals = false, .reuse_port = true}};
    CHECK_NOTHROW(new_one.listen());
    CHECK(new_one.port() == old_one.port());
}

TEST_CASE("server_config: flags --host, --port, --threads and --shutdown-timeout", "[server]") {
    const char* argv[] = {
        "prog", "--host", "0.0.0.0", "--port=9001", "--threads", "3", "--shutdown-timeout", "1500"};
    auto c = aster::server_config::parse_args(8, const_cast<char**>(argv));
    CHECK(c.host == "0.0.0.0");
    CHECK(c.port == 9001);
    CHECK(c.threads == 3);
    CHECK(c.shutdown_timeout == std::chrono::milliseconds(1500));
    const char* bad[] = {"prog", "--port", "70000"};
    CHECK_THROWS_WITH(aster::server_config::parse_args(3, const_cast<char**>(bad)),
                      Catch::Contains("--port"));
    const char* unknown[] = {"prog", "--verbose"};
    CHECK_THROWS_WITH(aster::server_config::parse_args(2, const_cast<char**>(unknown)),
                      Catch::Contains("unknown option"));
}

TEST_CASE("server_config: logging and port flags, --help", "[server]") {
    const char* argv[] = {"prog",    "--no-access-log",  "--log-level",
                          "warning", "--log-timestamps", "--reuse-port"};
    auto c = aster::server_config::parse_args(6, const_cast<char**>(argv));
    CHECK_FALSE(c.access_log);
    CHECK(c.log_level == aster::log_level::warning);
    CHECK(c.log_timestamps);
    CHECK(c.reuse_port);
    auto d = aster::server_config::parse_args(1, const_cast<char**>(argv));
    CHECK(d.access_log); // on by default, as uvicorn
    CHECK_FALSE(d.log_level);
    CHECK_FALSE(d.reuse_port);
    const char* bad_level[] = {"prog", "--log-level=loud"};
    CHECK_THROWS_WITH(aster::server_config::parse_args(2, const_cast<char**>(bad_level)),
                      Catch::Contains("debug, info, warning, error, off"));
    const char* help[] = {"prog", "--help"};
    CHECK_THROWS_AS(aster::server_config::parse_args(2, const_cast<char**>(help)),
                    aster::help_requested);
    CHECK_THAT(aster::server_config::usage("prog"),
               Catch::Contains("usage: prog") && Catch::Contains("--reuse-port") &&
                   Catch::Contains("--no-access-log") && Catch::Contains("--tls-cert"));
}

namespace server_test {

// Runs from_args in a child process: its exit status and what it printed.
struct child_result {
    int status = -1;
    std::string out, err;
};
child_result from_args_in_child(std::vector<const char*> args) {
    int out[2], err[2];
    REQUIRE(pipe(out) == 0);
    REQUIRE(pipe(err) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        aster::server_config::from_args(int(args.size()), const_cast<char**>(args.data()));
        _exit(42); // parsed without exiting
    }
    close(out[1]);
    close(err[1]);
    child_result r;
    auto drain = [](int fd, std::string& into) {
        char buf[4096];
        for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) into.append(buf, std::size_t(n));
        close(fd);
    };
    drain(out[0], r.out);
    drain(err[0], r.err);
    int status = 0;
    waitpid(pid, &status, 0);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

} // namespace server_test

TEST_CASE("server_config::from_args: --help prints the flags and exits 0, a bad flag exits 2",
          "[server]") {
    using server_test::from_args_in_child;
    auto help = from_args_in_child({"prog", "--port", "9000", "--help"});
    CHECK(help.status == 0);
    CHECK_THAT(help.out, Catch::Contains("usage: prog") && Catch::Contains("--port PORT"));
    auto bad = from_args_in_child({"prog", "--prot", "9000"});
    CHECK(bad.status == 2);
    CHECK_THAT(bad.err,
               Catch::Contains("prog: unknown option: --prot") && Catch::Contains("usage: prog"));
    CHECK(from_args_in_child({"prog", "--port", "9000"}).status == 42);
}

TEST_CASE("server_config: flags --tls-cert and --tls-key", "[server][tls]") {
    const char* argv[] = {"prog", "--tls-cert", "cert.pem", "--tls-key=key.pem"};
    auto c = aster::server_config::parse_args(4, const_cast<char**>(argv));
    REQUIRE(c.tls);
    CHECK(c.tls->certificate_chain_file == "cert.pem");
    CHECK(c.tls->private_key_file == "key.pem");
    CHECK_FALSE(aster::server_config::parse_args(1, const_cast<char**>(argv)).tls);
    CHECK_THROWS_WITH(aster::server_config::parse_args(3, const_cast<char**>(argv)),
                      Catch::Contains("--tls-cert and --tls-key go together"));
#ifndef ASTER_HAS_TLS
    // A build without TLS says so instead of serving plain HTTP where https was asked for.
    aster::server srv{server_test::app,
                      aster::server_config::from_args(4, const_cast<char**>(argv))};
    CHECK_THROWS_WITH(srv.listen(), Catch::Contains("built without TLS"));
#endif
}

TEST_CASE("server: a graceful stop finishes requests in flight and closes WebSockets with 1001",
          "[server][shutdown][mt]") {
    using aster::net::ip::tcp;
    aster::server srv{
        server_test::app,
        {.port = 0, .handle_signals = false, .shutdown_timeout = std::chrono::seconds(5)}};
    srv.listen();
    auto running = std::async(std::launch::async, [&] { srv.run(); });
    aster::net::io_context ctx;
    auto endpoint = tcp::endpoint(aster::net::ip::make_address("127.0.0.1"), srv.port());

    tcp::socket busy(ctx), idle(ctx), ws(ctx);
    idle.connect(endpoint);
    aster::net::write(idle, aster::net::buffer(
                                std::string_view("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")));
    CHECK(server_test::read_until(idle, "Hello from").find("200 OK") != std::string::npos);

    ws.connect(endpoint);
    aster::net::write(
        ws,
        aster::net::buffer(std::string_view(
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")));
    CHECK(server_test::read_until(ws, "\r\n\r\n").find("101 Switching Protocols") !=
          std::string::npos);

    busy.connect(endpoint);
    aster::net::write(busy, aster::net::buffer(
                                std::string_view("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")));
    tcp::socket fresh(ctx); // connected, nothing sent yet: closed at once by the stop
    fresh.connect(endpoint);
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // the slow handler is running
    auto stop_requested = std::chrono::steady_clock::now();
    srv.stop();

    auto slow_reply = server_test::read_until(busy, "finished anyway");
    CHECK(slow_reply.find("200 OK") != std::string::npos);
    CHECK(slow_reply.find("Connection: close") != std::string::npos);
    CHECK(slow_reply.find("finished anyway") != std::string::npos);

    // The WebSocket gets a close frame with 1001 (0x03e9); answer it as a client must (masked).
    auto frame = server_test::read_until(ws, "\x03\xe9");
    REQUIRE(frame.size() >= 4);
    CHECK(std::uint8_t(frame[0]) == 0x88);
    CHECK(frame.substr(2, 2) == "\x03\xe9");
    const char reply[] = {char(0x88), char(0x82), 0, 0, 0, 0, char(0x03), char(0xe9)};
    aster::net::write(ws, aster::net::buffer(reply, sizeof reply));

    std::error_code ec;
    char byte;
    idle.read_some(aster::net::buffer(&byte, 1), ec); // the idle connection was closed
    CHECK(ec);
    fresh.read_some(aster::net::buffer(&byte, 1), ec);
    CHECK(ec);
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(std::chrono::steady_clock::now() - stop_requested < std::chrono::seconds(5));
    CHECK(server_test::last_close_code == 1001);
}

TEST_CASE("server: connections beyond max_connections get 503 and are closed",
          "[server][limits][mt]") {
    using aster::net::ip::tcp;
    aster::server srv{server_test::app, {.port = 0, .handle_signals = false, .max_connections = 1}};
    srv.listen();
    auto running = std::async(std::launch::async, [&] { srv.run(); });
    aster::net::io_context ctx;
    auto endpoint = tcp::endpoint(aster::net::ip::make_address("127.0.0.1"), srv.port());
    {
        tcp::socket first(ctx);
        first.connect(endpoint);
        aster::net::write(first, aster::net::buffer(
                                     std::string_view("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")));
        CHECK(server_test::read_until(first, "Hello from").find("200 OK") != std::string::npos);
        auto refused = server_test::exchange(srv.port(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK(refused.find("HTTP/1.1 503 Service Unavailable\r\n") == 0);
    } // the first connection closes
    std::string again;
    for (int i = 0; i < 200 && again.find("200 OK") == std::string::npos; ++i) {
        again = server_test::exchange(srv.port(), "GET /hello HTTP/1.0\r\n\r\n");
        if (again.find("200 OK") == std::string::npos)
            std::this_thread::sleep_for(
                std::chrono::milliseconds(10)); // the server notices the close
    }
    CHECK(again.find("200 OK") != std::string::npos);
    srv.stop();
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}

namespace server_test {

// A client on the server's own io_context: connects, sends `bytes`, reads until `marker`.
aster::task<std::string> ask(std::uint16_t port, std::string bytes, std::string marker,
                             aster::net::ip::tcp::socket& socket) {
    using aster::net::ip::tcp;
    auto executor = co_await aster::net::this_coro::executor;
    socket = tcp::socket(executor);
    co_await socket.async_connect(tcp::endpoint(aster::net::ip::make_address("127.0.0.1"), port),
                                  aster::net::use_awaitable);
    co_await aster::net::async_write(socket, aster::net::buffer(bytes), aster::net::use_awaitable);
    std::string out;
    char buf[4096];
    while (out.find(marker) == std::string::npos) {
        auto [ec, n] = co_await socket.async_read_some(aster::net::buffer(buf),
                                                       aster::detail::use_tuple);
        out.append(buf, n);
        if (ec) break;
    }
    co_return out;
}

} // namespace server_test

TEST_CASE(
    "application::serve: serves inside the caller's io_context; cancelling stops it gracefully",
    "[server][serve]") {
    using aster::net::ip::tcp;
    aster::net::io_context ctx;
    aster::net::cancellation_signal stop;
    std::uint16_t port = 0;
    bool served = false;
    std::exception_ptr error;
    aster::net::co_spawn(ctx,
                         server_test::app.serve({.host = "127.0.0.1", .port = 0},
                                                [&](std::uint16_t p) { port = p; }),
                         aster::net::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) {
                             served = true;
                             error = e;
                         }));
    std::string first, slow, after_stop;
    tcp::socket a(ctx), b(ctx), c(ctx);
    aster::net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            first = co_await server_test::ask(port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
                                              "Hello from", a);
            // A slow request in flight when the stop comes: it still gets its answer.
            aster::net::steady_timer pause(ctx);
            aster::net::co_spawn(
                ctx,
                [&]() -> aster::task<> {
                    pause.expires_after(std::chrono::milliseconds(100));
                    co_await pause.async_wait(aster::net::use_awaitable);
                    stop.emit(aster::net::cancellation_type::terminal);
                },
                aster::net::detached);
            slow = co_await server_test::ask(port, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n",
                                             "finished anyway", b);
            // Stopped: no new connections.
            try {
                after_stop = co_await server_test::ask(port,
                                                       "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
                                                       "Hello from", c);
            } catch (const std::system_error& e) {
                after_stop = "refused: " + e.code().message();
            }
        },
        aster::net::detached);
    ctx.run_for(std::chrono::seconds(10));
    CHECK(first.find("200 OK") != std::string::npos);
    CHECK(slow.find("finished anyway") != std::string::npos);
    CHECK(slow.find("Connection: close") != std::string::npos);
    CHECK(after_stop.find("refused") == 0);
    CHECK(served); // the serve coroutine returned once its connections ended
    std::string what;
    if (error) try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            what = e.what();
        }
    CHECK(what == "");
}

TEST_CASE(
    "application::serve: connections that outlive shutdown_timeout are cut, the loop lives on",
    "[server][serve]") {
    using aster::net::ip::tcp;
    aster::net::io_context ctx;
    aster::net::cancellation_signal stop;
    std::uint16_t port = 0;
    bool served = false;
    aster::net::co_spawn(
        ctx,
        server_test::app.serve(
            {.host = "127.0.0.1", .port = 0, .shutdown_timeout = std::chrono::milliseconds(200)},
            [&](std::uint16_t p) { port = p; }),
        aster::net::bind_cancellation_slot(stop.slot(),
                                           [&](std::exception_ptr) { served = true; }));
    std::string stuck;
    tcp::socket s(ctx);
    auto started = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration stop_took{};
    aster::net::co_spawn(
        ctx,
        [&]() -> aster::task<> {
            // Half a body: the request stays in flight until the server gives up on it.
            aster::net::steady_timer pause(ctx);
            aster::net::co_spawn(
                ctx,
                [&]() -> aster::task<> {
                    pause.expires_after(std::chrono::milliseconds(100));
                    co_await pause.async_wait(aster::net::use_awaitable);
                    started = std::chrono::steady_clock::now();
                    stop.emit(aster::net::cancellation_type::terminal);
                },
                aster::net::detached);
            stuck = co_await server_test::ask(
                port, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab", "never",
                s);
            stop_took = std::chrono::steady_clock::now() - started;
        },
        aster::net::detached);
    ctx.run_for(std::chrono::seconds(10));
    CHECK(served);
    CHECK(stuck.find("HTTP/1.1 2") == std::string::npos);
    CHECK(stop_took >= std::chrono::milliseconds(150));
    CHECK(stop_took < std::chrono::seconds(3));
}

// ASan found it: the signal set outlived the io_context it was registered with.
TEST_CASE("server: with signal handling on, stopping and destroying the server is clean",
          "[server][mt]") {
    auto srv = std::make_unique<aster::server>(server_test::app, aster::server_config{.port = 0});
    srv->listen();
    auto running = std::async(std::launch::async, [&] { srv->run(); });
    CHECK(server_test::exchange(srv->port(), "GET /hello HTTP/1.0\r\n\r\n").find("200 OK") !=
          std::string::npos);
    srv->stop();
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    srv.reset(); // destroys the signal set and the loops
    CHECK_FALSE(srv);
}

// The loops' io_contexts destroy the cut connections' coroutines, which unregister themselves:
// the registry must still exist then.
TEST_CASE("server: connections cut at shutdown_timeout are torn down cleanly",
          "[server][shutdown][mt]") {
    using aster::net::ip::tcp;
    auto srv = std::make_unique<aster::server>(
        server_test::app, aster::server_config{.port = 0,
                                               .handle_signals = false,
                                               .shutdown_timeout = std::chrono::milliseconds(200)});
    srv->listen();
    auto running = std::async(std::launch::async, [&] { srv->run(); });
    aster::net::io_context ctx;
    tcp::socket stuck(ctx);
    stuck.connect(tcp::endpoint(aster::net::ip::make_address("127.0.0.1"), srv->port()));
    // Half a body: in flight until the deadline cuts it.
    aster::net::write(stuck,
                      aster::net::buffer(std::string_view(
                          "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")));
    for (int i = 0; i < 500 && srv->stats().connections == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(srv->stats().connections == 1);
    auto asked = std::chrono::steady_clock::now();
    srv->stop();
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(std::chrono::steady_clock::now() - asked < std::chrono::seconds(3));
    srv.reset();
    std::error_code ec;
    char byte;
    stuck.read_some(aster::net::buffer(&byte, 1), ec); // cut: closed without an answer
    CHECK(ec);
}

namespace server_test {
aster::task<> close_then_wait(aster::websocket& ws) {
    co_await ws.accept();
    co_await ws.close(1000);
}
constexpr aster::application closing_app{
    aster::routes(aster::websocket_route<"/close">(close_then_wait))};
} // namespace server_test

// After its close frame the server waits close_timeout for the peer's; a peer that floods data
// instead must not keep the connection open (the deadline firing while a read's completion was
// queued used to be lost, and the server then read on for as long as the flood lasted).
TEST_CASE("server: the WebSocket close timeout holds against a peer that floods instead of closing",
          "[server][websocket][mt]") {
    using aster::net::ip::tcp;
    aster::server srv{server_test::closing_app,
                      {.port = 0,
                       .threads = 1,
                       .websocket = {.close_timeout = std::chrono::milliseconds(50)},
                       .handle_signals = false}};
    srv.listen();
    auto running = std::async(std::launch::async, [&] { srv.run(); });
    aster::net::io_context ctx;
    tcp::socket ws(ctx);
    ws.connect(tcp::endpoint(aster::net::ip::make_address("127.0.0.1"), srv.port()));
    aster::net::write(
        ws,
        aster::net::buffer(std::string_view(
            "GET /close HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")));
    auto reply = server_test::read_until(ws, "\x03\xe8"); // the close frame with 1000
    REQUIRE(reply.find("101 Switching Protocols") != std::string::npos);

    // 64 masked binary frames of 1 KiB (mask 0: payload as is), sent again and again.
    std::string frame = {char(0x82), char(0xfe), char(0x04), char(0x00), 0, 0, 0, 0};
    frame.append(1024, 'x');
    std::string flood;
    for (int i = 0; i < 64; ++i) flood += frame;
    const auto started = std::chrono::steady_clock::now();
    std::error_code ec;
    while (!ec && std::chrono::steady_clock::now() - started < std::chrono::seconds(4))
        aster::net::write(ws, aster::net::buffer(flood), ec);
    const auto lasted = std::chrono::steady_clock::now() - started;
    INFO("lasted " << std::chrono::duration_cast<std::chrono::milliseconds>(lasted).count()
                   << " ms");
    CHECK(ec); // the server closed the connection under the flood
    CHECK(lasted < std::chrono::seconds(2));
    srv.stop();
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}
