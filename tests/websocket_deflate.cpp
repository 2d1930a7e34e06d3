// SPDX-License-Identifier: MIT
// permessage-deflate (RFC 7692): offer negotiation, and compressed messages through test_client.
#include <aster/aster.hpp>
#include <aster/detail/ws_deflate.hpp>
#include <aster/test/catch.hpp>
#include <aster/test_client.hpp>

#include <catch2/catch.hpp>

#ifdef ASTER_HAS_ZLIB
#include <zlib.h>
#endif

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace websocket_deflate_test {

using aster::detail::deflate_params;
using aster::detail::negotiate_deflate;
using aster::test::closed_with;

// The Sec-WebSocket-Extensions answer to `offers` under `options`, or "" when all are declined.
std::string answer(std::string_view offers, aster::websocket_deflate_options options = {}) {
    auto agreed = negotiate_deflate(offers, options);
    if (!agreed) return "";
    std::string out;
    aster::detail::append_deflate_response(out, *agreed);
    return out;
}

} // namespace websocket_deflate_test

TEST_CASE("permessage-deflate negotiation: parameters and the answer", "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    // Defaults: our window 12 (announced), the client's 12 when it lets us choose.
    CHECK(answer("permessage-deflate") == "permessage-deflate; server_max_window_bits=12");
    CHECK(answer("permessage-deflate; client_max_window_bits") ==
          "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
    CHECK(answer("permessage-deflate; client_max_window_bits=10") ==
          "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10");
    CHECK(answer("permessage-deflate; client_max_window_bits=15") ==
          "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
    CHECK(answer("permessage-deflate; server_max_window_bits=9") ==
          "permessage-deflate; server_max_window_bits=9");
    CHECK(answer("permessage-deflate; server_max_window_bits=15") ==
          "permessage-deflate; server_max_window_bits=12");
    CHECK(answer("permessage-deflate; server_no_context_takeover; client_no_context_takeover") ==
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
          "server_max_window_bits=12");
    // Quoted values (RFC 6455 §9.1), spaces and case.
    CHECK(answer("PerMessage-Deflate ;  Server_Max_Window_Bits = \"10\"") ==
          "permessage-deflate; server_max_window_bits=10");
    // zlib's window: announced only when it is not the default 15 or the client named it.
    aster::websocket_deflate_options wide{.server_max_window_bits = 15,
                                          .client_max_window_bits = 15};
    CHECK(answer("permessage-deflate", wide) == "permessage-deflate");
    CHECK(answer("permessage-deflate; server_max_window_bits=15", wide) ==
          "permessage-deflate; server_max_window_bits=15");
    // The server may ask for no context takeover on either side by itself.
    aster::websocket_deflate_options forget{.server_no_context_takeover = true,
                                            .client_no_context_takeover = true};
    CHECK(answer("permessage-deflate", forget) ==
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
          "server_max_window_bits=12");
    auto p = negotiate_deflate("permessage-deflate; client_max_window_bits=9", {});
    REQUIRE(p);
    CHECK(p->server_max_window_bits == 12);
    CHECK(p->client_max_window_bits == 9);
    CHECK_FALSE(p->server_no_context_takeover);
    // A client that does not let us choose may use a 15-bit window: we inflate with 15.
    CHECK(negotiate_deflate("permessage-deflate", {})->client_max_window_bits == 15);
}

TEST_CASE("permessage-deflate negotiation: the first acceptable offer wins, others are declined",
          "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    CHECK(answer("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits") ==
          "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
    CHECK(answer("permessage-deflate; server_no_context_takeover, permessage-deflate") ==
          "permessage-deflate; server_no_context_takeover; server_max_window_bits=12");
    // server_max_window_bits=8: zlib has no raw 256-byte window, so that offer is declined and
    // the next one taken (Autobahn 13.7's list).
    CHECK(answer("permessage-deflate; server_max_window_bits=8") == "");
    CHECK(answer("permessage-deflate; server_no_context_takeover; server_max_window_bits=8, "
                 "permessage-deflate; server_no_context_takeover, permessage-deflate") ==
          "permessage-deflate; server_no_context_takeover; server_max_window_bits=12");
    // RFC 7692 §7: unknown, repeated or invalid parameters decline the offer.
    for (std::string_view bad : {
             "permessage-deflate; server_max_window_bits=16",
             "permessage-deflate; server_max_window_bits=7",
             "permessage-deflate; server_max_window_bits=08",
             "permessage-deflate; server_max_window_bits=+9",
             "permessage-deflate; server_max_window_bits",
             "permessage-deflate; client_max_window_bits=0",
             "permessage-deflate; client_max_window_bits=\"\"",
             "permessage-deflate; server_no_context_takeover=1",
             "permessage-deflate; client_no_context_takeover=\"\"",
             "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
             "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
             "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
             "permessage-deflate; level=9",
         }) {
        INFO(bad);
        CHECK(answer(bad) == "");
        // ... and the next offer is still considered.
        CHECK(answer(std::string(bad) + ", permessage-deflate") ==
              "permessage-deflate; server_max_window_bits=12");
    }
    // A malformed list stops there: nothing after the error is trusted (no 400: the connection
    // goes on uncompressed).
    for (std::string_view malformed : {
             "permessage-deflate; server_max_window_bits=\"10, permessage-deflate",
             "permessage-deflate;; client_max_window_bits",
             "permessage-deflate; =10",
             "permessage-deflate; server_max_window_bits=",
             "permessage-deflate server_no_context_takeover",
             "; permessage-deflate",
             "\"permessage-deflate\"",
         }) {
        INFO(malformed);
        CHECK(answer(malformed) == "");
    }
    // A comma inside a quoted value belongs to the value: no second offer appears from it.
    CHECK(answer("permessage-deflate; server_max_window_bits=\"10, permessage-deflate\"") == "");
    CHECK(answer("") == "");
    CHECK(answer(" , ,permessage-deflate,") == "permessage-deflate; server_max_window_bits=12");
}

TEST_CASE("permessage-deflate negotiation: a client checks the server's answer",
          "[websocket][deflate]") {
    using aster::detail::parse_deflate_response;
    auto p = parse_deflate_response("permessage-deflate; server_no_context_takeover; "
                                    "server_max_window_bits=10; client_max_window_bits=11",
                                    true);
    REQUIRE(p);
    CHECK(p->server_no_context_takeover);
    CHECK(p->server_max_window_bits == 10);
    CHECK(p->client_max_window_bits == 11);
    CHECK(parse_deflate_response("permessage-deflate", false));
    // client_max_window_bits only when offered, always with a value; one extension only.
    CHECK_FALSE(parse_deflate_response("permessage-deflate; client_max_window_bits=10", false));
    CHECK_FALSE(parse_deflate_response("permessage-deflate; client_max_window_bits", true));
    CHECK_FALSE(parse_deflate_response("permessage-deflate, permessage-deflate", false));
    CHECK_FALSE(parse_deflate_response("x-other", false));
    CHECK_FALSE(parse_deflate_response("permessage-deflate; foo", false));
}

#ifdef ASTER_HAS_ZLIB

namespace websocket_deflate_test {

aster::task<> echo(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto m = co_await ws.receive();
        if (m.text) co_await ws.send_text(m.data);
        else co_await ws.send_bytes(m.data);
    }
}

constexpr aster::application echo_app{aster::routes(aster::websocket_route<"/ws">(echo))};

aster::task<> own_extensions(aster::websocket& ws) {
    aster::header_list headers{{"Sec-WebSocket-Extensions", "permessage-deflate"}};
    co_await ws.accept({}, headers);
}

constexpr aster::application own_extensions_app{
    aster::routes(aster::websocket_route<"/ws">(own_extensions))};

constexpr std::string_view browser_offer = "permessage-deflate; client_max_window_bits";

aster::websocket_connect_options offering(std::string extensions) {
    aster::websocket_connect_options o;
    o.extensions = std::move(extensions);
    return o;
}

aster::test_client_options with_deflate(aster::websocket_deflate_options d,
                                        std::size_t max_message_bytes = 16 * 1024 * 1024) {
    aster::test_client_options o;
    o.websocket.deflate = d;
    o.websocket.max_message_bytes = max_message_bytes;
    return o;
}

std::string text_of(std::size_t size) {
    std::string s;
    std::mt19937 rng(7);
    static constexpr std::string_view words[] = {"deflate ", "window ", "context ", "takeover ",
                                                 "héllo ",   "✓ ",      "🌍 ",       "aster "};
    while (s.size() < size) s += words[rng() % 8];
    s.resize(size);
    while (!aster::detail::is_valid_utf8(s)) s.pop_back();
    return s;
}

std::string random_bytes(std::size_t size, unsigned seed = 1) {
    std::mt19937 rng(seed);
    std::string s(size, '\0');
    for (auto& c : s) c = char(rng());
    return s;
}

// A raw deflate stream of `data`, ended as asked: Z_SYNC_FLUSH with the tail cut (RFC 7692
// §7.2.1) or Z_FINISH (a block with BFINAL set, which a sender may also use).
std::string raw_deflate(std::string_view data, int flush, int window_bits = 15) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, uLong(data.size())) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = uInt(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    int rc = deflate(&z, flush);
    REQUIRE((rc == Z_OK || rc == Z_STREAM_END));
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    if (flush == Z_SYNC_FLUSH) out.resize(out.size() - 4);
    return out;
}

// One whole compressed message through the codec, slice after slice; its text in `out`.
aster::detail::deflate_codec::status inflate_all(aster::detail::deflate_codec& codec,
                                                 std::string_view wire, std::string& out,
                                                 std::size_t limit) {
    using status = aster::detail::deflate_codec::status;
    std::span<const std::uint8_t> rest(reinterpret_cast<const std::uint8_t*>(wire.data()),
                                       wire.size());
    aster::detail::message_buffer inflated;
    status s = status::more;
    while (s == status::more) s = codec.inflate(rest, true, inflated, limit);
    out.assign(inflated.view());
    return s;
}

} // namespace websocket_deflate_test

TEST_CASE("permessage-deflate: compressed messages both ways", "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    aster::test_client client{echo_app};
    auto ws = client.websocket_connect("/ws", offering(std::string(browser_offer)));
    REQUIRE(ws.deflate_agreed());
    CHECK(ws.header("sec-websocket-extensions") ==
          "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
    for (std::size_t size : {64, 125, 126, 1000, 65535, 65536, 300 * 1024}) {
        INFO("text of " << size);
        auto text = text_of(size);
        ws.send_text(text);
        auto m = ws.receive();
        CHECK(m.text);
        CHECK(m.compressed);
        CHECK(m.wire_bytes < text.size());
        CHECK(m.data == text);
    }
    auto bytes = random_bytes(100000);
    ws.send_bytes(bytes);
    auto m = ws.receive();
    CHECK_FALSE(m.text);
    CHECK(m.compressed); // with context takeover even incompressible data goes compressed
    CHECK(m.data == bytes);
}

TEST_CASE("permessage-deflate: small and uncompressed messages", "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    aster::test_client client{echo_app};
    auto ws = client.websocket_connect("/ws", offering(std::string(browser_offer)));
    REQUIRE(ws.deflate_agreed());
    // Below min_compress_bytes (64) the server sends as is; the client compressed them all.
    for (std::string text : {std::string(), std::string("a"), std::string(63, 'x')}) {
        ws.send_text(text);
        auto m = ws.receive();
        CHECK_FALSE(m.compressed);
        CHECK(m.data == text);
    }
    ws.send_text(std::string(64, 'x'));
    CHECK(ws.receive().compressed);
    // RSV1 clear on a deflate connection: an uncompressed message (RFC 7692 §6).
    ws.set_compression(false);
    ws.send_text(text_of(5000));
    CHECK(ws.receive_text() == text_of(5000));
    ws.send_frame(aster::detail::opcode::text, "plain ", false);
    ws.send_frame(aster::detail::opcode::continuation, "fragments", true);
    CHECK(ws.receive_text() == "plain fragments");
    // ... and compressed again on the same context.
    ws.set_compression(true);
    ws.send_text(text_of(5000));
    CHECK(ws.receive_text() == text_of(5000));
}

TEST_CASE("permessage-deflate: fragmented compressed messages, control frames between",
          "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    using aster::detail::opcode;
    aster::test_client client{echo_app};
    auto ws = client.websocket_connect("/ws", offering(std::string(browser_offer)));
    REQUIRE(ws.deflate_agreed());
    auto text = text_of(20000);
    auto wire = ws.compress(text);
    REQUIRE(wire.size() > 30);
    // RSV1 on the first frame only (§6.1); a ping between fragments is answered.
    ws.send_frame(opcode::text, wire.substr(0, 10), false, true);
    ws.send_frame(opcode::ping, "between", true);
    ws.send_frame(opcode::continuation, wire.substr(10, 1), false);
    ws.send_frame(opcode::continuation, "", false);
    ws.send_frame(opcode::continuation, wire.substr(11), true);
    auto m = ws.receive();
    CHECK(m.compressed);
    CHECK(m.data == text);
    CHECK(ws.pongs() == std::vector<std::string>{"between"});
    // One byte per frame, binary.
    auto bytes = random_bytes(300);
    wire = ws.compress(bytes);
    for (std::size_t i = 0; i < wire.size(); ++i)
        ws.send_frame(i == 0 ? opcode::binary : opcode::continuation, wire.substr(i, 1),
                      i + 1 == wire.size(), i == 0);
    CHECK(ws.receive_bytes() == bytes);
    // A first fragment ending in a whole sync flush, then a final fragment of one 0x00 byte,
    // which the tail completes to an empty stored block (RFC 7692 §7.2.3.6's example).
    wire = ws.compress("Hello") + std::string("\x00\x00\xff\xff", 4);
    ws.send_frame(opcode::text, wire, false, true);
    ws.send_frame(opcode::continuation, std::string(1, '\0'), true);
    CHECK(ws.receive_text() == "Hello");
    ws.send_text("still in step");
    CHECK(ws.receive_text() == "still in step");
}

TEST_CASE("permessage-deflate: context takeover on and off", "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    auto text = text_of(3000);
    SECTION("with context takeover a repeated message shrinks") {
        aster::test_client client{echo_app};
        auto ws = client.websocket_connect("/ws", offering(std::string(browser_offer)));
        REQUIRE(ws.deflate_agreed());
        CHECK_FALSE(ws.deflate_params().server_no_context_takeover);
        std::vector<std::size_t> sizes;
        for (int i = 0; i < 3; ++i) {
            ws.send_text(text);
            auto m = ws.receive();
            CHECK(m.data == text);
            sizes.push_back(m.wire_bytes);
        }
        CHECK(sizes[1] < sizes[0] / 4); // a back-reference to the previous message
        CHECK(sizes[2] < sizes[0] / 4);
    }
    SECTION("server_no_context_takeover asked by the client: every message alike") {
        aster::test_client client{echo_app};
        auto ws = client.websocket_connect(
            "/ws",
            offering("permessage-deflate; server_no_context_takeover; client_max_window_bits"));
        REQUIRE(ws.deflate_agreed());
        CHECK(ws.header("sec-websocket-extensions") ==
              "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; "
              "client_max_window_bits=12");
        std::vector<std::size_t> sizes;
        for (int i = 0; i < 3; ++i) {
            ws.send_text(text);
            auto m = ws.receive();
            CHECK(m.data == text);
            CHECK(m.compressed);
            sizes.push_back(m.wire_bytes);
        }
        CHECK(sizes[0] == sizes[1]);
        CHECK(sizes[1] == sizes[2]);
        // Without context takeover, incompressible data goes uncompressed.
        auto bytes = random_bytes(2000);
        ws.send_bytes(bytes);
        auto m = ws.receive();
        CHECK_FALSE(m.compressed);
        CHECK(m.data == bytes);
    }
    SECTION("server_no_context_takeover by the server's own choice") {
        aster::test_client client{echo_app, with_deflate({.server_no_context_takeover = true})};
        auto ws = client.websocket_connect("/ws", offering("permessage-deflate"));
        REQUIRE(ws.deflate_agreed());
        CHECK(ws.deflate_params().server_no_context_takeover);
        ws.send_text(text);
        auto first = ws.receive();
        ws.send_text(text);
        auto second = ws.receive();
        CHECK(second.data == text);
        CHECK(first.wire_bytes == second.wire_bytes);
    }
    SECTION("client_no_context_takeover: the server's inflater forgets each message") {
        aster::test_client client{echo_app, with_deflate({.client_no_context_takeover = true})};
        auto ws = client.websocket_connect("/ws", offering("permessage-deflate"));
        REQUIRE(ws.deflate_agreed());
        CHECK(ws.deflate_params().client_no_context_takeover);
        ws.send_text(text); // the session's compressor obeys and resets
        ws.send_text(text);
        CHECK(ws.receive_text() == text);
        CHECK(ws.receive_text() == text);
        // A client that ignores the agreement refers back to the previous message, which the
        // server has forgotten: invalid data.
        z_stream z{};
        REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
        std::string out(65536, '\0');
        auto squeeze = [&](std::string_view in) {
            z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
            z.avail_in = uInt(in.size());
            z.next_out = reinterpret_cast<Bytef*>(out.data());
            z.avail_out = uInt(out.size());
            REQUIRE(deflate(&z, Z_SYNC_FLUSH) == Z_OK);
            return out.substr(0, out.size() - z.avail_out - 4);
        };
        ws.send_frame(aster::detail::opcode::text, squeeze(text), true, true);
        CHECK(ws.receive_text() == text);
        ws.send_frame(aster::detail::opcode::text, squeeze(text), true, true);
        deflateEnd(&z);
        CHECK_THROWS_MATCHES(ws.receive_text(), aster::websocket_disconnect, closed_with(1007));
    }
    SECTION("client context takeover: the server's inflater remembers") {
        aster::test_client client{echo_app};
        auto ws = client.websocket_connect("/ws", offering("permessage-deflate"));
        auto first = ws.compress(text);
        auto second = ws.compress(text);
        CHECK(second.size() < first.size() / 4);
        ws.send_frame(aster::detail::opcode::text, first, true, true);
        ws.send_frame(aster::detail::opcode::text, second, true, true);
        CHECK(ws.receive_text() == text);
        CHECK(ws.receive_text() == text);
    }
}

TEST_CASE("permessage-deflate: window bits", "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    // Repeats 2 KiB apart: a 9-bit (512-byte) window cannot refer back to them; 15 bits can.
    std::string block = random_bytes(2048, 5);
    std::string data = block + block + block + block;
    SECTION("9 bits each way, as offered") {
        aster::test_client client{echo_app};
        auto ws = client.websocket_connect(
            "/ws",
            offering("permessage-deflate; server_max_window_bits=9; client_max_window_bits=9"));
        REQUIRE(ws.deflate_agreed());
        CHECK(ws.header("sec-websocket-extensions") ==
              "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9");
        ws.send_bytes(data);
        auto m = ws.receive();
        CHECK(m.data == data);
        CHECK(m.wire_bytes > data.size() - 100); // nothing to gain within 512 bytes
    }
    SECTION("15 bits when the server is configured for it") {
        aster::test_client client{echo_app, with_deflate({.server_max_window_bits = 15,
                                                          .client_max_window_bits = 15})};
        auto ws = client.websocket_connect("/ws", offering(std::string(browser_offer)));
        REQUIRE(ws.deflate_agreed());
        CHECK(ws.header("sec-websocket-extensions") ==
              "permessage-deflate; client_max_window_bits=15");
        ws.send_bytes(data);
        auto m = ws.receive();
        CHECK(m.data == data);
        CHECK(m.wire_bytes < 2048 + 200);
    }
    SECTION("a client that did not let the server choose may use 15 bits") {
        aster::test_client client{echo_app};
        auto ws = client.websocket_connect("/ws", offering("permessage-deflate"));
        ws.send_frame(aster::detail::opcode::binary, raw_deflate(data, Z_SYNC_FLUSH, 15), true,
                      true);
        CHECK(ws.receive_bytes() == data);
    }
    SECTION("server_max_window_bits=8 is declined, the next offer taken") {
        aster::test_client client{echo_app};
        auto ws = client.websocket_connect(
            "/ws", offering("permessage-deflate; server_max_window_bits=8, permessage-deflate; "
                            "client_max_window_bits=9"));
        REQUIRE(ws.deflate_agreed());
        CHECK(ws.deflate_params().client_max_window_bits == 9);
        ws.send_bytes(data);
        CHECK(ws.receive_bytes() == data);
    }
}

TEST_CASE("permessage-deflate: declined offers leave the connection uncompressed",
          "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    for (std::string offer : {std::string("permessage-deflate; server_max_window_bits=8"),
                              std::string("permessage-deflate; bogus"),
                              std::string("permessage-deflate; server_max_window_bits=\"1"),
                              std::string("x-unknown-extension")}) {
        INFO(offer);
        aster::test_client client{echo_app};
        auto ws = client.websocket_connect("/ws", offering(offer));
        CHECK_FALSE(ws.deflate_agreed());
        CHECK_FALSE(ws.header("sec-websocket-extensions"));
        ws.send_text(text_of(1000));
        auto m = ws.receive();
        CHECK_FALSE(m.compressed);
        CHECK(m.data == text_of(1000));
        // RSV1 is not ours to use then (RFC 6455 §5.2).
        ws.send_frame(aster::detail::opcode::text, "x", true, true);
        CHECK_THROWS_MATCHES(ws.receive(), aster::websocket_disconnect, closed_with(1002));
    }
    SECTION("turned off on the server") {
        aster::test_client client{echo_app, with_deflate({.enabled = false})};
        auto ws = client.websocket_connect("/ws", offering(std::string(browser_offer)));
        CHECK_FALSE(ws.deflate_agreed());
        ws.send_text("hello");
        CHECK(ws.receive_text() == "hello");
    }
}

TEST_CASE("permessage-deflate: hostile compressed input", "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    using aster::detail::opcode;
    SECTION("a zip bomb closes with 1009 once it inflates past max_message_bytes") {
        const std::size_t limit = 1024 * 1024;
        aster::test_client client{echo_app, with_deflate({}, limit)};
        for (bool fragmented : {false, true}) {
            auto ws = client.websocket_connect("/ws", offering(std::string(browser_offer)));
            std::string at_limit(limit, 'a');
            ws.send_text(at_limit); // exactly the limit is fine
            CHECK(ws.receive_text() == at_limit);
            auto bomb = ws.compress(std::string(64 * limit, '\0')); // 64 MiB in ~64 KiB
            CHECK(bomb.size() < limit / 8);
            if (!fragmented) {
                ws.send_frame(opcode::binary, bomb, true, true);
            } else {
                for (std::size_t at = 0; at < bomb.size(); at += 1000)
                    ws.send_frame(at == 0 ? opcode::binary : opcode::continuation,
                                  bomb.substr(at, 1000), at + 1000 >= bomb.size(), at == 0);
            }
            CHECK_THROWS_MATCHES(ws.receive(), aster::websocket_disconnect, closed_with(1009));
        }
    }
    SECTION("data that is not DEFLATE closes with 1007") {
        aster::test_client client{echo_app};
        for (std::string garbage :
             {std::string("\xff\xff\xff\xff\xff", 5), std::string("\x07\x00\x00", 3)}) {
            auto ws = client.websocket_connect("/ws", offering(std::string(browser_offer)));
            ws.send_frame(opcode::text, garbage, true, true);
            CHECK_THROWS_MATCHES(ws.receive(), aster::websocket_disconnect, closed_with(1007));
        }
    }
    SECTION("decompressed text that is not UTF-8 closes with 1007, even mid-message") {
        aster::test_client client{echo_app};
        auto ws = client.websocket_connect("/ws", offering(std::string(browser_offer)));
        ws.send_frame(opcode::text, ws.compress("ok \xff ok"), true, true);
        CHECK_THROWS_MATCHES(ws.receive(), aster::websocket_disconnect, closed_with(1007));
        auto ws2 = client.websocket_connect("/ws", offering(std::string(browser_offer)));
        ws2.send_frame(opcode::text, ws2.compress("ok \xc3"), true, true); // truncated at the end
        CHECK_THROWS_MATCHES(ws2.receive(), aster::websocket_disconnect, closed_with(1007));
        auto ws3 = client.websocket_connect("/ws", offering(std::string(browser_offer)));
        ws3.send_frame(opcode::text, ws3.compress("ok \xed\xa0\x80"), false, true); // a surrogate
        CHECK_THROWS_MATCHES(ws3.receive(), aster::websocket_disconnect, closed_with(1007));
    }
    SECTION("RSV1 on a continuation or a control frame closes with 1002") {
        aster::test_client client{echo_app};
        auto ws = client.websocket_connect("/ws", offering(std::string(browser_offer)));
        auto wire = ws.compress(text_of(1000));
        ws.send_frame(opcode::text, wire.substr(0, 10), false, true);
        ws.send_frame(opcode::continuation, wire.substr(10), true, true);
        CHECK_THROWS_MATCHES(ws.receive(), aster::websocket_disconnect, closed_with(1002));
        for (auto op : {opcode::ping, opcode::pong, opcode::close}) {
            auto ws2 = client.websocket_connect("/ws", offering(std::string(browser_offer)));
            ws2.send_frame(op, "", true, true);
            CHECK_THROWS_MATCHES(ws2.receive(), aster::websocket_disconnect, closed_with(1002));
        }
        auto ws3 = client.websocket_connect("/ws", offering(std::string(browser_offer)));
        ws3.send_frame(opcode::continuation, "x", true, true); // and without a message
        CHECK_THROWS_MATCHES(ws3.receive(), aster::websocket_disconnect, closed_with(1002));
    }
    SECTION("a final block (BFINAL) ends a message; the next one still decodes") {
        aster::test_client client{echo_app};
        auto ws = client.websocket_connect("/ws", offering("permessage-deflate"));
        auto text = text_of(4000);
        ws.send_frame(opcode::text, raw_deflate(text, Z_FINISH), true, true);
        CHECK(ws.receive_text() == text);
        ws.send_text(text); // the session's own context-taking compressor
        CHECK(ws.receive_text() == text);
        ws.send_frame(opcode::text, raw_deflate(text, Z_FINISH), true, true);
        CHECK(ws.receive_text() == text);
    }
}

TEST_CASE("permessage-deflate: empty final blocks cannot make a CPU bomb", "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    using aster::detail::opcode;
    // `03 00` is an empty block with BFINAL set: each one ended the stream, which the inflater
    // restarted (copying its window) while the message stayed empty and the 1009 limit never
    // fired. One end per message is all a sender needs; the second closes with 1007.
    std::string finals;
    for (int i = 0; i < 4096; ++i) finals += std::string("\x03\x00", 2);
    aster::test_client client{echo_app};
    auto ws = client.websocket_connect("/ws", offering("permessage-deflate"));
    ws.send_frame(opcode::binary, finals, true, true);
    CHECK_THROWS_MATCHES(ws.receive(), aster::websocket_disconnect,
                         closed_with(1007, "invalid compressed data"));
    // Spread over fragments, and after real data: the same.
    auto ws2 = client.websocket_connect("/ws", offering("permessage-deflate"));
    ws2.send_frame(opcode::text, raw_deflate("hello", Z_FINISH), false, true);
    ws2.send_frame(opcode::continuation, std::string("\x03\x00", 2), true);
    CHECK_THROWS_MATCHES(ws2.receive(), aster::websocket_disconnect, closed_with(1007));
    // One final block per message, message after message, stays fine.
    auto ws3 = client.websocket_connect("/ws",
                                        offering("permessage-deflate; client_no_context_takeover"));
    for (int i = 0; i < 3; ++i) {
        ws3.send_frame(opcode::text, raw_deflate("again", Z_FINISH), true, true);
        CHECK(ws3.receive_text() == "again");
    }
}

TEST_CASE("permessage-deflate: a long message inflates slice by slice to the same bytes",
          "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    using aster::detail::deflate_codec;
    // Random bytes do not shrink: the wire form spans several input slices.
    const std::string bytes = random_bytes(3 * deflate_codec::inflate_slice_in, 5);
    const std::string wire = raw_deflate(bytes, Z_SYNC_FLUSH);
    aster::detail::deflate_params p;
    deflate_codec codec(p, true, 8, 6);
    std::span<const std::uint8_t> rest(reinterpret_cast<const std::uint8_t*>(wire.data()),
                                       wire.size());
    aster::detail::message_buffer out;
    int calls = 0;
    auto status = deflate_codec::status::more;
    while (status == deflate_codec::status::more) {
        const std::size_t before = rest.size();
        status = codec.inflate(rest, true, out, std::size_t(-1));
        CHECK(before - rest.size() <= deflate_codec::inflate_slice_in);
        ++calls;
    }
    CHECK(status == deflate_codec::status::ok);
    CHECK(calls >= 4);
    CHECK(out.view() == bytes);
    // Through a session, which lets its loop run between the slices.
    aster::test_client client{echo_app};
    auto ws = client.websocket_connect("/ws", offering("permessage-deflate"));
    ws.send_frame(aster::detail::opcode::binary, wire, true, true);
    CHECK(ws.receive_bytes() == bytes);
}

TEST_CASE("permessage-deflate: the handler may not add Sec-WebSocket-Extensions itself",
          "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    aster::test_client client{own_extensions_app};
    CHECK_THROWS_WITH(client.websocket_connect("/ws"),
                      Catch::Contains("negotiates Sec-WebSocket-Extensions itself"));
}

TEST_CASE("permessage-deflate: large compressed messages, whole and in 1 KiB fragments",
          "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    using aster::detail::opcode;
    aster::test_client client{echo_app};
    auto ws = client.websocket_connect("/ws", offering(std::string(browser_offer)));
    auto text = text_of(4 * 1024 * 1024);
    ws.send_text(text);
    CHECK(ws.receive_text() == text);
    auto bytes = random_bytes(1024 * 1024, 9);
    auto wire = ws.compress(bytes);
    for (std::size_t at = 0; at < wire.size(); at += 1024)
        ws.send_frame(at == 0 ? opcode::binary : opcode::continuation, wire.substr(at, 1024),
                      at + 1024 >= wire.size(), at == 0);
    CHECK(ws.receive_bytes() == bytes);
}

TEST_CASE("permessage-deflate: the codec's memory is lazy and within the documented budget",
          "[websocket][deflate]") {
    using namespace websocket_deflate_test;
    using aster::detail::deflate_codec;
    struct shape {
        int server_bits, client_bits, mem_level;
    };
    for (auto [server_bits, client_bits, mem_level] :
         {shape{12, 12, 5}, shape{15, 15, 8}, shape{9, 9, 1}}) {
        INFO(server_bits << "/" << client_bits << "/" << mem_level);
        deflate_params p{.server_max_window_bits = server_bits,
                         .client_max_window_bits = client_bits};
        deflate_codec server(p, true, mem_level, 6), client(p, false, 8, 6);
        CHECK(server.memory() == 0); // nothing until the first compressed message
        aster::detail::message_buffer wire;
        std::string back;
        auto text = text_of(200000);
        REQUIRE(server.compress(text, wire) == deflate_codec::status::ok);
        const std::size_t deflate_memory = server.memory();
        // The compressor: zlib's (1 << (wbits + 2)) + (1 << (memLevel + 9)) plus its state.
        const std::size_t formula = (std::size_t(1) << (server_bits + 2)) +
                                    (std::size_t(1) << (mem_level + 9));
        CHECK(deflate_memory >= formula);
        CHECK(deflate_memory <= formula + 6 * 1024);
        REQUIRE(inflate_all(client, wire.view(), back, std::size_t(-1)) ==
                deflate_codec::status::ok);
        CHECK(back == text);
        // The other way: the server's inflater holds its window, 1 << client_bits, plus state.
        wire.clear();
        back.clear();
        REQUIRE(client.compress(text, wire) == deflate_codec::status::ok);
        REQUIRE(inflate_all(server, wire.view(), back, std::size_t(-1)) ==
                deflate_codec::status::ok);
        CHECK(back == text);
        const std::size_t inflate_memory = server.memory() - deflate_memory;
        CHECK(inflate_memory >= (std::size_t(1) << std::max(client_bits, 9)));
        CHECK(inflate_memory <= (std::size_t(1) << std::max(client_bits, 9)) + 8 * 1024);
        UNSCOPED_INFO("deflate " << deflate_memory << " B, inflate " << inflate_memory << " B");
    }
    // A bomb stops at the limit: the output never holds more than limit + 1 bytes.
    deflate_params p;
    deflate_codec a(p, false, 8, 6), b(p, true, 8, 6);
    aster::detail::message_buffer wire;
    std::string out;
    REQUIRE(a.compress(std::string(32 * 1024 * 1024, 'z'), wire) == deflate_codec::status::ok);
    CHECK(inflate_all(b, wire.view(), out, 100000) == deflate_codec::status::too_big);
    CHECK(out.size() == 100001);
}

#endif // ASTER_HAS_ZLIB
