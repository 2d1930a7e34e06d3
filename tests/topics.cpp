// SPDX-License-Identifier: MIT
// Topics in one test_client: subscribe, publish from a websocket, from HTTP and from outside,
// skipping the sender, leaving after on_disconnect, and one registry per client.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#ifdef ASTER_HAS_JSON
#include <nlohmann/json.hpp>
#endif

#include <string>
#include <vector>

namespace topics_test {

using aster::task;
using aster::websocket;
using Catch::Matchers::Contains;

// A chat room: every message goes to the room; a few words are commands.
task<> room(websocket& ws, std::string_view name) {
    co_await ws.accept();
    const std::string topic = "room:" + std::string(name);
    ws.subscribe(topic);
    for (;;) {
        const std::string m = co_await ws.receive_text();
        if (m == "subs") {
            std::string list;
            for (const auto& s : ws.subscriptions()) list += s + ";";
            co_await ws.send_text("subs " + list);
        } else if (m == "leave") {
            ws.unsubscribe(topic);
            co_await ws.send_text("left");
        } else if (m.starts_with("join ")) {
            ws.subscribe(m.substr(5));
            ws.subscribe(m.substr(5)); // twice changes nothing
            co_await ws.send_text("joined");
        } else if (m.starts_with("all ")) {
            co_await ws.publish(topic, m.substr(4), {.to_sender = true});
        } else if (m.starts_with("echo ")) {
            co_await ws.send_text(m.substr(5)); // to this connection only: compressed if agreed
#ifdef ASTER_HAS_JSON
        } else if (m == "json") {
            nlohmann::json value; // (g++ 12: no braced list inside co_await)
            value["n"] = 1;
            value["room"] = topic;
            co_await ws.publish_json(topic, value);
#endif
        } else if (m.starts_with("bin ")) {
            co_await ws.publish(topic, m.substr(4), {.binary = true});
        } else if (m.starts_with("bad ")) {
            std::string answer = "accepted";
            try {
                ws.subscribe(m.substr(4));
            } catch (const std::invalid_argument& e) {
                answer = std::string("refused: ") + e.what();
            }
            co_await ws.send_text(answer);
        } else {
            co_await ws.publish(topic, m);
        }
    }
}

std::vector<std::string> seen_at_disconnect;

// Hooks: subscribed from on_connect; on_disconnect still sees the topics, and what it
// publishes with to_sender does not reach its own closing connection.
struct lobby : aster::websocket_endpoint {
    static constexpr auto encoding = aster::encoding::text;
    task<> on_connect(websocket& ws) {
        co_await ws.accept();
        ws.subscribe("lobby");
        ws.subscribe("news");
    }
    task<> on_receive(websocket& ws, std::string_view m) {
        if (m == "close") co_await ws.close(1000);
        else co_await ws.publish("lobby", m);
    }
    task<> on_disconnect(websocket& ws, aster::close_code) {
        for (const auto& s : ws.subscriptions()) seen_at_disconnect.push_back(s);
        co_await ws.publish("news", "gone", {.to_sender = true});
    }
};

task<aster::response> announce(aster::request& req, std::string_view name) {
    std::string body(co_await req.body());
    co_await req.publish("room:" + std::string(name), body);
    co_return aster::plain_text("sent");
}

// A plain function: the fire-and-forget form.
aster::response notify(aster::request& req, std::string_view name) {
    req.topics().publish("room:" + std::string(name), "notice");
    return aster::plain_text("queued");
}

constexpr aster::application app{aster::routes(
    aster::websocket_route<"/room/{name}">(room), aster::websocket_route<"/lobby", lobby>(),
    aster::route<"/announce/{name}", aster::method::post>(announce),
    aster::route<"/notify/{name}">(notify))};

// The cases live in the namespace too: the unity build shares one scope between test files.

TEST_CASE("topics: a publish reaches every subscriber but the sender", "[topics]") {
    aster::test_client client{app};
    auto a = client.websocket_connect("/room/x");
    auto b = client.websocket_connect("/room/x");
    auto c = client.websocket_connect("/room/x");
    auto other = client.websocket_connect("/room/y");
    a.send_text("hello");
    CHECK(b.receive_text() == "hello");
    CHECK(c.receive_text() == "hello");
    // a got nothing: its next message is the answer to its own command.
    a.send_text("subs");
    CHECK(a.receive_text() == "subs room:x;");
    other.send_text("subs");
    CHECK(other.receive_text() == "subs room:y;");

    a.send_text("all to everyone");
    for (auto* s : {&a, &b, &c}) CHECK(s->receive_text() == "to everyone");

    b.send_text("bin raw");
    auto m = a.receive();
    CHECK_FALSE(m.text);
    CHECK(m.data == "raw");
    CHECK(client.topics().stats().subscriptions == 4);
    CHECK(client.topics().stats().topics == 2);
}

TEST_CASE("topics: one publisher's messages arrive in publish order", "[topics]") {
    aster::test_client client{app};
    auto a = client.websocket_connect("/room/o");
    auto b = client.websocket_connect("/room/o");
    for (int i = 0; i < 200; ++i) a.send_text(std::to_string(i));
    for (int i = 0; i < 200; ++i) REQUIRE(b.receive_text() == std::to_string(i));
}

TEST_CASE("topics: from HTTP, from a plain function and from outside", "[topics]") {
    aster::test_client client{app};
    auto a = client.websocket_connect("/room/h");
    auto r = client.post("/announce/h", {.body = "from http"});
    CHECK(r.text() == "sent");
    CHECK(a.receive_text() == "from http");
    CHECK(client.get("/notify/h").text() == "queued");
    CHECK(a.receive_text() == "notice");
    client.publish("room:h", "from the test");
    CHECK(a.receive_text() == "from the test");
    auto handle = client.topics();
    handle.publish("room:h", "through a handle");
    CHECK(a.receive_text() == "through a handle");
    CHECK(client.topics().stats().published == 4);
    CHECK(client.topics().stats().delivered == 4);
}

TEST_CASE("topics: unsubscribe and subscribe while connected", "[topics]") {
    aster::test_client client{app};
    auto a = client.websocket_connect("/room/u");
    a.send_text("join extra");
    CHECK(a.receive_text() == "joined");
    a.send_text("subs");
    CHECK(a.receive_text() == "subs room:u;extra;");
    a.send_text("leave");
    CHECK(a.receive_text() == "left");
    client.publish("room:u", "not for a");
    client.publish("extra", "for a");
    CHECK(a.receive_text() == "for a");
    CHECK(client.topics().stats().subscriptions == 1);
}

TEST_CASE("topics: each test_client has topics of its own", "[topics]") {
    aster::test_client one{app}, two{app};
    auto a = one.websocket_connect("/room/shared");
    auto b = two.websocket_connect("/room/shared");
    two.publish("room:shared", "only two");
    CHECK(b.receive_text() == "only two");
    a.send_text("subs");
    CHECK(a.receive_text() == "subs room:shared;");
    CHECK(one.topics().stats().published == 0);
}

TEST_CASE("topics: a closing connection gets no topic message and leaves after on_disconnect",
          "[topics]") {
    seen_at_disconnect.clear();
    aster::test_client client{app};
    auto closing = client.websocket_connect("/lobby");
    auto staying = client.websocket_connect("/lobby");
    CHECK(client.topics().stats().subscriptions == 4);
    closing.send_text("close");
    // Its on_disconnect published to "news", to_sender included: the closing connection's
    // next frame is the close, the other one gets the message.
    CHECK_THROWS_AS(closing.receive(), aster::websocket_disconnect);
    CHECK(closing.close_code() == 1000);
    CHECK(staying.receive_text() == "gone");
    CHECK(seen_at_disconnect == std::vector<std::string>{"lobby", "news"});
    auto s = client.topics().stats();
    CHECK(s.subscriptions == 2);
    CHECK(s.topics == 2);
    staying.close();
    CHECK(client.topics().stats().subscriptions == 0);
    CHECK(client.topics().stats().topics == 0);
}

TEST_CASE("topics: a topic name is 1 to 256 bytes without control characters", "[topics]") {
    aster::test_client client{app};
    CHECK_THROWS_WITH(client.publish("", "x"), Contains("may not be empty"));
    CHECK_THROWS_WITH(client.publish(std::string(257, 't'), "x"), Contains("at most 256"));
    CHECK_THROWS_WITH(client.publish("a\nb", "x"), Contains("control characters"));
    CHECK_NOTHROW(client.publish(std::string(256, 't'), "x"));
    auto a = client.websocket_connect("/room/n");
    a.send_text("bad ");
    CHECK_THAT(a.receive_text(), Contains("refused") && Contains("may not be empty"));
    a.send_text("bad x\x7fy");
    CHECK_THAT(a.receive_text(), Contains("control characters"));
    a.send_text("bad ok");
    CHECK(a.receive_text() == "accepted");
}

TEST_CASE("topics: a request outside a server has no topics", "[topics]") {
    aster::request req;
    CHECK_THROWS_WITH(req.topics(), Contains("served by a server or test_client"));
    aster::topics none;
    CHECK_FALSE(none);
    CHECK_THROWS_AS(none.publish("t", "x"), std::logic_error);
}

#ifdef ASTER_HAS_ZLIB
TEST_CASE("topics: a deflate subscriber gets topic messages uncompressed, its own compressed",
          "[topics]") {
    aster::test_client client{app};
    auto a = client.websocket_connect("/room/z", {.extensions = "permessage-deflate"});
    auto b = client.websocket_connect("/room/z", {.extensions = "permessage-deflate"});
    REQUIRE(a.deflate_agreed());
    const std::string text(500, 'z');
    b.send_text(text); // published to the room: one shared frame, RSV1 clear
    auto shared = a.receive();
    CHECK(shared.data == text);
    CHECK_FALSE(shared.compressed);
    a.send_text("echo " + text); // sent to a alone: compressed
    auto own = a.receive();
    CHECK(own.data == text);
    CHECK(own.compressed);
}
#endif

#ifdef ASTER_HAS_JSON
TEST_CASE("topics: publish_json", "[topics]") {
    aster::test_client client{app};
    auto a = client.websocket_connect("/room/j");
    auto b = client.websocket_connect("/room/j");
    a.send_text("json");
    CHECK(b.receive_json() == nlohmann::json{{"n", 1}, {"room", "room:j"}});
}
#endif

} // namespace topics_test
