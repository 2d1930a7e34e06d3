// SPDX-License-Identifier: MIT
// Topics on the real server: backpressure (close, drop, wait) against a subscriber that never
// reads while another keeps up, and publishes crossing event loops in order. Every wait is
// bounded.
#include "support/loopback.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

namespace topics_server_test {

using namespace test_support;
using aster::task;
using aster::websocket;
using clock_type = std::chrono::steady_clock;

// How far the subscriber that keeps up has read ("ack N" from its client): a paced publisher
// stays within a window of it, so that subscriber never falls behind however loaded the
// machine is, and only the stalled one meets the backpressure policy.
std::atomic<long> feed_acked{-1};
constexpr long ack_window = 32; // messages: 512 KiB of 16 KiB, under the 1 MiB topic limit

// Subscribes to "feed" with the policy its path names; answers "alive" to "ping".
task<> subscriber(websocket& ws, std::string_view policy) {
    co_await ws.accept();
    ws.subscribe("feed", policy == "drop"   ? aster::backpressure::drop
                         : policy == "wait" ? aster::backpressure::wait
                                            : aster::backpressure::close);
    co_await ws.send_text("subscribed");
    for (;;) {
        const std::string m = co_await ws.receive_text(); // (g++ 12: not inside the if)
        if (m == "ping") co_await ws.send_text("alive");
        else if (m.starts_with("ack ")) feed_acked = std::stol(m.substr(4));
    }
}

// "<count> <bytes> <timeout ms> <stop early> <paced>": publishes `count` numbered messages of
// `bytes` to "feed" (when `paced`, each within ack_window of what the subscriber that keeps up
// acknowledged), and
// answers "done <first publish that waited past half the timeout, or -1> <its milliseconds>".
// With `stop early`, it stops at that publish.
task<> publisher(websocket& ws) {
    co_await ws.accept();
    for (;;) {
        std::istringstream cmd(co_await ws.receive_text());
        int count = 0, stop_early = 0, paced = 0;
        std::size_t bytes = 0;
        long timeout_ms = 0;
        cmd >> count >> bytes >> timeout_ms >> stop_early >> paced;
        std::string payload(bytes, 'x');
        long waited_at = -1, waited_ms = 0;
        feed_acked = -1;
        aster::net::steady_timer pace(co_await aster::net::this_coro::executor);
        for (int i = 0; i < count; ++i) {
            for (int spins = 0; paced && i - feed_acked > ack_window && spins < 20000; ++spins) {
                pace.expires_after(std::chrono::milliseconds(1));
                co_await pace.async_wait(aster::net::use_awaitable);
            }
            const std::string label = std::to_string(i) + ":";
            payload.replace(0, label.size(), label);
            const auto started = clock_type::now();
            co_await ws.publish("feed", payload,
                                {.wait_timeout = std::chrono::milliseconds(timeout_ms)});
            const long took = long(
                std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started)
                    .count());
            if (waited_at < 0 && took * 2 >= timeout_ms) {
                waited_at = i;
                waited_ms = took;
                if (stop_early) break;
            }
        }
        co_await ws.send_text("done " + std::to_string(waited_at) + " " +
                              std::to_string(waited_ms));
    }
}

aster::response hello(aster::request&) { return aster::plain_text("hello"); }

constexpr aster::application app{aster::routes(aster::websocket_route<"/sub/{policy}">(subscriber),
                                               aster::websocket_route<"/pub">(publisher),
                                               aster::route<"/hello">(hello))};

// The number before the colon of a topic message.
long number(const std::string& m) { return std::stol(m.substr(0, m.find(':'))); }

// A subscriber that never reads: a small receive buffer, so the server's queue fills soon.
task<> open_stalled(tcp::socket& s, tcp::endpoint ep, const char* policy, std::string& in) {
    s.open(tcp::v4());
    s.set_option(net::socket_base::receive_buffer_size(4096));
    const std::string path = std::string("/sub/") + policy;
    in = co_await ws_open(s, ep, path);
    const std::string first = co_await read_frame(s, in);
    if (first != "subscribed") throw std::runtime_error("not subscribed: " + first);
}

// Reads topic messages until `count` arrived, checking that they come in order; with `ack`,
// tells the server how far it got every 8 messages.
task<> read_feed(tcp::socket& s, std::string& in, long count, long& received, bool& in_order,
                 bool ack = true) {
    while (received < count) {
        std::string m = co_await read_frame(s, in);
        if (m == "subscribed") continue;
        if (number(m) != received) in_order = false;
        ++received;
        if (ack && received % 8 == 0) {
            const std::string frame = client_frame(1, "ack " + std::to_string(received - 1));
            co_await net::async_write(s, net::buffer(frame), net::use_awaitable);
        }
    }
}

aster::server_config one_loop() {
    aster::server_config config;
    config.threads = 1; // the default max_topic_queue_bytes, 1 MiB
    config.websocket.close_timeout = std::chrono::milliseconds(300);
    return config;
}

constexpr long messages = 800; // 12.5 MiB of 16 KiB: past any socket buffers and the limit

TEST_CASE("topics: a subscriber that never reads is closed with 1013, the others keep up",
          "[topics][load]") {
    test_support::running_server server(app, one_loop());
    net::io_context ctx;
    tcp::socket stalled(ctx), keeping_up(ctx), pub(ctx);
    std::string keep_in, pub_in, stalled_in, done;
    long received = 0;
    bool in_order = true;
    net::co_spawn(
        ctx,
        [&]() -> task<> {
            co_await open_stalled(stalled, server.endpoint(), "close", stalled_in);
            keep_in = co_await ws_open(keeping_up, server.endpoint(), "/sub/close");
            pub_in = co_await ws_open(pub, server.endpoint(), "/pub");
            co_await net::async_write(pub, net::buffer(client_frame(1, "800 16384 1000 0 1")),
                                      net::use_awaitable);
            co_await read_feed(keeping_up, keep_in, messages, received, in_order);
            done = co_await read_frame(pub, pub_in);
        },
        net::detached);
    ctx.run_for(std::chrono::seconds(30));
    CHECK(received == messages);
    CHECK(in_order);
    CHECK(done.starts_with("done -1")); // under close, a publisher never waits
    // The stalled one was closed (its handler's receive ended) and left the topic.
    auto s = server.wait_for([](const aster::server_stats& st) { return st.subscriptions == 1; });
    CHECK(s.subscriptions == 1);
    CHECK(s.dropped >= 1);
    CHECK(s.delivered >= std::size_t(messages));
    CHECK(s.published == std::size_t(messages));
}

TEST_CASE("topics: under drop, a subscriber that never reads misses messages and stays",
          "[topics][load]") {
    test_support::running_server server(app, one_loop());
    net::io_context ctx;
    tcp::socket stalled(ctx), keeping_up(ctx), pub(ctx);
    std::string keep_in, pub_in, stalled_in, done;
    long received = 0;
    bool in_order = true;
    net::co_spawn(
        ctx,
        [&]() -> task<> {
            co_await open_stalled(stalled, server.endpoint(), "drop", stalled_in);
            keep_in = co_await ws_open(keeping_up, server.endpoint(), "/sub/drop");
            pub_in = co_await ws_open(pub, server.endpoint(), "/pub");
            co_await net::async_write(pub, net::buffer(client_frame(1, "800 16384 1000 0 1")),
                                      net::use_awaitable);
            co_await read_feed(keeping_up, keep_in, messages, received, in_order);
            done = co_await read_frame(pub, pub_in);
        },
        net::detached);
    ctx.run_for(std::chrono::seconds(30));
    CHECK(received == messages);
    CHECK(in_order);
    auto s = server.srv.stats();
    CHECK(s.dropped >= 1);
    CHECK(s.subscriptions == 2);
    CHECK(s.delivered + s.dropped == 2 * std::size_t(messages));
    // The stalled one is still connected: it reads what it was queued, in order and without
    // a gap (once full it got nothing more), then its answer to a ping.
    long last = -1, gaps = 0;
    bool alive = false;
    ctx.restart();
    net::co_spawn(
        ctx,
        [&]() -> task<> {
            co_await net::async_write(stalled, net::buffer(client_frame(1, "ping")),
                                      net::use_awaitable);
            for (;;) {
                std::string m = co_await read_frame(stalled, stalled_in);
                if (m == "alive") break;
                const long n = number(m);
                if (n <= last) throw std::runtime_error("out of order");
                if (n != last + 1) ++gaps;
                last = n;
            }
            alive = true;
        },
        net::detached);
    ctx.run_for(std::chrono::seconds(30));
    CHECK(alive);
    CHECK(gaps == 0);
    CHECK(last + 1 < messages);                             // the rest was dropped
    CHECK(std::size_t(last + 1) == s.delivered - messages); // and counted so
}

TEST_CASE("topics: under wait, the publisher waits for room up to its timeout", "[topics][load]") {
    test_support::running_server server(app, one_loop());
    net::io_context ctx;
    tcp::socket stalled(ctx), keeping_up(ctx), pub(ctx);
    std::string keep_in, pub_in, stalled_in, done;
    long received = 0;
    bool in_order = true;
    net::co_spawn(
        ctx,
        [&]() -> task<> {
            co_await open_stalled(stalled, server.endpoint(), "wait", stalled_in);
            keep_in = co_await ws_open(keeping_up, server.endpoint(), "/sub/close");
            // The subscriber that keeps up reads on, meanwhile.
            net::co_spawn(ctx, read_feed(keeping_up, keep_in, messages, received, in_order),
                          net::detached);
            pub_in = co_await ws_open(pub, server.endpoint(), "/pub");
            co_await net::async_write(pub, net::buffer(client_frame(1, "800 16384 300 1 1")),
                                      net::use_awaitable);
            done = co_await read_frame(pub, pub_in);
        },
        net::detached);
    const auto deadline = clock_type::now() + std::chrono::seconds(30);
    while (done.empty() && clock_type::now() < deadline) ctx.run_one_for(std::chrono::seconds(1));
    REQUIRE(done.starts_with("done "));
    std::istringstream words(done.substr(5));
    long waited_at = -1, waited_ms = 0;
    words >> waited_at >> waited_ms;
    CHECK(waited_at > 0);
    CHECK(waited_ms >= 290); // its timeout, then the message was dropped for that subscriber
    auto s = server.srv.stats();
    CHECK(s.dropped == 1);
    CHECK(s.subscriptions == 2);
    CHECK(s.waiting == 0);
}

TEST_CASE("topics: under wait, a publisher resumes once the subscriber reads; the loop goes on",
          "[topics][load]") {
    test_support::running_server server(app, one_loop());
    net::io_context ctx;
    tcp::socket stalled(ctx), pub(ctx), http(ctx);
    std::string stalled_in, pub_in, done;
    net::co_spawn(
        ctx,
        [&]() -> task<> {
            co_await open_stalled(stalled, server.endpoint(), "wait", stalled_in);
            pub_in = co_await ws_open(pub, server.endpoint(), "/pub");
            co_await net::async_write(pub, net::buffer(client_frame(1, "800 16384 20000 0 0")),
                                      net::use_awaitable);
        },
        net::detached);
    ctx.run_for(std::chrono::seconds(5));
    // The publisher is waiting for the stalled subscriber's room...
    auto s = server.wait_for([](const aster::server_stats& st) { return st.waiting == 1; });
    REQUIRE(s.waiting == 1);
    // ...and the loop serves others meanwhile.
    std::string answer;
    ctx.restart();
    net::co_spawn(
        ctx,
        [&]() -> task<> {
            co_await http.async_connect(server.endpoint(), net::use_awaitable);
            std::string_view get = "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
            co_await net::async_write(http, net::buffer(get), net::use_awaitable);
            auto [ec, n] = co_await net::async_read(http, net::dynamic_buffer(answer),
                                                    aster::detail::use_tuple);
            (void)ec;
            (void)n;
        },
        net::detached);
    ctx.run_for(std::chrono::seconds(10));
    CHECK(answer.ends_with("hello"));
    // The subscriber reads: every message arrives, none dropped, and the publisher finishes.
    long received = 0;
    bool in_order = true;
    ctx.restart();
    net::co_spawn(
        ctx,
        [&]() -> task<> {
            co_await read_feed(stalled, stalled_in, messages, received, in_order, false);
            done = co_await read_frame(pub, pub_in);
        },
        net::detached);
    ctx.run_for(std::chrono::seconds(30));
    CHECK(received == messages);
    CHECK(in_order);
    CHECK(done.starts_with("done "));
    CHECK(server.srv.stats().dropped == 0);
}

TEST_CASE("topics: across two event loops every subscriber gets every message in order",
          "[topics][mt]") {
    aster::server_config config;
    config.threads = 2;
    test_support::running_server server(app, config);
    constexpr int subscribers = 8;
    constexpr long count = 300;
    net::io_context ctx;
    std::vector<tcp::socket> subs;
    for (int i = 0; i < subscribers; ++i) subs.emplace_back(ctx);
    std::vector<std::string> ins(subscribers);
    std::vector<long> received(subscribers, 0);
    bool in_order = true;
    tcp::socket pub(ctx);
    std::string pub_in;
    int opened = 0;
    for (int i = 0; i < subscribers; ++i)
        net::co_spawn(
            ctx,
            [&, i]() -> task<> {
                ins[i] = co_await ws_open(subs[i], server.endpoint(), "/sub/close");
                ++opened;
                co_await read_feed(subs[i], ins[i], count, received[i], in_order, false);
                // Then one publish from outside the loops.
                std::string m = co_await read_frame(subs[i], ins[i]);
                if (m != "from outside") in_order = false;
            },
            net::detached);
    net::co_spawn(
        ctx,
        [&]() -> task<> {
            pub_in = co_await ws_open(pub, server.endpoint(), "/pub");
            while (opened < subscribers || server.srv.stats().subscriptions < subscribers)
                co_await net::post(ctx, net::use_awaitable);
            co_await net::async_write(pub, net::buffer(client_frame(1, "300 64 1000 0 0")),
                                      net::use_awaitable);
            (void)co_await read_frame(pub, pub_in); // "done"
            server.srv.publish("feed", "from outside");
        },
        net::detached);
    ctx.run_for(std::chrono::seconds(30));
    for (int i = 0; i < subscribers; ++i) CHECK(received[i] == count);
    CHECK(in_order);
    auto s = server.srv.stats();
    CHECK(s.published == std::size_t(count) + 1);
    CHECK(s.delivered == (std::size_t(count) + 1) * subscribers);
}

} // namespace topics_server_test
