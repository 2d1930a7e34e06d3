// SPDX-License-Identifier: MIT
// Regressions found by tests/conformance/websocket_cases.py, over loopback with raw frames.
#include <aster/aster.hpp>

#include <catch2/catch.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <future>
#include <string>

namespace websocket_conformance_test {

using aster::net::ip::tcp;

aster::task<> echo_raw(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto m = co_await ws.receive();
        co_await ws.send_text(m.data);
    }
}

constexpr aster::application raw_echo_app{aster::routes(aster::websocket_route<"/ws">(echo_raw))};

// A masked client frame (the key is zero, so the payload goes out as is).
std::string client_frame(std::uint8_t first, std::string_view payload) {
    std::string f{char(first), char(0x80 | payload.size()), 0, 0, 0, 0};
    return f.append(payload);
}

// Everything the server sends until it closes the connection; the server's own close_timeout
// bounds each read.
std::string read_to_eof(tcp::socket& socket) {
    std::string out;
    char buf[4096];
    std::error_code ec;
    while (!ec) out.append(buf, socket.read_some(aster::net::buffer(buf), ec));
    return out;
}

} // namespace websocket_conformance_test

TEST_CASE("websocket conformance: an invalid close frame is the peer's close: TCP closes at once",
          "[websocket][rfc6455][conformance]") {
    using namespace websocket_conformance_test;
    // A close frame with a code that may not be sent, a 1-byte body, or a reason that is not
    // UTF-8 is answered with 1002. The peer has sent its close and will send nothing more
    // (§5.5.1), so the server must close TCP now (§7.1.1), not wait out close_timeout for a
    // second close frame.
    aster::server srv{raw_echo_app,
                      {.port = 0,
                       .websocket = {.close_timeout = std::chrono::seconds(3)},
                       .handle_signals = false}};
    srv.listen();
    auto running = std::async(std::launch::async, [&] { srv.run(); });
    aster::net::io_context ctx;
    for (std::string body : {std::string("\x13\x88", 2),        // 5000
                             std::string("\x03", 1),            // 1 byte
                             std::string("\x03\xe8\xff", 3)}) { // 1000, reason 0xFF
        INFO("close body of " << body.size() << " bytes");
        tcp::socket ws(ctx);
        ws.connect(tcp::endpoint(aster::net::ip::make_address("127.0.0.1"), srv.port()));
        std::string handshake =
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        aster::net::write(ws, aster::net::buffer(handshake + client_frame(0x88, body)));
        auto started = std::chrono::steady_clock::now();
        auto reply = read_to_eof(ws);
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
        auto frame = reply.substr(std::min(reply.size(), reply.find("\r\n\r\n") + 4));
        REQUIRE(frame.size() >= 4);
        CHECK(std::uint8_t(frame[0]) == 0x88);
        CHECK(frame.substr(2, 2) == "\x03\xea"); // 1002, and nothing after the close frame
        CHECK(frame.size() == 2 + std::size_t(frame[1]));
    }
    srv.stop();
    REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}
