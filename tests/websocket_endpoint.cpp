// SPDX-License-Identifier: MIT
// websocket_endpoint: hooks found at compile time, encodings, on_disconnect exactly once.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace websocket_endpoint_test {

using aster::task;
using aster::websocket;

std::vector<std::string> events;

struct text_echo : aster::websocket_endpoint {
    static constexpr auto encoding = aster::encoding::text;
    task<> on_connect(websocket& ws) {
        events.push_back("connect " + std::string(ws.request().path_param("who")));
        co_await ws.accept();
    }
    task<> on_receive(websocket& ws, std::string_view message) {
        if (message == "boom") throw std::runtime_error("on_receive exploded");
        if (message == "close") {
            co_await ws.close(4321, "asked to");
            co_return;
        }
        co_await ws.send_text(std::string("echo: ") + std::string(message));
    }
    task<> on_disconnect(websocket&, aster::close_code code) {
        events.push_back("disconnect " + std::to_string(int(code)));
        co_return;
    }
};

struct bytes_only : aster::websocket_endpoint {
    static constexpr auto encoding = aster::encoding::bytes;
    task<> on_receive(websocket& ws, std::string_view message) { co_await ws.send_bytes(message); }
    void on_disconnect(websocket&, aster::close_code code) {
        events.push_back("bytes disconnect " + std::to_string(int(code)));
    }
};

struct either : aster::websocket_endpoint { // no encoding: any, no on_connect: accepted
    task<> on_receive(websocket& ws, const aster::websocket_message& m) {
        co_await ws.send_text(std::string(m.text ? "text:" : "binary:") + std::string(m.data));
    }
};

struct gatekeeper : aster::websocket_endpoint {
    task<> on_connect(websocket& ws) {
        if (ws.request().query_params().get("token") == "secret") co_await ws.accept();
        else co_await ws.close(1008);
    }
    task<> on_receive(websocket&, std::string_view) { co_return; }
    task<> on_disconnect(websocket&, aster::close_code) {
        events.push_back("gatekeeper disconnect");
        co_return;
    }
};

constexpr aster::application app{aster::routes(aster::websocket_route<"/text/{who}", text_echo>(),
                                               aster::websocket_route<"/bytes", bytes_only>(),
                                               aster::websocket_route<"/either", either>(),
                                               aster::websocket_route<"/gate", gatekeeper>())};

aster::test_client_options lenient{.raise_server_exceptions = false};

TEST_CASE("websocket_endpoint: hooks run in order, on_disconnect sees the client's code",
          "[websocket_endpoint]") {
    events.clear();
    aster::test_client client{app};
    {
        auto ws = client.websocket_connect("/text/ada");
        ws.send_text("hi");
        CHECK(ws.receive_text() == "echo: hi");
        ws.close(4000);
    }
    CHECK(events == std::vector<std::string>{"connect ada", "disconnect 4000"});
    events.clear();
    { auto ws = client.websocket_connect("/text/bob"); } // leaving scope closes with 1000
    CHECK(events == std::vector<std::string>{"connect bob", "disconnect 1000"});
}

TEST_CASE("websocket_endpoint: a close frame without a code reports 1005", "[websocket_endpoint]") {
    events.clear();
    aster::test_client client{app};
    auto ws = client.websocket_connect("/text/x");
    ws.send_frame(aster::detail::opcode::close, "", true);
    CHECK_THROWS_AS(ws.receive(), aster::websocket_disconnect);
    CHECK(events.back() == "disconnect 1005");
}

TEST_CASE("websocket_endpoint: a dropped connection reports 1006", "[websocket_endpoint]") {
    events.clear();
    aster::test_client client{app};
    auto ws = client.websocket_connect("/text/x");
    ws.send_text("hi");
    CHECK(ws.receive_text() == "echo: hi");
    ws.drop();
    CHECK(events == std::vector<std::string>{"connect x", "disconnect 1006"});
    // Half a frame and then nothing is a drop too.
    events.clear();
    auto half = client.websocket_connect("/text/y");
    half.send_raw(std::string("\x81\x85", 2));
    half.drop();
    CHECK(events == std::vector<std::string>{"connect y", "disconnect 1006"});
}

TEST_CASE("websocket_endpoint: a message of the wrong kind closes with 1003, reported as 1003",
          "[websocket_endpoint]") {
    events.clear();
    aster::test_client client{app};
    {
        auto ws = client.websocket_connect("/text/x");
        ws.send_bytes("binary!");
        try {
            (void)ws.receive();
            FAIL("expected a close");
        } catch (const aster::websocket_disconnect& d) {
            CHECK(d.code() == 1003);
        }
    }
    CHECK(events.back() == "disconnect 1003");
    {
        auto ws = client.websocket_connect("/bytes");
        ws.send_bytes("raw");
        CHECK(ws.receive_bytes() == "raw");
        ws.send_text("text!");
        CHECK_THROWS_AS(ws.receive(), aster::websocket_disconnect);
    }
    CHECK(events.back() == "bytes disconnect 1003");
}

TEST_CASE("websocket_endpoint: an exception in a hook closes with 1011, reported as 1011",
          "[websocket_endpoint]") {
    events.clear();
    {
        aster::test_client client{app, lenient};
        auto ws = client.websocket_connect("/text/x");
        ws.send_text("boom");
        try {
            (void)ws.receive();
            FAIL("expected a close");
        } catch (const aster::websocket_disconnect& d) {
            CHECK(d.code() == 1011);
        }
    }
    CHECK(events.back() == "disconnect 1011");
    // By default the handler's own exception reaches the test.
    aster::test_client strict{app};
    auto ws = strict.websocket_connect("/text/x");
    ws.send_text("boom");
    CHECK_THROWS_WITH(ws.receive(), "on_receive exploded");
}

TEST_CASE("websocket_endpoint: a server-side close is reported with the code it sent",
          "[websocket_endpoint]") {
    events.clear();
    aster::test_client client{app};
    auto ws = client.websocket_connect("/text/x");
    ws.send_text("close");
    try {
        (void)ws.receive();
        FAIL("expected a close");
    } catch (const aster::websocket_disconnect& d) {
        CHECK(d.code() == 4321);
        CHECK(d.reason() == "asked to");
    }
    CHECK(events.back() == "disconnect 4321");
}

TEST_CASE("websocket_endpoint: encoding any, default accept", "[websocket_endpoint]") {
    aster::test_client client{app};
    auto ws = client.websocket_connect("/either");
    ws.send_text("a");
    CHECK(ws.receive_text() == "text:a");
    ws.send_bytes("b");
    CHECK(ws.receive_text() == "binary:b");
}

TEST_CASE("websocket_endpoint: refusing in on_connect skips on_disconnect",
          "[websocket_endpoint]") {
    events.clear();
    aster::test_client client{app};
    CHECK_THROWS_AS(client.websocket_connect("/gate?token=wrong"), aster::websocket_denial);
    CHECK(events.empty());
    { auto ws = client.websocket_connect("/gate?token=secret"); }
    CHECK(events == std::vector<std::string>{"gatekeeper disconnect"});
}

TEST_CASE("websocket_endpoint: several sessions share one client, deterministically",
          "[websocket_endpoint]") {
    aster::test_client client{app};
    auto a = client.websocket_connect("/text/a");
    auto b = client.websocket_connect("/text/b");
    auto c = client.websocket_connect("/either");
    a.send_text("1");
    b.send_text("2");
    c.send_text("3");
    CHECK(c.receive_text() == "text:3");
    CHECK(b.receive_text() == "echo: 2");
    CHECK(a.receive_text() == "echo: 1");
}

} // namespace websocket_endpoint_test
