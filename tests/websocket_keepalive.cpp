// SPDX-License-Identifier: MIT
// WebSocket keep-alive pings, the close-handshake timeout and JSON messages.
#include <aster/aster.hpp>

#include <asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#if __has_include(<nlohmann/json.hpp>)
#include <nlohmann/json.hpp>
#endif

#include <string>
#include <vector>

namespace websocket_keepalive_test {

using aster::task;
using aster::websocket;

std::vector<int> codes;

struct idle : aster::websocket_endpoint {
    task<> on_receive(websocket& ws, std::string_view m) { co_await ws.send_text(m); }
    void on_disconnect(websocket&, aster::close_code code) { codes.push_back(int(code)); }
};

task<> close_at_once(websocket& ws) {
    co_await ws.accept();
    co_await ws.close(1000);
}

// Busy (not reading) while the pings go unanswered, then receives.
std::vector<int> busy_codes;
task<> busy_then_receive(websocket& ws) {
    co_await ws.accept();
    aster::net::steady_timer sleep(co_await aster::net::this_coro::executor);
    sleep.expires_after(std::chrono::milliseconds(100));
    co_await sleep.async_wait(aster::net::use_awaitable);
    try {
        (void)co_await ws.receive();
    } catch (const aster::websocket_disconnect& d) {
        busy_codes.push_back(d.code());
    }
}

constexpr aster::application app{aster::routes(aster::websocket_route<"/idle", idle>(),
                                               aster::websocket_route<"/close">(close_at_once),
                                               aster::websocket_route<"/busy">(busy_then_receive))};

TEST_CASE("websocket keep-alive: a peer that answers pings stays connected",
          "[websocket][keepalive]") {
    codes.clear();
    aster::test_client client{app,
                              {.websocket = {.ping_interval = std::chrono::milliseconds(5),
                                             .ping_timeout = std::chrono::milliseconds(200)}}};
    auto ws = client.websocket_connect("/idle");
    ws.set_timeout(std::chrono::milliseconds(60));
    // Nothing arrives but pings, which the receive answers; it times out, the connection lives.
    CHECK_THROWS_AS(ws.receive(), aster::test_timeout);
    CHECK(codes.empty());
    ws.set_timeout(std::chrono::seconds(5));
    ws.send_text("still here");
    CHECK(ws.receive_text() == "still here");
}

TEST_CASE("websocket keep-alive: a silent peer is closed with 1011", "[websocket][keepalive]") {
    codes.clear();
    aster::test_client client{app,
                              {.websocket = {.ping_interval = std::chrono::milliseconds(5),
                                             .ping_timeout = std::chrono::milliseconds(20)}}};
    auto ws = client.websocket_connect("/idle");
    // Let the server run without the client reading: its pings go unanswered.
    client.context().restart();
    client.context().run_for(std::chrono::milliseconds(200));
    CHECK(codes == std::vector<int>{1011});
    try {
        for (int i = 0; i < 100; ++i) (void)ws.receive();
        FAIL("expected the server's close");
    } catch (const aster::websocket_disconnect& d) {
        CHECK(d.code() == 1011);
        CHECK(d.reason() == "keepalive ping timeout");
    }
}

TEST_CASE("websocket keep-alive: a ping timeout while the handler is busy ends its next receive",
          "[websocket][keepalive]") {
    busy_codes.clear();
    aster::test_client client{app,
                              {.websocket = {.ping_interval = std::chrono::milliseconds(5),
                                             .ping_timeout = std::chrono::milliseconds(20)}}};
    auto ws = client.websocket_connect("/busy");
    // The peer never reads nor answers; the pinger gives up while the handler sleeps, so no
    // read is there to cancel: the receive after the sleep must not wait for the peer.
    client.context().restart();
    client.context().run_for(std::chrono::milliseconds(400));
    CHECK(busy_codes == std::vector<int>{1011});
}

TEST_CASE("websocket: the close handshake gives up on a peer that never answers",
          "[websocket][close]") {
    aster::test_client client{app, {.websocket = {.close_timeout = std::chrono::milliseconds(30)}}};
    auto ws = client.websocket_connect("/close");
    auto started = std::chrono::steady_clock::now();
    // The client reads nothing and sends no close: the server closes TCP after its timeout.
    client.context().restart();
    client.context().run_for(std::chrono::milliseconds(300));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    try {
        (void)ws.receive();
        FAIL("expected the close frame");
    } catch (const aster::websocket_disconnect& d) {
        CHECK(d.code() == 1000);
    }
}

#if __has_include(<nlohmann/json.hpp>)

std::vector<std::string> seen;

struct json_endpoint : aster::websocket_endpoint {
    static constexpr auto encoding = aster::encoding::json;
    task<> on_receive(websocket& ws, const nlohmann::json& value) {
        nlohmann::json reply{{"got", value}}; // g++ 12: no braced lists inside co_await
        co_await ws.send_json(reply);
    }
    void on_disconnect(websocket&, aster::close_code code) {
        seen.push_back(std::to_string(int(code)));
    }
};

task<> json_function(websocket& ws) {
    co_await ws.accept();
    auto value = co_await ws.receive_json();
    nlohmann::json reply{{"sum", value["a"].get<int>() + value["b"].get<int>()}};
    co_await ws.send_json(reply);
}

constexpr aster::application json_app{
    aster::routes(aster::websocket_route<"/json", json_endpoint>(),
                  aster::websocket_route<"/sum">(json_function))};

TEST_CASE("websocket json: encoding json decodes text and binary, malformed closes 1003",
          "[websocket][json]") {
    seen.clear();
    aster::test_client client{json_app};
    {
        auto ws = client.websocket_connect("/json");
        ws.send_json(nlohmann::json{{"a", 1}});
        CHECK(ws.receive_json() == nlohmann::json{{"got", {{"a", 1}}}});
        ws.send_bytes("[1,2]");
        CHECK(ws.receive_text() == R"({"got":[1,2]})");
        ws.send_text("{not json");
        try {
            (void)ws.receive();
            FAIL("expected 1003");
        } catch (const aster::websocket_disconnect& d) {
            CHECK(d.code() == 1003);
        }
    }
    CHECK(seen == std::vector<std::string>{"1003"});
    auto sum = client.websocket_connect("/sum");
    sum.send_json(nlohmann::json{{"a", 2}, {"b", 3}});
    CHECK(sum.receive_json()["sum"] == 5);
}

#else

TEST_CASE("websocket json: not built", "[websocket][json]") {
    WARN("nlohmann/json is not installed here: the JSON WebSocket tests were not built");
}

#endif

} // namespace websocket_keepalive_test

TEST_CASE("websocket keep-alive: pings are on by default, so a vanished peer is let go",
          "[websocket][keepalive]") {
    // A peer that disappears without a FIN (a laptop closed, a NAT that forgot the flow) is
    // found by the unanswered ping: 1011 after at most ping_interval + ping_timeout.
    const aster::websocket_options defaults{};
    CHECK(defaults.ping_interval == std::chrono::seconds(20));
    CHECK(defaults.ping_timeout == std::chrono::seconds(20));
    CHECK(defaults.min_receive_rate.bytes_per_second > 0);
    CHECK(defaults.min_send_rate.bytes_per_second > 0);
}
