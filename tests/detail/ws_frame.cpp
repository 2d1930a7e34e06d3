// SPDX-License-Identifier: MIT
// Tests for detail/ws_frame.hpp: RFC 6455 §5.7 examples, every §5 rejection rule, masking, close.
#include <aster/detail/ws_frame.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ws_frame_test {

using namespace aster::detail;

using bytes = std::vector<std::uint8_t>;

bytes encode(bool fin, opcode op, std::uint64_t length,
             const std::array<std::uint8_t, 4>* mask = nullptr, bool rsv1 = false) {
    std::uint8_t out[14];
    std::size_t n = encode_frame_header(out, fin, op, length, mask, rsv1);
    return bytes(out, out + n);
}

struct parsed {
    frame_parse_result result;
    frame_error why;
    frame_header header;
};

parsed parse(const bytes& data, bool expect_masked, bool allow_rsv1 = false) {
    parsed p{};
    p.result = parse_frame_header(data, p.header, p.why, expect_masked, allow_rsv1);
    return p;
}

// The error parse_frame_header() reports for `data`, or none when it reports no error.
frame_error error_of(bytes data, bool expect_masked = true, bool allow_rsv1 = false) {
    auto p = parse(data, expect_masked, allow_rsv1);
    return p.result == frame_parse_result::protocol_error ? p.why : frame_error::none;
}

std::string text(std::span<const std::uint8_t> s) {
    return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

TEST_CASE("ws_frame: §5.7 single-frame unmasked text \"Hello\"", "[ws_frame]") {
    const bytes wire = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    CHECK(encode(true, opcode::text, 5) == bytes(wire.begin(), wire.begin() + 2));

    auto p = parse(wire, false);
    REQUIRE(p.result == frame_parse_result::ok);
    CHECK(p.why == frame_error::none);
    CHECK(p.header.fin);
    CHECK_FALSE(p.header.rsv1);
    CHECK(p.header.op == opcode::text);
    CHECK(p.header.raw_opcode == 1);
    CHECK_FALSE(p.header.masked);
    CHECK(p.header.payload_length == 5);
    CHECK(p.header.header_size == 2);
    CHECK(p.header.mask == std::array<std::uint8_t, 4>{});
    CHECK(text(std::span(wire).subspan(2)) == "Hello");
}

TEST_CASE("ws_frame: §5.7 single-frame masked text \"Hello\"", "[ws_frame]") {
    bytes wire = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    const std::array<std::uint8_t, 4> key = {0x37, 0xfa, 0x21, 0x3d};
    CHECK(encode(true, opcode::text, 5, &key) == bytes(wire.begin(), wire.begin() + 6));

    auto p = parse(wire, true);
    REQUIRE(p.result == frame_parse_result::ok);
    CHECK(p.header.fin);
    CHECK(p.header.op == opcode::text);
    CHECK(p.header.masked);
    CHECK(p.header.mask == key);
    CHECK(p.header.payload_length == 5);
    CHECK(p.header.header_size == 6);

    auto payload = std::span(wire).subspan(p.header.header_size);
    unmask(payload, p.header.mask);
    CHECK(text(payload) == "Hello");
    unmask(payload, key); // masking is its own inverse
    CHECK(payload[0] == 0x7f);
    CHECK(payload[4] == 0x58);
}

TEST_CASE("ws_frame: §5.7 fragmented unmasked text \"Hel\" + \"lo\"", "[ws_frame]") {
    const bytes first = {0x01, 0x03, 0x48, 0x65, 0x6c};
    const bytes second = {0x80, 0x02, 0x6c, 0x6f};
    CHECK(encode(false, opcode::text, 3) == bytes{0x01, 0x03});
    CHECK(encode(true, opcode::continuation, 2) == bytes{0x80, 0x02});

    auto a = parse(first, false);
    REQUIRE(a.result == frame_parse_result::ok);
    CHECK_FALSE(a.header.fin);
    CHECK(a.header.op == opcode::text);
    CHECK(a.header.payload_length == 3);
    auto b = parse(second, false);
    REQUIRE(b.result == frame_parse_result::ok);
    CHECK(b.header.fin);
    CHECK(b.header.op == opcode::continuation);
    CHECK(b.header.payload_length == 2);
    CHECK(text(std::span(first).subspan(2)) + text(std::span(second).subspan(2)) == "Hello");
}

TEST_CASE("ws_frame: §5.7 unmasked ping and masked pong", "[ws_frame]") {
    const bytes ping = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    CHECK(encode(true, opcode::ping, 5) == bytes{0x89, 0x05});
    auto p = parse(ping, false);
    REQUIRE(p.result == frame_parse_result::ok);
    CHECK(p.header.op == opcode::ping);
    CHECK(is_control(p.header.op));
    CHECK(p.header.payload_length == 5);

    bytes pong = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    auto q = parse(pong, true);
    REQUIRE(q.result == frame_parse_result::ok);
    CHECK(q.header.op == opcode::pong);
    auto payload = std::span(pong).subspan(q.header.header_size);
    unmask(payload, q.header.mask);
    CHECK(text(payload) == "Hello");
}

TEST_CASE("ws_frame: §5.7 256-byte and 64 KiB binary length encodings", "[ws_frame]") {
    CHECK(encode(true, opcode::binary, 256) == bytes{0x82, 0x7E, 0x01, 0x00});
    CHECK(encode(true, opcode::binary, 65536) ==
          bytes{0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00});

    bytes small = {0x82, 0x7E, 0x01, 0x00};
    small.resize(4 + 256, 0xAB);
    auto p = parse(small, false);
    REQUIRE(p.result == frame_parse_result::ok);
    CHECK(p.header.op == opcode::binary);
    CHECK(p.header.payload_length == 256);
    CHECK(p.header.header_size == 4);

    bytes big = {0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00};
    big.resize(10 + 65536, 0xCD);
    auto q = parse(big, false);
    REQUIRE(q.result == frame_parse_result::ok);
    CHECK(q.header.payload_length == 65536);
    CHECK(q.header.header_size == 10);
}

TEST_CASE("ws_frame: encode uses the shortest length form", "[ws_frame]") {
    const std::array<std::uint8_t, 4> key = {1, 2, 3, 4};
    struct row {
        std::uint64_t length;
        std::size_t size;
    };
    for (row r : {row{0, 2}, row{1, 2}, row{125, 2}, row{126, 4}, row{127, 4}, row{65535, 4},
                  row{65536, 10}, row{0xFFFFFFFFull, 10}, row{0x7FFFFFFFFFFFFFFFull, 10}}) {
        INFO("length " << r.length);
        CHECK(encode(true, opcode::binary, r.length).size() == r.size);
        CHECK(encode(true, opcode::binary, r.length, &key).size() == r.size + 4);
    }
}

TEST_CASE("ws_frame: encode and parse round-trip every field", "[ws_frame]") {
    const std::array<std::uint8_t, 4> key = {0xDE, 0xAD, 0xBE, 0xEF};
    for (opcode op : {opcode::continuation, opcode::text, opcode::binary, opcode::close,
                      opcode::ping, opcode::pong})
        for (std::uint64_t length : {0ull, 5ull, 125ull, 126ull, 1000ull, 65535ull, 65536ull,
                                     1ull << 32, 0x7FFFFFFFFFFFFFFFull})
            for (bool fin : {false, true})
                for (bool masked : {false, true})
                    for (bool rsv1 : {false, true}) {
                        if (is_control(op) && (!fin || length > 125)) continue;
                        auto wire = encode(fin, op, length, masked ? &key : nullptr, rsv1);
                        INFO("opcode " << int(op) << ", length " << length << ", fin " << fin
                                       << ", masked " << masked << ", rsv1 " << rsv1);
                        auto p = parse(wire, masked, true);
                        if (rsv1 && (is_control(op) || op == opcode::continuation)) {
                            // RFC 7692 §6.1: RSV1 belongs to a message's first frame only.
                            CHECK(p.why == frame_error::reserved_bits);
                            continue;
                        }
                        REQUIRE(p.result == frame_parse_result::ok);
                        CHECK(p.header.fin == fin);
                        CHECK(p.header.rsv1 == rsv1);
                        CHECK_FALSE(p.header.rsv2);
                        CHECK_FALSE(p.header.rsv3);
                        CHECK(p.header.op == op);
                        CHECK(p.header.masked == masked);
                        CHECK(p.header.payload_length == length);
                        CHECK(p.header.header_size == wire.size());
                        if (masked) CHECK(p.header.mask == key);
                    }
}

TEST_CASE("ws_frame: a header fed one byte at a time needs more until complete", "[ws_frame]") {
    const std::array<std::uint8_t, 4> key = {9, 8, 7, 6};
    for (std::uint64_t length : {0ull, 125ull, 126ull, 65535ull, 65536ull, 1ull << 40})
        for (bool masked : {false, true}) {
            bytes wire = encode(true, opcode::binary, length, masked ? &key : nullptr);
            wire.push_back(0x55); // the first payload byte must not matter
            INFO("length " << length << ", masked " << masked);
            for (std::size_t n = 0; n + 1 < wire.size(); ++n) {
                frame_header h{};
                frame_error why = frame_error::unknown_opcode;
                CHECK(parse_frame_header(std::span(wire).first(n), h, why, masked) ==
                      frame_parse_result::need_more);
                CHECK(why == frame_error::none);
            }
            for (std::size_t n = wire.size() - 1; n <= wire.size(); ++n) {
                frame_header h{};
                frame_error why{};
                REQUIRE(parse_frame_header(std::span(wire).first(n), h, why, masked) ==
                        frame_parse_result::ok);
                CHECK(h.header_size == wire.size() - 1);
                CHECK(h.payload_length == length);
            }
        }
}

TEST_CASE("ws_frame: rejects RSV bits without an extension (§5.2)", "[ws_frame]") {
    CHECK(error_of({0xC1, 0x80, 0, 0, 0, 0}) == frame_error::reserved_bits); // RSV1
    CHECK(error_of({0xA1, 0x80, 0, 0, 0, 0}) == frame_error::reserved_bits); // RSV2
    CHECK(error_of({0x91, 0x80, 0, 0, 0, 0}) == frame_error::reserved_bits); // RSV3
    // With an extension owning RSV1, only RSV1 becomes legal.
    CHECK(error_of({0xC1, 0x80, 0, 0, 0, 0}, true, true) == frame_error::none);
    CHECK(error_of({0xC2, 0x80, 0, 0, 0, 0}, true, true) == frame_error::none);
    // permessage-deflate's RSV1: never on a continuation or a control frame (RFC 7692 §6.1).
    CHECK(error_of({0xC0, 0x80, 0, 0, 0, 0}, true, true) == frame_error::reserved_bits);
    CHECK(error_of({0xC9, 0x80, 0, 0, 0, 0}, true, true) == frame_error::reserved_bits);
    CHECK(error_of({0xCA, 0x80, 0, 0, 0, 0}, true, true) == frame_error::reserved_bits);
    CHECK(error_of({0xC8, 0x80, 0, 0, 0, 0}, true, true) == frame_error::reserved_bits);
    CHECK(error_of({0xA1, 0x80, 0, 0, 0, 0}, true, true) == frame_error::reserved_bits);
    CHECK(error_of({0x91, 0x80, 0, 0, 0, 0}, true, true) == frame_error::reserved_bits);
    CHECK(error_of({0xC1}) == frame_error::reserved_bits); // known from the first byte
}

TEST_CASE("ws_frame: rejects reserved opcodes (§5.2)", "[ws_frame]") {
    for (int op = 0; op < 16; ++op) {
        bool known = op <= 2 || (op >= 8 && op <= 10);
        INFO("opcode " << op);
        CHECK(error_of({std::uint8_t(0x80 | op), 0x80, 1, 2, 3, 4}) ==
              (known ? frame_error::none : frame_error::unknown_opcode));
        auto p = parse({std::uint8_t(0x80 | op)}, true);
        CHECK(p.header.raw_opcode == op);
        CHECK(p.result ==
              (known ? frame_parse_result::need_more : frame_parse_result::protocol_error));
    }
}

TEST_CASE("ws_frame: rejects fragmented control frames (§5.5)", "[ws_frame]") {
    CHECK(error_of({0x08}) == frame_error::fragmented_control); // close, FIN clear
    CHECK(error_of({0x09, 0x80, 0, 0, 0, 0}) == frame_error::fragmented_control);
    CHECK(error_of({0x0A, 0x80, 0, 0, 0, 0}) == frame_error::fragmented_control);
    CHECK(error_of({0x01, 0x80, 0, 0, 0, 0}) == frame_error::none); // data frames may fragment
    CHECK(error_of({0x00, 0x80, 0, 0, 0, 0}) == frame_error::none);
}

TEST_CASE("ws_frame: rejects control payloads over 125 bytes (§5.5)", "[ws_frame]") {
    for (std::uint8_t b0 : {0x88, 0x89, 0x8A}) {
        INFO("first byte " << int(b0));
        CHECK(error_of({b0, 0x80 | 125, 0, 0, 0, 0}) == frame_error::none);
        CHECK(error_of({b0, 0x80 | 126}) == frame_error::control_too_long);
        CHECK(error_of({b0, 0x80 | 127}) == frame_error::control_too_long);
    }
    CHECK(error_of({0x82, 0x80 | 126, 0x00, 0x7E, 0, 0, 0, 0}) == frame_error::none);
}

TEST_CASE("ws_frame: rejects non-minimal length encodings (§5.2)", "[ws_frame]") {
    CHECK(error_of({0x82, 0xFE, 0x00, 0x00}) == frame_error::non_minimal_length);
    CHECK(error_of({0x82, 0xFE, 0x00, 0x7D}) == frame_error::non_minimal_length); // 125
    CHECK(error_of({0x82, 0xFE, 0x00, 0x7E, 0, 0, 0, 0}) == frame_error::none);   // 126
    CHECK(error_of({0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0x00, 0x05}) == frame_error::non_minimal_length);
    CHECK(error_of({0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}) ==
          frame_error::non_minimal_length); // 65535
    CHECK(error_of({0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0x00, 0x00, 0, 0, 0, 0}) ==
          frame_error::none); // 65536
}

TEST_CASE("ws_frame: rejects a 64-bit length with the top bit set (§5.2)", "[ws_frame]") {
    CHECK(error_of({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}) == frame_error::length_too_large);
    CHECK(error_of({0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) ==
          frame_error::length_too_large);
    CHECK(error_of({0x82, 0xFF, 0x80}) == frame_error::length_too_large); // known early
    CHECK(error_of({0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4}) ==
          frame_error::none);
}

TEST_CASE("ws_frame: masking is required from clients and forbidden from servers (§5.1)",
          "[ws_frame]") {
    CHECK(error_of({0x81, 0x05}, true) == frame_error::mask_required);
    CHECK(error_of({0x81, 0x85, 1, 2, 3, 4}, true) == frame_error::none);
    CHECK(error_of({0x81, 0x85, 1, 2, 3, 4}, false) == frame_error::mask_forbidden);
    CHECK(error_of({0x81, 0x05}, false) == frame_error::none);
    CHECK(error_of({0x89, 0x00}, true) == frame_error::mask_required); // control frames too
}

TEST_CASE("ws_frame: every frame_error has a description", "[ws_frame]") {
    for (auto e : {frame_error::none, frame_error::reserved_bits, frame_error::unknown_opcode,
                   frame_error::fragmented_control, frame_error::control_too_long,
                   frame_error::non_minimal_length, frame_error::length_too_large,
                   frame_error::mask_required, frame_error::mask_forbidden}) {
        CHECK_FALSE(describe(e).empty());
        CHECK(describe(e).size() <= 123); // usable as a close reason
    }
    CHECK(describe(frame_error::mask_required) != describe(frame_error::mask_forbidden));
}

TEST_CASE("ws_frame: unmask in two pieces at every offset and length up to 20", "[ws_frame]") {
    const std::array<std::uint8_t, 4> key = {0x12, 0x34, 0x56, 0x78};
    for (std::size_t length = 0; length <= 20; ++length)
        for (std::size_t cut = 0; cut <= length; ++cut) {
            bytes original(length);
            for (std::size_t i = 0; i < length; ++i) original[i] = std::uint8_t(i * 37 + 11);
            bytes masked = original;
            for (std::size_t i = 0; i < length; ++i) masked[i] ^= key[i % 4]; // §5.3, byte-wise

            bytes data = masked;
            unmask(std::span(data).first(cut), key, 0);
            unmask(std::span(data).subspan(cut), key, cut);
            INFO("length " << length << ", cut " << cut);
            CHECK(data == original);
        }
}

TEST_CASE("ws_frame: unmask at any offset matches the byte-wise definition", "[ws_frame]") {
    const std::array<std::uint8_t, 4> key = {0xA1, 0xB2, 0xC3, 0xD4};
    for (std::size_t offset = 0; offset <= 20; ++offset)
        for (std::size_t length = 0; length <= 20; ++length)
            for (std::size_t misalign = 0; misalign < 3; ++misalign) {
                bytes buffer(misalign + length);
                for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = std::uint8_t(i * 7);
                bytes expected = buffer;
                for (std::size_t i = 0; i < length; ++i)
                    expected[misalign + i] ^= key[(offset + i) % 4];
                unmask(std::span(buffer).subspan(misalign), key, offset);
                INFO("offset " << offset << ", length " << length << ", misalign " << misalign);
                CHECK(buffer == expected);
            }
}

TEST_CASE("ws_frame: unmask a large payload in uneven pieces", "[ws_frame]") {
    const std::array<std::uint8_t, 4> key = {0x37, 0xfa, 0x21, 0x3d};
    bytes original(100000);
    for (std::size_t i = 0; i < original.size(); ++i) original[i] = std::uint8_t(i ^ (i >> 8));
    bytes data = original;
    unmask(data, key);
    CHECK(data != original);
    for (std::size_t i = 0; i < 64; ++i) CHECK(data[i] == (original[i] ^ key[i % 4]));
    std::size_t pos = 0;
    for (std::size_t piece : {1u, 7u, 8u, 13u, 4096u, 3u, 50000u}) {
        unmask(std::span(data).subspan(pos, piece), key, pos);
        pos += piece;
    }
    unmask(std::span(data).subspan(pos), key, pos);
    CHECK(data == original);
}

TEST_CASE("ws_frame: close codes valid on the wire (§7.4)", "[ws_frame]") {
    for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
                               1014, 3000, 3999, 4000, 4999}) {
        INFO("code " << code);
        CHECK(is_valid_close_code_on_wire(code));
    }
    for (std::uint16_t code :
         {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 10000, 65535}) {
        INFO("code " << code);
        CHECK_FALSE(is_valid_close_code_on_wire(code));
    }
    int valid = 0;
    for (std::uint32_t code = 0; code <= 0xFFFF; ++code)
        valid += is_valid_close_code_on_wire(std::uint16_t(code));
    CHECK(valid == 4 + 8 + 2000);
}

TEST_CASE("ws_frame: parse_close_payload (§5.5.1)", "[ws_frame]") {
    close_payload c{};
    CHECK(parse_close_payload({}, c) == close_parse::empty);
    CHECK(c.code == 1005);
    CHECK(c.reason.empty());

    const std::uint8_t one[] = {0x03};
    CHECK(parse_close_payload(one, c) == close_parse::invalid);

    const std::uint8_t normal[] = {0x03, 0xE8};
    REQUIRE(parse_close_payload(normal, c) == close_parse::ok);
    CHECK(c.code == 1000);
    CHECK(c.reason.empty());

    const std::uint8_t with_reason[] = {0x0F, 0xA1, 'b', 'y', 'e', 0xC3, 0xA9};
    REQUIRE(parse_close_payload(with_reason, c) == close_parse::ok);
    CHECK(c.code == 4001);
    CHECK(c.reason == "bye\xC3\xA9");
    CHECK(static_cast<const void*>(c.reason.data()) == static_cast<const void*>(with_reason + 2));
}

TEST_CASE("ws_frame: parse_close_payload rejects bad codes, reasons and sizes", "[ws_frame]") {
    close_payload c{};
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 2000, 5000}) {
        const std::uint8_t body[] = {std::uint8_t(code >> 8), std::uint8_t(code)};
        INFO("code " << code);
        CHECK(parse_close_payload(body, c) == close_parse::invalid);
    }
    const std::uint8_t bad_utf8[] = {0x03, 0xE8, 'a', 0xFF};
    CHECK(parse_close_payload(bad_utf8, c) == close_parse::invalid);
    const std::uint8_t cut_utf8[] = {0x03, 0xE8, 'a', 0xE2, 0x82};
    CHECK(parse_close_payload(cut_utf8, c) == close_parse::invalid);
    const std::uint8_t surrogate[] = {0x03, 0xE8, 0xED, 0xA0, 0x80};
    CHECK(parse_close_payload(surrogate, c) == close_parse::invalid);

    bytes largest = {0x03, 0xE8};
    largest.resize(125, 'r');
    CHECK(parse_close_payload(largest, c) == close_parse::ok);
    CHECK(c.reason.size() == 123);
    largest.push_back('r');
    CHECK(parse_close_payload(largest, c) == close_parse::invalid);
}

TEST_CASE("ws_frame: encode_close_payload writes the code and a short reason", "[ws_frame]") {
    std::uint8_t out[125];
    std::size_t n = encode_close_payload(out, 1000, "");
    CHECK(bytes(out, out + n) == bytes{0x03, 0xE8});
    n = encode_close_payload(out, 4001, "bye");
    CHECK(bytes(out, out + n) == bytes{0x0F, 0xA1, 'b', 'y', 'e'});

    close_payload c{};
    REQUIRE(parse_close_payload(std::span<const std::uint8_t>(out, n), c) == close_parse::ok);
    CHECK(c.code == 4001);
    CHECK(c.reason == "bye");
}

TEST_CASE("ws_frame: encode_close_payload truncates at a UTF-8 boundary", "[ws_frame]") {
    std::uint8_t out[125];
    close_payload c{};

    std::string ascii(200, 'x');
    CHECK(encode_close_payload(out, 1001, ascii) == 125);

    // "é" at bytes 122–123 would end past byte 123: dropped whole.
    std::string straddle = std::string(122, 'a') + "\xC3\xA9" + "tail";
    std::size_t n = encode_close_payload(out, 1001, straddle);
    CHECK(n == 2 + 122);
    REQUIRE(parse_close_payload(std::span<const std::uint8_t>(out, n), c) == close_parse::ok);

    // "é" at bytes 121–122 fits exactly.
    std::string fits = std::string(121, 'a') + "\xC3\xA9" + "tail";
    n = encode_close_payload(out, 1001, fits);
    CHECK(n == 125);
    REQUIRE(parse_close_payload(std::span<const std::uint8_t>(out, n), c) == close_parse::ok);
    CHECK(c.reason.substr(121) == "\xC3\xA9");

    // A 4-byte emoji cut at every position around the limit.
    for (std::size_t pad = 115; pad <= 123; ++pad) {
        std::string s = std::string(pad, 'a') + "\xF0\x9F\x98\x80";
        n = encode_close_payload(out, 1000, s);
        INFO("padding " << pad);
        CHECK(n == 2 + (pad + 4 <= 123 ? pad + 4 : pad));
        CHECK(parse_close_payload(std::span<const std::uint8_t>(out, n), c) == close_parse::ok);
    }

    // Invalid UTF-8 in the reason is cut off rather than sent (the peer would fail us, §8.1).
    n = encode_close_payload(out, 1000, "ok\xFFnot sent");
    CHECK(text(std::span<const std::uint8_t>(out + 2, n - 2)) == "ok");
}

TEST_CASE("ws_frame: is_control tells control opcodes from data opcodes", "[ws_frame]") {
    CHECK_FALSE(is_control(opcode::continuation));
    CHECK_FALSE(is_control(opcode::text));
    CHECK_FALSE(is_control(opcode::binary));
    CHECK(is_control(opcode::close));
    CHECK(is_control(opcode::ping));
    CHECK(is_control(opcode::pong));
}

} // namespace ws_frame_test
