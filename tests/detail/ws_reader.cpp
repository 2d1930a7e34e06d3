// SPDX-License-Identifier: MIT
// ws_reader, the I/O-free reader both WebSocket sessions share: events from plain bytes, and the
// reason a rule was broken reaching the peer's close frame.
#include <aster/aster.hpp>
#include <aster/detail/ws_reader.hpp>
#include <aster/test/catch.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace ws_reader_test {

using aster::detail::opcode;
using aster::detail::ws_reader;

// A masked client frame.
std::string frame(opcode op, std::string_view payload, bool fin = true) {
    std::uint8_t head[14];
    const std::array<std::uint8_t, 4> mask{7, 1, 9, 3};
    std::size_t n = aster::detail::encode_frame_header(head, fin, op, payload.size(), &mask);
    std::string f(reinterpret_cast<const char*>(head), n);
    for (std::size_t i = 0; i < payload.size(); ++i) f += char(payload[i] ^ mask[i % 4]);
    return f;
}

struct event_text {
    ws_reader::event what;
    std::string text;
};

// Every event the reader finds in `wire`, read whole.
std::vector<event_text> events(std::string wire, std::size_t limit = std::size_t(-1)) {
    ws_reader reader({.from_client = true, .max_message_bytes = limit});
    std::vector<event_text> out;
    std::size_t at = 0;
    for (;;) {
        std::size_t used = 0;
        auto e = reader.read(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(wire.data()) +
                                                         at,
                                                     wire.size() - at),
                             used);
        at += used;
        if (e == ws_reader::event::need_more) return out;
        std::string text = e == ws_reader::event::failed || e == ws_reader::event::close
                               ? std::to_string(aster::code(reader.close_code())) + " " +
                                     std::string(reader.reason())
                               : std::string(reader.data());
        out.push_back({e, text});
        if (e == ws_reader::event::failed || e == ws_reader::event::close) return out;
    }
}

aster::task<> echo(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto m = co_await ws.receive();
        co_await ws.send_text(m.data);
    }
}
constexpr aster::application app{aster::routes(aster::websocket_route<"/ws">(echo))};

} // namespace ws_reader_test

TEST_CASE("ws_reader: messages, fragments with a ping between, close", "[ws_reader]") {
    using namespace ws_reader_test;
    using event = ws_reader::event;
    auto got = events(frame(opcode::text, "whole") + frame(opcode::text, "frag", false) +
                      frame(opcode::ping, "p") + frame(opcode::continuation, "mented") +
                      frame(opcode::close, std::string("\x03\xe8", 2) + "bye"));
    REQUIRE(got.size() == 4);
    CHECK(got[0].what == event::message);
    CHECK(got[0].text == "whole");
    CHECK(got[1].what == event::ping);
    CHECK(got[1].text == "p");
    CHECK(got[2].what == event::message);
    CHECK(got[2].text == "fragmented");
    CHECK(got[3].what == event::close);
    CHECK(got[3].text == "1000 bye");
}

TEST_CASE("ws_reader: each broken rule gives its close code and its own reason", "[ws_reader]") {
    using namespace ws_reader_test;
    using event = ws_reader::event;
    struct broken {
        std::string wire, expected;
    };
    const std::string unmasked = "\x81\x02hi";
    for (const auto& [wire, expected] : std::vector<broken>{
             {unmasked, "1002 client frame not masked"},
             {frame(opcode(3), "x"), "1002 unknown opcode"},
             {frame(opcode::ping, std::string(126, 'p')),
              "1002 control frame payload over 125 bytes"},
             {frame(opcode::continuation, "x"), "1002 continuation frame without a message"},
             {frame(opcode::text, "a", false) + frame(opcode::text, "b"),
              "1002 new message inside a fragmented one"},
             {frame(opcode::text, "\xc3\x28"), "1007 invalid UTF-8"},
             {frame(opcode::binary, std::string(11, 'b')), "1009 message too big"},
             {frame(opcode::close, "\x03"), "1002 invalid close frame"},
         }) {
        INFO(expected);
        auto got = events(wire, 10);
        REQUIRE_FALSE(got.empty());
        CHECK(got.back().what == event::failed);
        CHECK(got.back().text == expected);
    }
}

TEST_CASE("websocket: the reason the reader found is the reason in the close frame",
          "[ws_reader][websocket]") {
    aster::test_client client{ws_reader_test::app};
    auto ws = client.websocket_connect("/ws");
    ws.send_raw("\x81\x02hi"); // not masked
    CHECK_THROWS_MATCHES(ws.receive(), aster::websocket_disconnect,
                         aster::test::closed_with(1002, "client frame not masked"));
}
