// SPDX-License-Identifier: MIT
// Topics across processes through a real redis-server, started on a free loopback port and
// stopped by its pid: two servers of this process stand for two processes (each has its own
// topics and its own Redis connections). Every wait is bounded.
#include "support/loopback.hpp"

#include <catch2/catch.hpp>

#ifdef ASTER_HAS_REDIS

#include <hiredis/hiredis.h>

#include <csignal>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace redis_test {

using namespace test_support;
using aster::task;
using aster::websocket;
using clock_type = std::chrono::steady_clock;

std::uint16_t free_port() {
    net::io_context ctx;
    tcp::acceptor a(ctx, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

// A redis-server of our own: no persistence, loopback only, stopped by its pid.
class redis_process {
public:
    explicit redis_process(std::uint16_t port, std::string password = {})
        : port_(port), password_(std::move(password)) {
        start();
    }
    ~redis_process() { stop(); }
    redis_process(const redis_process&) = delete;
    redis_process& operator=(const redis_process&) = delete;

    std::uint16_t port() const { return port_; }
    std::string url() const {
        return "redis://" + (password_.empty() ? "" : ":" + password_ + "@") +
               "127.0.0.1:" + std::to_string(port_);
    }

    void start() {
        std::vector<std::string> args{
            "redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",  "--save", "",
            "--appendonly", "no",     "--daemonize",         "no",     "--loglevel", "warning"};
        if (!password_.empty()) {
            args.push_back("--requirepass");
            args.push_back(password_);
        }
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        // Not our descriptors: a client socket it inherited would stay open after the test
        // closes it (Asio's sockets are not close-on-exec).
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
        const int spawned = posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(),
                                         environ);
        posix_spawn_file_actions_destroy(&actions);
        if (spawned != 0)
            throw std::runtime_error("cannot start redis-server (apt-get install redis-server)");
        // Ready once it answers PING (bounded).
        for (int i = 0; i < 500; ++i) {
            if (command_ok("PING")) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        throw std::runtime_error("redis-server did not come up on port " + std::to_string(port_));
    }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL); // a crash, as far as the clients can tell
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

    /// Subscribers Redis counts on `channel` (PUBSUB NUMSUB), or -1 when it does not answer.
    long long subscribers(const std::string& channel) {
        redisContext* c = connect();
        if (!c) return -1;
        auto* r = static_cast<redisReply*>(redisCommand(c, "PUBSUB NUMSUB %s", channel.c_str()));
        long long n = -1;
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) n = r->element[1]->integer;
        if (r) freeReplyObject(r);
        redisFree(c);
        return n;
    }
    /// Waits (bounded) until `channel` has `n` subscribers.
    bool wait_subscribers(const std::string& channel, long long n) {
        for (int i = 0; i < 1000; ++i) {
            if (subscribers(channel) == n) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

private:
    redisContext* connect() {
        timeval tv{1, 0};
        redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
        if (!c || c->err) {
            if (c) redisFree(c);
            return nullptr;
        }
        if (!password_.empty()) {
            auto* r = static_cast<redisReply*>(redisCommand(c, "AUTH %s", password_.c_str()));
            if (r) freeReplyObject(r);
        }
        return c;
    }
    bool command_ok(const char* cmd) {
        redisContext* c = connect();
        if (!c) return false;
        auto* r = static_cast<redisReply*>(redisCommand(c, cmd));
        const bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (r) freeReplyObject(r);
        redisFree(c);
        return ok;
    }

    std::uint16_t port_;
    std::string password_;
    pid_t pid_ = -1;
};

// Subscribes to "feed"; what arrives is the test's to read.
task<> subscriber(websocket& ws) {
    co_await ws.accept();
    ws.subscribe("feed");
    co_await ws.send_text("subscribed");
    for (;;) {
        const std::string m = co_await ws.receive_text();
        co_await ws.publish("feed", m, {.to_sender = true}); // what the client says, to all
    }
}

// Runs `count` 10 ms timers back to back on the connection's loop and answers the worst
// lateness in milliseconds.
task<> lateness(websocket& ws) {
    co_await ws.accept();
    const std::string count_text = co_await ws.receive_text();
    const int count = std::stoi(count_text);
    aster::net::steady_timer timer(co_await aster::net::this_coro::executor);
    long worst = 0;
    for (int i = 0; i < count; ++i) {
        const auto due = clock_type::now() + std::chrono::milliseconds(10);
        timer.expires_at(due);
        co_await timer.async_wait(aster::net::use_awaitable);
        worst = std::max<long>(worst, long(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               clock_type::now() - due)
                                               .count()));
    }
    co_await ws.send_text(std::to_string(worst));
}

// A room as docs/topics.md has it: it says nothing of its subscribe; an arrival and what a
// member says go to the others.
task<> room_member(websocket& ws) {
    co_await ws.accept();
    ws.subscribe("room");
    co_await ws.publish("room", "joined");
    for (;;) {
        const std::string m = co_await ws.receive_text();
        co_await ws.publish("room", m);
    }
}

constexpr aster::application app{aster::routes(aster::websocket_route<"/sub">(subscriber),
                                               aster::websocket_route<"/late">(lateness),
                                               aster::websocket_route<"/room">(room_member))};

aster::server_config with_redis(const redis_process& redis) {
    aster::server_config config;
    config.threads = 2;
    config.broker = aster::redis_broker{.url = redis.url(),
                                        .retry_min = std::chrono::milliseconds(20),
                                        .retry_max = std::chrono::milliseconds(200)};
    return config;
}

// A WebSocket client of one server, driven on its own io_context.
struct peer {
    net::io_context ctx;
    tcp::socket socket{ctx};
    std::string in;

    peer(tcp::endpoint ep, std::string_view path) {
        bool done = false;
        net::co_spawn(
            ctx,
            [&]() -> task<> {
                in = co_await ws_open(socket, ep, path);
                done = true;
            },
            net::detached);
        ctx.run_for(std::chrono::seconds(10));
        if (!done) throw std::runtime_error("no WebSocket to " + std::string(path));
    }
    void send(std::string_view text) { net::write(socket, net::buffer(client_frame(1, text))); }
    /// The next text, or "(nothing)" after `limit`.
    std::string receive(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        std::string m = "(nothing)";
        ctx.restart();
        net::co_spawn(
            ctx, [&]() -> task<> { m = co_await read_frame(socket, in); }, net::detached);
        ctx.run_for(limit);
        return m;
    }
};

// Waits (bounded) until the server's Redis link has noticed that Redis is gone.
bool wait_disconnected(test_support::running_server& s) {
    for (int i = 0; i < 500; ++i) {
        if (!s.srv.topics().stats().broker_connected) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

TEST_CASE("redis: a publish in one process reaches subscribers in another, once each", "[redis]") {
    redis_process redis(free_port());
    test_support::running_server a(app, with_redis(redis)), b(app, with_redis(redis));
    peer on_a(a.endpoint(), "/sub"), on_b(b.endpoint(), "/sub");
    REQUIRE(on_a.receive() == "subscribed");
    REQUIRE(on_b.receive() == "subscribed");
    // Each process subscribed to the channel once, whatever its loops.
    REQUIRE(redis.wait_subscribers("aster:feed", 2));

    on_a.send("from a");
    CHECK(on_a.receive() == "from a"); // local delivery, not Redis's echo
    CHECK(on_b.receive() == "from a");
    on_b.send("from b");
    CHECK(on_b.receive() == "from b");
    CHECK(on_a.receive() == "from b");
    // No duplicates: the next thing each sees is the next message.
    a.srv.publish("feed", "outside a");
    CHECK(on_a.receive() == "outside a");
    CHECK(on_b.receive() == "outside a");
    CHECK(a.srv.stats().published == 2);
    CHECK(b.srv.stats().published == 1);
}

TEST_CASE("redis: the last subscriber leaving unsubscribes the process", "[redis]") {
    redis_process redis(free_port());
    test_support::running_server a(app, with_redis(redis));
    {
        peer one(a.endpoint(), "/sub"), two(a.endpoint(), "/sub");
        REQUIRE(one.receive() == "subscribed");
        REQUIRE(two.receive() == "subscribed");
        REQUIRE(redis.wait_subscribers("aster:feed", 1));
    }
    CHECK(redis.wait_subscribers("aster:feed", 0));
}

TEST_CASE("redis: an outage stops nothing local; after it, topics flow again", "[redis]") {
    redis_process redis(free_port());
    // One loop for `a`: its Redis link and its connections share it, so a stall would show.
    auto one_loop = with_redis(redis);
    one_loop.threads = 1;
    test_support::running_server a(app, one_loop), b(app, with_redis(redis));
    peer on_a(a.endpoint(), "/sub"), on_b(b.endpoint(), "/sub");
    REQUIRE(on_a.receive() == "subscribed");
    REQUIRE(on_b.receive() == "subscribed");
    REQUIRE(redis.wait_subscribers("aster:feed", 2));

    redis.stop();
    REQUIRE(wait_disconnected(a));
    // Local delivery goes on, and the loops stay responsive while the link retries.
    on_a.send("during the outage");
    CHECK(on_a.receive() == "during the outage");
    // A window of 100 timers (1 s) holds at least five reconnection attempts (retry_max is
    // 200 ms here), so a stall the link causes shows in every window. A machine that also runs
    // other tests can stall any process once; the best of three windows must stay under 50 ms.
    long best = -1;
    for (int window = 0; window < 3 && (best < 0 || best >= 50); ++window) {
        peer late(a.endpoint(), "/late");
        late.send("100");
        const std::string worst = late.receive(std::chrono::seconds(20));
        REQUIRE(worst != "(nothing)");
        UNSCOPED_INFO("window " << window << ": worst lateness " << worst << " ms");
        best = best < 0 ? std::stol(worst) : std::min(best, std::stol(worst));
    }
    CHECK(best < 50);

    redis.start(); // the same port: both links reconnect and subscribe again
    REQUIRE(redis.wait_subscribers("aster:feed", 2));
    on_b.send("after the outage");
    // What A queued during the outage went out when its link came back; B hears it only if
    // its own subscription was back by then (delivery is at most once).
    std::string first = on_b.receive();
    if (first == "during the outage") first = on_b.receive();
    CHECK(first == "after the outage");
    CHECK(on_a.receive() == "after the outage");
}

TEST_CASE("redis: publishes while Redis is away are queued up to a bound, then dropped",
          "[redis]") {
    redis_process redis(free_port());
    auto config = with_redis(redis);
    config.broker->max_queued_bytes = 4096;
    test_support::running_server a(app, config);
    peer on_a(a.endpoint(), "/sub");
    REQUIRE(on_a.receive() == "subscribed");
    REQUIRE(redis.wait_subscribers("aster:feed", 1));
    redis.stop();
    REQUIRE(wait_disconnected(a));
    const std::string big(1000, 'x');
    for (int i = 0; i < 20; ++i) a.srv.publish("feed", big);
    for (int i = 0; i < 20; ++i) REQUIRE(on_a.receive() == big); // local: every one
    CHECK(a.srv.stats().published == 20);
    // The link counts on its own loop: wait (bounded) for it. About 3 fit in 4 KiB.
    for (int i = 0; i < 500 && a.srv.topics().stats().broker_dropped < 17; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(a.srv.topics().stats().broker_dropped == 17);
}

TEST_CASE("redis: AUTH with the URL's password", "[redis]") {
    redis_process redis(free_port(), "s3cret");
    test_support::running_server a(app, with_redis(redis)), b(app, with_redis(redis));
    peer on_a(a.endpoint(), "/sub"), on_b(b.endpoint(), "/sub");
    REQUIRE(on_a.receive() == "subscribed");
    REQUIRE(on_b.receive() == "subscribed");
    REQUIRE(redis.wait_subscribers("aster:feed", 2));
    on_a.send("authenticated");
    CHECK(on_b.receive() == "authenticated");
}

TEST_CASE("redis: a bad URL is refused with a reason", "[redis]") {
    CHECK_THROWS_WITH(aster::redis_address::parse("rediss://host"),
                      Catch::Contains("no TLS to Redis"));
    CHECK_THROWS_WITH(aster::redis_address::parse("redis://host:99999"), Catch::Contains("port"));
    auto parsed = aster::redis_address::parse("redis://u:p@10.0.0.1:7000/3");
    CHECK(parsed.username == "u");
    CHECK(parsed.password == "p");
    CHECK(parsed.host == "10.0.0.1");
    CHECK(parsed.port == 7000);
    CHECK(parsed.db == 3);
}

TEST_CASE("redis: a server stops at once while its Redis does not answer", "[redis]") {
    // A "Redis" that accepts and never answers: both connections of the link wait for the
    // answer to their AUTH, inside a connection attempt, when the stop comes.
    net::io_context ctx;
    tcp::acceptor silent(ctx, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    aster::server_config config;
    config.threads = 1;
    config.broker = aster::redis_broker{.url = "redis://:silent-pw@127.0.0.1:" +
                                               std::to_string(silent.local_endpoint().port()),
                                        .retry_min = std::chrono::seconds(30),
                                        .retry_max = std::chrono::seconds(30),
                                        .connect_timeout = std::chrono::seconds(30)};
    std::optional<test_support::running_server> server(std::in_place, app, config);
    tcp::socket first(ctx), second(ctx);
    int asked = 0;
    net::co_spawn(
        ctx,
        [&]() -> task<> {
            for (tcp::socket* s : {&first, &second}) {
                co_await silent.async_accept(*s, net::use_awaitable);
                std::string in;
                co_await net::async_read_until(*s, net::dynamic_buffer(in), "silent-pw",
                                               net::use_awaitable);
                ++asked;
            }
        },
        net::detached);
    ctx.run_for(std::chrono::seconds(10));
    REQUIRE(asked == 2);
    const auto stop_requested = clock_type::now();
    server->srv.stop();
    // Not the 30 s of retry_min: nothing waits for a retry that will not be made.
    CHECK(server->done.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    CHECK(clock_type::now() - stop_requested < std::chrono::seconds(5));
    server.reset();
}

// --- test_client with a broker: two clients stand for two processes ----------------------------

aster::test_client_options client_with_redis(const redis_process& redis) {
    aster::test_client_options options;
    options.broker = aster::redis_broker{.url = redis.url(),
                                         .retry_min = std::chrono::milliseconds(20),
                                         .retry_max = std::chrono::milliseconds(200)};
    return options;
}

// The i-th message of a run: its number, then a filler whose length varies (one of 100 KiB).
std::string numbered(int i) {
    const std::size_t filler = i == 7 ? 100 * 1024 : std::size_t(i * 37 % 500);
    return std::to_string(i) + ":" + std::string(filler, char('a' + i % 26));
}

TEST_CASE("redis: test_clients given one Redis share topics, in order, once each", "[redis]") {
    redis_process redis(free_port());
    aster::test_client a{app, client_with_redis(redis)}, b{app, client_with_redis(redis)};
    aster::test_client alone{app}; // no broker: topics of its own
    auto on_a = a.websocket_connect("/sub");
    auto on_b = b.websocket_connect("/sub");
    auto on_alone = alone.websocket_connect("/sub");
    REQUIRE(on_a.receive_text() == "subscribed");
    REQUIRE(on_b.receive_text() == "subscribed");
    REQUIRE(on_alone.receive_text() == "subscribed");
    a.sync_broker();
    b.sync_broker();
    // Synced: Redis has confirmed both subscriptions already, no waiting needed.
    CHECK(redis.subscribers("aster:feed") == 2);
    CHECK(a.topics().stats().broker_connected);
    CHECK_FALSE(alone.topics().stats().broker_connected);

    // B's session publishes (its own copy is local), then B's test does.
    constexpr int count = 20;
    for (int i = 0; i < count; ++i) {
        on_b.send_text(numbered(i));
        REQUIRE(on_b.receive_text() == numbered(i));
    }
    b.publish("feed", "from b's test");
    CHECK(on_b.receive_text() == "from b's test");
    b.sync_broker(); // all of it has reached Redis, and B has read back its echoes
    for (int i = 0; i < count; ++i) REQUIRE(on_a.receive_text() == numbered(i));
    CHECK(on_a.receive_text() == "from b's test");

    // Echoes skipped: each client reads its own publishes back from Redis in its sync, and an
    // echo delivered would reach its session before what is published next.
    b.publish("feed", "b again");
    CHECK(on_b.receive_text() == "b again");
    b.sync_broker();
    CHECK(on_a.receive_text() == "b again");
    a.publish("feed", "from a");
    CHECK(on_a.receive_text() == "from a");
    a.sync_broker();
    a.publish("feed", "a again");
    CHECK(on_a.receive_text() == "a again");
    a.sync_broker();
    CHECK(on_b.receive_text() == "from a");
    CHECK(on_b.receive_text() == "a again");

    // The client without a broker got none of it, and its publish stays its own.
    alone.publish("feed", "alone");
    CHECK(on_alone.receive_text() == "alone");
    b.publish("feed", "last");
    b.sync_broker();
    CHECK(on_a.receive_text() == "last");
    CHECK(b.topics().stats().published == std::size_t(count) + 3);
    CHECK(a.topics().stats().published == 2);
    CHECK(alone.topics().stats().published == 1);
}

TEST_CASE("redis: a test_client's broker reconnects after Redis restarts", "[redis]") {
    redis_process redis(free_port());
    aster::test_client a{app, client_with_redis(redis)}, b{app, client_with_redis(redis)};
    auto on_a = a.websocket_connect("/sub");
    auto on_b = b.websocket_connect("/sub");
    REQUIRE(on_a.receive_text() == "subscribed");
    REQUIRE(on_b.receive_text() == "subscribed");
    a.sync_broker();
    b.sync_broker();
    on_b.send_text("before");
    REQUIRE(on_b.receive_text() == "before");
    b.sync_broker();
    REQUIRE(on_a.receive_text() == "before");

    redis.stop();
    // No Redis: a sync fails at the client's timeout, saying so, and local delivery goes on.
    a.settings().timeout = std::chrono::milliseconds(300);
    CHECK_THROWS_AS(a.sync_broker(), aster::test_timeout);
    CHECK_THROWS_WITH(a.sync_broker(), Catch::Contains("no answer from Redis at 127.0.0.1:" +
                                                       std::to_string(redis.port())));
    CHECK_FALSE(a.topics().stats().broker_connected);
    a.settings().timeout = std::chrono::seconds(5);
    on_a.send_text("during");
    CHECK(on_a.receive_text() == "during");

    redis.start(); // the same port
    // B first: subscribed again before A's link, which holds "during", is back.
    b.sync_broker();
    a.sync_broker();
    CHECK(redis.subscribers("aster:feed") == 2);
    CHECK(a.topics().stats().broker_connected);
    // Queued while Redis was away, sent on reconnection ahead of the sync's round trip.
    CHECK(on_b.receive_text() == "during");
    on_b.send_text("after");
    REQUIRE(on_b.receive_text() == "after");
    b.sync_broker();
    CHECK(on_a.receive_text() == "after");
    CHECK(a.topics().stats().broker_dropped == 0);
}

TEST_CASE("redis: sync_broker covers what the app did before it waits", "[redis]") {
    redis_process redis(free_port());
    aster::test_client one{app, client_with_redis(redis)}, other{app, client_with_redis(redis)};
    auto ada = one.websocket_connect("/room");
    one.sync_broker(); // the handler's subscribe, with no message to wait for
    CHECK(redis.subscribers("aster:room") == 1);
    auto bob = other.websocket_connect("/room");
    other.sync_broker(); // bob's arrival, published in `other`, has gone through Redis
    CHECK(ada.receive_text() == "joined");
    bob.send_text("hi ada"); // read and published by the handler in the sync
    other.sync_broker();
    CHECK(ada.receive_text() == "hi ada");
    ada.send_text("hi bob");
    one.sync_broker();
    CHECK(bob.receive_text() == "hi bob");
}

TEST_CASE("redis: sync_broker needs a broker", "[redis]") {
    aster::test_client client{app};
    CHECK_THROWS_AS(client.sync_broker(), std::logic_error);
}

} // namespace redis_test

#else // without ASTER_HAS_REDIS

namespace redis_test {
inline aster::response hello(aster::request&) { return aster::plain_text("hello"); }
constexpr aster::application no_redis_app{aster::routes(aster::route<"/">(hello))};
} // namespace redis_test
using redis_test::no_redis_app;

TEST_CASE("redis: a server given a broker in a build without Redis says how to get one",
          "[redis]") {
    aster::server_config config;
    config.broker = aster::redis_broker{};
    CHECK_THROWS_WITH((aster::server{no_redis_app, config}), Catch::Contains("ASTER_HAS_REDIS"));
}

TEST_CASE("redis: a test_client given a broker in a build without Redis says how to get one",
          "[redis]") {
    aster::test_client_options options;
    options.broker = aster::redis_broker{};
    CHECK_THROWS_AS((aster::test_client{no_redis_app, options}), std::invalid_argument);
    CHECK_THROWS_WITH((aster::test_client{no_redis_app, options}),
                      Catch::Contains("test_client_options::broker") &&
                          Catch::Contains("ASTER_HAS_REDIS"));
}

#endif
