// SPDX-License-Identifier: MIT
// Lifespan: startup before the first request, shutdown after the last, through test_client,
// the real server and serve().
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace lifespan_test {

using aster::request;
using aster::response;

// The server runs hooks and handlers on its own threads: every access is locked.
std::mutex events_mutex;
std::vector<std::string> events;
void record(std::string e) {
    std::lock_guard lock(events_mutex);
    events.push_back(std::move(e));
}
std::vector<std::string> recorded() {
    std::lock_guard lock(events_mutex);
    return events;
}
void reset() {
    std::lock_guard lock(events_mutex);
    events.clear();
}

int ready = 0; // what startup prepares for the handlers

aster::task<> startup() {
    // A real suspension: the hook runs on an event loop, not as a plain call.
    aster::net::steady_timer timer(co_await aster::net::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(aster::net::use_awaitable);
    ready = 42;
    record("startup");
}

aster::task<> shutdown() {
    aster::net::steady_timer timer(co_await aster::net::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(aster::net::use_awaitable);
    ready = 0;
    record("shutdown");
}

aster::task<> failing_startup() {
    record("startup");
    throw std::runtime_error("database unreachable");
    co_return;
}

response hello(request&) {
    record("request");
    return aster::plain_text("ready=" + std::to_string(ready));
}

constexpr auto table = aster::routes(aster::route<"/hello">(hello));
constexpr aster::application app{table, aster::lifespan{.startup = startup, .shutdown = shutdown}};
constexpr aster::application failing{table, aster::lifespan{.startup = failing_startup}};
constexpr aster::application plain{table};

struct tag {
    aster::task<response> operator()(request& req, aster::call_next next) const {
        response r = co_await next(req);
        r.set_header("X-Tag", "1");
        co_return r;
    }
};
constexpr aster::application with_middleware{
    table, aster::middleware(tag{}), aster::lifespan{.startup = startup, .shutdown = shutdown}};

TEST_CASE("lifespan: test_client runs startup in its constructor, shutdown in its destructor",
          "[lifespan]") {
    reset();
    {
        aster::test_client client{app};
        CHECK(recorded() == std::vector<std::string>{"startup"});
        CHECK(client.get("/hello").text() == "ready=42");
        CHECK(client.get("/hello").text() == "ready=42");
        CHECK(recorded() == std::vector<std::string>{"startup", "request", "request"});
    }
    CHECK(recorded() == std::vector<std::string>{"startup", "request", "request", "shutdown"});
    CHECK(ready == 0);
}

TEST_CASE("lifespan: hooks beside middleware", "[lifespan]") {
    reset();
    {
        aster::test_client client{with_middleware};
        auto r = client.get("/hello");
        CHECK(r.text() == "ready=42");
        CHECK(r.header("x-tag") == "1");
    }
    CHECK(recorded() == std::vector<std::string>{"startup", "request", "shutdown"});
}

TEST_CASE("lifespan: a throwing startup fails the test_client with its message", "[lifespan]") {
    reset();
    CHECK_THROWS_WITH(aster::test_client{failing}, "database unreachable");
    CHECK(recorded() == std::vector<std::string>{"startup"});
}

TEST_CASE("lifespan: an app without one has no hooks", "[lifespan]") {
    CHECK(plain.ref().startup == nullptr);
    CHECK(plain.ref().shutdown == nullptr);
    CHECK(app.ref().startup != nullptr);
    aster::test_client client{plain};
    CHECK(client.get("/hello").status_code == 200);
}

// One GET over loopback; bounded by Connection: close.
std::string get(std::uint16_t port) {
    using aster::net::ip::tcp;
    aster::net::io_context ctx;
    tcp::socket socket(ctx);
    socket.connect(tcp::endpoint(aster::net::ip::make_address("127.0.0.1"), port));
    std::string request = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    aster::net::write(socket, aster::net::buffer(request));
    std::string out;
    std::error_code ec;
    char buf[4096];
    for (int i = 0; i < 1000 && !ec; ++i) {
        std::size_t n = socket.read_some(aster::net::buffer(buf), ec);
        out.append(buf, n);
    }
    return out;
}

TEST_CASE("lifespan: the server runs startup before accepting, shutdown after stop()",
          "[lifespan]") {
    reset();
    aster::server srv{app, {.host = "127.0.0.1", .port = 0, .threads = 2, .handle_signals = false}};
    srv.listen();
    std::thread t([&] { srv.run(); });
    // The port is bound before startup ends, but nothing is accepted (so answered) before it.
    std::string first = get(srv.port());
    std::string second = get(srv.port());
    srv.stop();
    t.join();
    CHECK(first.find("ready=42") != std::string::npos);
    CHECK(second.find("ready=42") != std::string::npos);
    CHECK(recorded() == std::vector<std::string>{"startup", "request", "request", "shutdown"});
}

TEST_CASE("lifespan: a throwing startup makes server::run() throw, serving nothing", "[lifespan]") {
    reset();
    aster::server srv{failing,
                      {.host = "127.0.0.1", .port = 0, .threads = 1, .handle_signals = false}};
    CHECK_THROWS_WITH(srv.run(), "database unreachable");
    CHECK(recorded() == std::vector<std::string>{"startup"});
}

TEST_CASE("lifespan: serve() runs startup before on_listening, shutdown before it returns",
          "[lifespan]") {
    reset();
    aster::net::io_context ctx;
    aster::net::cancellation_signal stop;
    std::promise<std::uint16_t> port;
    bool finished = false;
    std::exception_ptr error;
    aster::net::co_spawn(ctx,
                         app.serve({.host = "127.0.0.1", .port = 0},
                                   [&](std::uint16_t p) {
                                       record("listening");
                                       port.set_value(p);
                                   }),
                         aster::net::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) {
                             finished = true;
                             error = e;
                         }));
    std::thread client([&, f = port.get_future()]() mutable {
        auto p = f.get();
        record(get(p).find("ready=42") != std::string::npos ? "answered" : "wrong answer");
        aster::net::post(ctx, [&] { stop.emit(aster::net::cancellation_type::terminal); });
    });
    ctx.run_for(std::chrono::seconds(10));
    client.join();
    CHECK(finished);
    CHECK_FALSE(error);
    CHECK(recorded() ==
          std::vector<std::string>{"startup", "listening", "request", "answered", "shutdown"});
}

TEST_CASE("lifespan: a throwing startup makes serve() throw", "[lifespan]") {
    reset();
    aster::net::io_context ctx;
    std::exception_ptr error;
    bool listening = false;
    aster::net::co_spawn(ctx,
                         failing.serve({.host = "127.0.0.1", .port = 0},
                                       [&](std::uint16_t) { listening = true; }),
                         [&](std::exception_ptr e) { error = e; });
    ctx.run_for(std::chrono::seconds(10));
    REQUIRE(error);
    CHECK_THROWS_WITH(std::rethrow_exception(error), "database unreachable");
    CHECK_FALSE(listening);
}

} // namespace lifespan_test

namespace lifespan_state_test {

struct inventory {
    int items = 0;
};
inventory stock; // the app's state: outlives the app

aster::task<> fill() {
    stock.items = 7;
    co_return;
}

aster::response count(aster::request& req) {
    return aster::plain_text(std::to_string(req.state<inventory>().items));
}
aster::response wrong_type(aster::request& req) {
    return aster::plain_text(std::to_string(req.state<int>()));
}

constexpr auto table = aster::routes(aster::route<"/count">(count),
                                     aster::route<"/wrong">(wrong_type));
constexpr aster::application app{table,
                                 aster::lifespan{.startup = fill, .state = aster::state_of(stock)}};
constexpr aster::application stateless{table};

TEST_CASE("lifespan: handlers reach the app's state through req.state<T>()", "[lifespan]") {
    aster::test_client client{app};
    CHECK(client.get("/count").text() == "7");
    stock.items = 8; // shared, not copied per request
    CHECK(client.get("/count").text() == "8");
}

TEST_CASE("lifespan: req.state<T>() of a wrong type or a stateless app throws", "[lifespan]") {
    aster::test_client client{app};
    CHECK_THROWS_WITH(client.get("/wrong"), Catch::Contains("no state of this type"));
    aster::test_client plain{stateless};
    CHECK_THROWS_WITH(plain.get("/count"), Catch::Contains("no state of this type"));
}

} // namespace lifespan_state_test
