// SPDX-License-Identifier: MIT
// The echo example's tests, in-process.
#include "app.hpp"

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("echo: GET /hello and POST /echo", "[example][echo]") {
    aster::test_client client{echo::app};
    CHECK(client.get("/hello").text() == "Hello, World!");
    auto r = client.post("/echo", {.body = "some bytes", .content_type = "text/plain"});
    CHECK(r.text() == "some bytes");
    CHECK(r.header("content-type") == "text/plain");
}

TEST_CASE("echo: /ws echoes both kinds unchanged, up to 16 MiB", "[example][echo]") {
    aster::test_client client{echo::app};
    auto ws = client.websocket_connect("/ws");
    ws.send_text("h\xC3\xA9llo");
    CHECK(ws.receive_text() == "h\xC3\xA9llo");
    std::string binary;
    for (int i = 0; i < 256; ++i) binary.push_back(char(i));
    ws.send_bytes(binary);
    CHECK(ws.receive_bytes() == binary);
    std::string big(16 * 1024 * 1024, 'q');
    ws.send_bytes(big);
    CHECK(ws.receive_bytes() == big);
}
