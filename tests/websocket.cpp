// SPDX-License-Identifier: MIT
// WebSocket function routes through test_client: handshake, state machine, RFC 6455 strictness.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace websocket_test {

using aster::task;
using aster::websocket;
using aster::detail::opcode;

task<> echo(websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto m = co_await ws.receive();
        if (m.text) co_await ws.send_text(m.data);
        else co_await ws.send_bytes(m.data);
    }
}

task<> room(websocket& ws, std::string_view name, std::int64_t n) {
    aster::header_list extra{
        {"X-Room", std::string(name)}}; // (g++ 12 rejects a braced list inside co_await)
    co_await ws.accept("chat", std::move(extra));
    co_await ws.send_text(std::string(name) + "#" + std::to_string(n) + " " +
                          std::string(ws.request().query_params().get("who", "?")));
    (void)co_await ws.receive_text();
}

task<> refuse(websocket& ws) { co_await ws.close(1008, "policy"); }
task<> deny(websocket& ws) {
    co_await ws.deny(aster::plain_text("go away", aster::status::unauthorized));
}
task<> forget(websocket&) { co_return; }
task<> explode_early(websocket&) {
    throw std::runtime_error("on connect failed");
    co_return;
}
task<> misuse_send(websocket& ws) { co_await ws.send_text("too early"); }
task<> accept_twice(websocket& ws) {
    co_await ws.accept();
    co_await ws.accept();
}
task<> bad_subprotocol(websocket& ws) { co_await ws.accept("not-offered"); }
task<> server_closes(websocket& ws) {
    co_await ws.accept();
    (void)co_await ws.receive_text();
    co_await ws.close(4001, "bye");
    try {
        (void)co_await ws.receive_text();
    } catch (const aster::websocket_disconnect& d) {
        // receiving after our own close reports the code we sent
        if (d.code() != 4001) throw std::logic_error("wrong code after close");
        throw;
    }
}
task<> text_only(websocket& ws) {
    co_await ws.accept();
    co_await ws.send_text(co_await ws.receive_text());
}

aster::response plain(aster::request&) { return aster::plain_text("http only"); }

constexpr aster::application app{aster::routes(
    aster::websocket_route<"/echo">(echo), aster::websocket_route<"/room/{name}/{n:int}">(room),
    aster::websocket_route<"/refuse">(refuse), aster::websocket_route<"/deny">(deny),
    aster::websocket_route<"/forget">(forget), aster::websocket_route<"/explode">(explode_early),
    aster::websocket_route<"/misuse">(misuse_send), aster::websocket_route<"/twice">(accept_twice),
    aster::websocket_route<"/bad-subprotocol">(bad_subprotocol),
    aster::websocket_route<"/server-closes">(server_closes),
    aster::websocket_route<"/text-only">(text_only), aster::route<"/plain">(plain))};

std::string handshake(std::string_view path,
                      std::string_view extra = "Sec-WebSocket-Version: 13\r\n") {
    return "GET " + std::string(path) +
           " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
           std::string(extra) + "\r\n";
}

std::uint16_t close_code_after(aster::websocket_session& ws) {
    try {
        for (int i = 0; i < 10; ++i) (void)ws.receive();
    } catch (const aster::websocket_disconnect& d) {
        return d.code();
    }
    return 0;
}

aster::test_client_options quiet{.raise_server_exceptions = false,
                                 .websocket = {.max_message_bytes = 1024}};

TEST_CASE("websocket: echoes text as text and binary as binary", "[websocket]") {
    aster::test_client client{app};
    auto ws = client.websocket_connect("/echo");
    ws.send_text("hello");
    CHECK(ws.receive_text() == "hello");
    std::string binary("\x00\x01\xff\xfe", 4);
    ws.send_bytes(binary);
    auto m = ws.receive();
    CHECK_FALSE(m.text);
    CHECK(m.data == binary);
    ws.send_text("");
    CHECK(ws.receive_text().empty());
    std::string big(70000, 'x');
    ws.send_text(big);
    CHECK(ws.receive_text() == big);
}

TEST_CASE("websocket: path parameters, query, subprotocol and extra headers", "[websocket]") {
    aster::test_client client{app};
    auto ws = client.websocket_connect("/room/lobby/7?who=ada",
                                       {.subprotocols = {"superchat", "chat"}});
    CHECK(ws.subprotocol() == "chat");
    CHECK(ws.header("x-room") == "lobby");
    CHECK(ws.receive_text() == "lobby#7 ada");
}

TEST_CASE("websocket: refusing the handshake", "[websocket]") {
    aster::test_client client{app};
    try {
        client.websocket_connect("/refuse");
        FAIL("expected a denial");
    } catch (const aster::websocket_denial& d) {
        CHECK(d.response().status_code == 403); // close before accept
    }
    try {
        client.websocket_connect("/deny");
        FAIL("expected a denial");
    } catch (const aster::websocket_denial& d) {
        CHECK(d.response().status_code == 401);
        CHECK(d.response().text() == "go away");
    }
    // A handler that neither accepts nor closes does not leave the client hanging.
    CHECK_THROWS_AS(client.websocket_connect("/forget"), aster::websocket_denial);
}

TEST_CASE("websocket: an exception before accept answers 500 and reaches the test", "[websocket]") {
    aster::test_client client{app};
    CHECK_THROWS_WITH(client.websocket_connect("/explode"), "on connect failed");
    aster::test_client lenient{app, quiet};
    try {
        lenient.websocket_connect("/explode");
        FAIL("expected a denial");
    } catch (const aster::websocket_denial& d) {
        CHECK(d.response().status_code == 500);
    }
}

TEST_CASE("websocket: misuse names the state", "[websocket]") {
    aster::test_client client{app};
    CHECK_THROWS_WITH(client.websocket_connect("/misuse"), Catch::Contains("state: connecting"));
    CHECK_THROWS_WITH(
        [&] {
            auto ws = client.websocket_connect("/twice");
            (void)ws.receive();
        }(),
        Catch::Contains("already accepted") && Catch::Contains("state: connected"));
    CHECK_THROWS_WITH(client.websocket_connect("/bad-subprotocol", {.subprotocols = {"chat"}}),
                      Catch::Contains("did not offer subprotocol 'not-offered'"));
}

TEST_CASE("websocket: a server close reaches the client with its code and reason", "[websocket]") {
    aster::test_client client{app};
    auto ws = client.websocket_connect("/server-closes");
    ws.send_text("go");
    try {
        (void)ws.receive();
        FAIL("expected websocket_disconnect");
    } catch (const aster::websocket_disconnect& d) {
        CHECK(d.code() == 4001);
        CHECK(d.reason() == "bye");
    }
    CHECK(ws.closed());
    CHECK_THROWS_AS(ws.receive(), aster::websocket_disconnect);
}

TEST_CASE("websocket: handshake errors are HTTP answers", "[websocket]") {
    aster::test_client client{app};
    auto no_key = client.exchange("GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
                                  1);
    REQUIRE(no_key.size() == 1);
    CHECK(no_key[0].status_code == 400);
    auto short_key = client.exchange("GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                                     "Connection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\n"
                                     "Sec-WebSocket-Version: 13\r\n\r\n",
                                     1);
    REQUIRE(short_key.size() == 1);
    CHECK(short_key[0].status_code == 400);
    auto old = client.exchange(handshake("/echo", "Sec-WebSocket-Version: 8\r\n"), 1);
    REQUIRE(old.size() == 1);
    CHECK(old[0].status_code == 426);
    CHECK(old[0].header("sec-websocket-version") == "13");
    auto http_only = client.exchange(handshake("/plain"), 1);
    REQUIRE(http_only.size() == 1);
    CHECK(http_only[0].status_code == 404);
    auto nowhere = client.exchange(handshake("/nowhere"), 1);
    REQUIRE(nowhere.size() == 1);
    CHECK(nowhere[0].status_code == 404);
    CHECK(client.get("/echo").status_code == 404); // a WebSocket route is not an HTTP route
    CHECK(client.get("/plain").text() == "http only");
}

TEST_CASE("websocket: ping is answered with the same payload, also between fragments",
          "[websocket][rfc6455]") {
    aster::test_client client{app};
    auto ws = client.websocket_connect("/echo");
    ws.send_frame(opcode::text, "Hel", false);
    ws.send_frame(opcode::ping, "are you there", true);
    ws.send_frame(opcode::continuation, "lo", true);
    // The pong comes first (it was answered while the message was still incomplete).
    ws.send_frame(opcode::ping, "again", true);
    CHECK(ws.receive_text() == "Hello");
    ws.send_text("flush");
    CHECK(ws.receive_text() == "flush");
    CHECK(ws.pongs() == std::vector<std::string>{"are you there", "again"});
}

TEST_CASE("websocket: protocol violations close with 1002", "[websocket][rfc6455]") {
    aster::test_client client{app, quiet};
    auto check = [&](auto&& send) {
        auto ws = client.websocket_connect("/echo");
        send(ws);
        return close_code_after(ws);
    };
    // An unmasked client frame (§5.1).
    CHECK(check([](auto& ws) { ws.send_raw(std::string("\x81\x02hi", 4)); }) == 1002);
    // RSV1 without an extension (§5.2).
    CHECK(check([](auto& ws) { ws.send_raw(std::string("\xc1\x80\0\0\0\0", 6)); }) == 1002);
    // Unknown opcode 3.
    CHECK(check([](auto& ws) { ws.send_frame(opcode(3), "x", true); }) == 1002);
    // A fragmented ping, and a ping longer than 125 bytes (§5.5).
    CHECK(check([](auto& ws) { ws.send_frame(opcode::ping, "x", false); }) == 1002);
    CHECK(check([](auto& ws) { ws.send_frame(opcode::ping, std::string(126, 'p'), true); }) ==
          1002);
    // Continuation without a start, and a new message inside a fragmented one (§5.4).
    CHECK(check([](auto& ws) { ws.send_frame(opcode::continuation, "x", true); }) == 1002);
    CHECK(check([](auto& ws) {
              ws.send_frame(opcode::text, "a", false);
              ws.send_frame(opcode::text, "b", true);
          }) == 1002);
}

TEST_CASE("websocket: invalid UTF-8 closes with 1007, failing fast mid-message",
          "[websocket][rfc6455]") {
    aster::test_client client{app, quiet};
    {
        auto ws = client.websocket_connect("/echo");
        ws.send_text("\xc3\x28");
        CHECK(close_code_after(ws) == 1007);
    }
    {
        auto ws = client.websocket_connect("/echo");
        ws.send_frame(opcode::text, "ok \xed\xa0\x80", false); // a surrogate: never valid
        // No final fragment is sent: the server must fail on what it has.
        CHECK(close_code_after(ws) == 1007);
    }
    {
        // A code point split across fragments is fine.
        auto ws = client.websocket_connect("/echo");
        ws.send_frame(opcode::text, "caf\xc3", false);
        ws.send_frame(opcode::continuation, "\xa9", true);
        CHECK(ws.receive_text() == "caf\xc3\xa9");
    }
}

TEST_CASE("websocket: close codes and reasons are validated", "[websocket][rfc6455]") {
    aster::test_client client{app, quiet};
    for (std::uint16_t bad : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
        INFO(bad);
        auto ws = client.websocket_connect("/echo");
        std::string payload{char(bad >> 8), char(bad & 0xff)};
        ws.send_frame(opcode::close, payload, true);
        CHECK(close_code_after(ws) == 1002);
    }
    auto one_byte = client.websocket_connect("/echo");
    one_byte.send_frame(opcode::close, "\x03", true);
    CHECK(close_code_after(one_byte) == 1002);
    auto bad_reason = client.websocket_connect("/echo");
    bad_reason.send_frame(opcode::close, std::string("\x03\xe8\xff", 3), true);
    CHECK(close_code_after(bad_reason) == 1002);
    for (std::uint16_t good : {1000, 1001, 1003, 1007, 1011, 3000, 4999}) {
        INFO(good);
        auto ws = client.websocket_connect("/echo");
        std::string payload{char(good >> 8), char(good & 0xff)};
        ws.send_frame(opcode::close, payload, true);
        CHECK(close_code_after(ws) == good); // echoed back
    }
}

TEST_CASE("websocket: messages over the limit close with 1009", "[websocket][rfc6455]") {
    aster::test_client client{app, quiet};
    {
        auto ws = client.websocket_connect("/echo");
        ws.send_text(std::string(1024, 'a'));
        CHECK(ws.receive_text().size() == 1024);
        ws.send_text(std::string(1025, 'a'));
        CHECK(close_code_after(ws) == 1009);
    }
    {
        auto ws = client.websocket_connect("/echo");
        for (int i = 0; i < 3; ++i)
            ws.send_frame(i ? opcode::continuation : opcode::text, std::string(400, 'b'), false);
        CHECK(close_code_after(ws) == 1009);
    }
}

TEST_CASE("websocket: a frame split at every byte parses the same", "[websocket][rfc6455]") {
    aster::test_client client{app, {.read_size = 1}};
    auto ws = client.websocket_connect("/echo");
    ws.send_text("byte by byte");
    CHECK(ws.receive_text() == "byte by byte");
    ws.send_bytes(std::string(300, 'z'));
    CHECK(ws.receive_bytes() == std::string(300, 'z'));
}

TEST_CASE("websocket: receive_text on a binary message closes with 1003", "[websocket]") {
    aster::test_client client{app, quiet};
    auto ws = client.websocket_connect("/text-only");
    ws.send_bytes("not text");
    CHECK(close_code_after(ws) == 1003);
}

} // namespace websocket_test

namespace websocket_header_test {
aster::task<> bad_header(aster::websocket& ws) {
    aster::header_list headers{{"X-Id", std::string("a\0b", 3)}};
    co_await ws.accept({}, headers);
}
constexpr aster::application app{aster::routes(aster::websocket_route<"/ws">(bad_header))};
} // namespace websocket_header_test

TEST_CASE("websocket: accept refuses extra headers that would break the handshake response",
          "[websocket]") {
    aster::test_client client{websocket_header_test::app};
    CHECK_THROWS_WITH(client.websocket_connect("/ws"), Catch::Contains("control character"));
}
