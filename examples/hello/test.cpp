// SPDX-License-Identifier: MIT
// The founding example's test: the app is driven in-process by aster::test_client.
#include "app.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

TEST_CASE("hello: GET /hello answers Hello, World!", "[example][hello]") {
    aster::test_client client{hello::app};
    auto r = client.get("/hello");
    CHECK(r.status_code == 200);
    CHECK(r.text() == "Hello, World!");
    CHECK(r.header("content-type") == "text/plain; charset=utf-8");
    CHECK(r.header("content-length") == "13");
}

TEST_CASE("hello: POST /hello answers 405 with Allow: GET", "[example][hello]") {
    aster::test_client client{hello::app};
    auto r = client.post("/hello");
    CHECK(r.status_code == 405);
    CHECK(r.header("allow") == "GET");
    CHECK(r.text() == "Method Not Allowed");
}

TEST_CASE("hello: HEAD /hello has the headers of GET and no body", "[example][hello]") {
    aster::test_client client{hello::app};
    auto r = client.head("/hello");
    CHECK(r.status_code == 200);
    CHECK(r.header("content-length") == "13");
    CHECK(r.text().empty());
}

TEST_CASE("hello: an unknown path answers 404", "[example][hello]") {
    aster::test_client client{hello::app};
    auto r = client.get("/nope");
    CHECK(r.status_code == 404);
    CHECK(r.text() == "Not Found");
}

TEST_CASE("hello: the WebSocket answers OK! and on_disconnect sees 1000", "[example][hello]") {
    std::vector<std::string> lines;
    auto saved = aster::logger().sink;
    aster::logger().sink = [&](aster::log_level, std::string_view line) {
        lines.emplace_back(line);
    };
    {
        aster::test_client client{hello::app};
        auto ws = client.websocket_connect("/ws");
        ws.send_text("Hello!");
        CHECK(ws.receive_text() == "OK!");
    } // leaving scope closes with 1000
    aster::logger().sink = saved;
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "Connected");
    CHECK(lines[1] == "Disconnected: close_code=1000");
}
