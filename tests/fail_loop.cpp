// SPDX-License-Identifier: MIT
// Fail loops: the n-th read or write of the server's stream fails, for every n until a run
// completes untouched. Every run must end (no hang), throw nothing out of the connection, give
// back every buffer and registry entry, and the untouched run must answer everything right.
// Covers the HTTP connection (plain, coroutine, streamed body, streamed response, pipelined)
// and the WebSocket session (function route and endpoint hooks, fragments, ping, close).
#include <aster/aster.hpp>

#include <catch2/catch.hpp>
#include "support/wire.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fail_loop_test {

using aster::request;
using aster::response;
using aster::task;
using aster::websocket;
using aster_test_support::responses_in;
using aster_test_support::wire;

// Under the sanitizers every run costs more: a sample of n there (every 7th, and the ends).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) // g++
#define ASTER_FAIL_LOOP_SAMPLED 1
#elif defined(__has_feature) // clang
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ASTER_FAIL_LOOP_SAMPLED 1
#endif
#endif
#ifdef ASTER_FAIL_LOOP_SAMPLED
constexpr std::size_t stride = 7;
#else
constexpr std::size_t stride = 1;
#endif
constexpr std::size_t max_operations = 5000; // a run that never completes is a failure

int disconnects = 0;

response plain(request&) { return aster::plain_text("plain"); }

task<response> echo(request& req) {
    std::string all;
    for (auto piece = co_await req.read_some(); !piece.empty(); piece = co_await req.read_some())
        all += piece;
    co_return aster::plain_text("echo " + all);
}

task<response> counted(request&) {
    co_return aster::streaming([](aster::body_writer& out) -> task<> {
        for (int i = 0; i < 5; ++i) co_await out.write("part " + std::to_string(i) + "\n");
    });
}

task<> echo_socket(websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto m = co_await ws.receive(); // the peer's close ends the loop by an exception
        if (m.text) co_await ws.send_text(m.data);
        else co_await ws.send_bytes(m.data);
    }
}

struct upper : aster::websocket_endpoint {
    static constexpr auto encoding = aster::encoding::text;
    task<> on_receive(websocket& ws, std::string_view message) {
        std::string out(message);
        for (char& c : out)
            if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
        co_await ws.send_text(out);
    }
    task<> on_disconnect(websocket&, aster::close_code) {
        ++disconnects;
        co_return;
    }
};

constexpr aster::application app{
    aster::routes(aster::route<"/plain">(plain), aster::route<"/echo", aster::method::post>(echo),
                  aster::route<"/counted">(counted), aster::websocket_route<"/ws">(echo_socket),
                  aster::websocket_route<"/upper", upper>())};

// A masked client frame (RFC 6455 §5.2); payloads here are short (< 126 bytes).
std::string frame(std::uint8_t opcode, std::string_view payload, bool fin = true) {
    const unsigned char mask[4] = {0x11, 0x22, 0x33, 0x44};
    std::string out;
    out += char((fin ? 0x80 : 0x00) | opcode);
    out += char(0x80 | payload.size());
    out.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < payload.size(); ++i) out += char(payload[i] ^ mask[i % 4]);
    return out;
}

std::string handshake(std::string_view path) {
    return "GET " + std::string(path) +
           " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

// An unmasked server frame, as the client reads it.
std::string server_frame(std::uint8_t opcode, std::string_view payload) {
    std::string out;
    out += char(0x80 | opcode);
    out += char(payload.size());
    out += payload;
    return out;
}

struct run_result {
    bool failure_injected = false;
    std::string output; // what the server wrote
};

// One run: `bytes` sent in `slice`-byte pieces (many operations), the server's n-th failing.
run_result run_once(std::string_view bytes, std::size_t n, std::size_t slice) {
    wire w(app.ref());
    w.server.fail_after(n);
    w.send(bytes, slice);
    run_result r;
    r.output = w.client.take();
    w.finish();
    INFO("failing operation " << n);
    REQUIRE(w.done); // every run ends
    CHECK_FALSE(w.failure);
    CHECK(w.all_released());
    r.failure_injected = w.server.failure_injected();
    return r;
}

// Runs n = 0, stride, 2 * stride, ... until a run completes without a failure; returns it.
template <class Check>
void fail_loop(std::string_view bytes, std::size_t slice, Check&& check_complete) {
    for (std::size_t n = 0; n < max_operations; n += stride) {
        auto r = run_once(bytes, n, slice);
        if (!r.failure_injected) {
            INFO("first run with no failure: n = " << n);
            CHECK(n > 3); // the loop did fail runs before this one
            check_complete(r.output);
            return;
        }
    }
    FAIL("no run completed within " << max_operations << " operations");
}

TEST_CASE("fail loop: an HTTP connection with every kind of exchange", "[fail_loop]") {
    const std::string body(3000, 'b');
    const std::string bytes = "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n"
                              "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body +
                              "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                              "GET /counted HTTP/1.1\r\nHost: t\r\n\r\n"
                              "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"
                              "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    fail_loop(bytes, 97, [&](const std::string& output) {
        auto rs = responses_in(output);
        REQUIRE(rs.size() == 6);
        CHECK(rs[0].body == "plain");
        CHECK(rs[1].body == "echo " + body);
        CHECK(rs[2].body == "echo hello world");
        CHECK(rs[3].body == "part 0\npart 1\npart 2\npart 3\npart 4\n");
        CHECK(rs[4].status == 404);
        CHECK(rs[5].body == "plain");
    });
}

TEST_CASE("fail loop: a WebSocket function route", "[fail_loop]") {
    const std::string bytes = handshake("/ws") + frame(0x1, "hello") + frame(0x2, "\x01\x02") +
                              frame(0x1, "frag", false) + frame(0x0, "ment") + frame(0x9, "ping") +
                              frame(0x8, "\x03\xe8");
    fail_loop(bytes, 5, [&](const std::string& output) {
        REQUIRE(output.starts_with("HTTP/1.1 101"));
        const auto frames = output.substr(output.find("\r\n\r\n") + 4);
        CHECK(frames == server_frame(0x1, "hello") + server_frame(0x2, "\x01\x02") +
                            server_frame(0x1, "fragment") + server_frame(0xA, "ping") +
                            server_frame(0x8, "\x03\xe8"));
    });
}

TEST_CASE("fail loop: a WebSocket endpoint's hooks", "[fail_loop]") {
    disconnects = 0;
    std::size_t runs = 0;
    const std::string bytes = handshake("/upper") + frame(0x1, "abc") + frame(0x1, "de", false) +
                              frame(0x0, "f") + frame(0x8, "\x03\xe8");
    fail_loop(bytes, 5, [&](const std::string& output) {
        REQUIRE(output.starts_with("HTTP/1.1 101"));
        const auto frames = output.substr(output.find("\r\n\r\n") + 4);
        CHECK(frames ==
              server_frame(0x1, "ABC") + server_frame(0x1, "DEF") + server_frame(0x8, "\x03\xe8"));
        ++runs;
    });
    CHECK(runs == 1);
    CHECK(disconnects >= 1); // on_disconnect ran for the runs that got past the handshake
}

} // namespace fail_loop_test
