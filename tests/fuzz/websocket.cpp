// SPDX-License-Identifier: MIT
// Fuzzes the WebSocket frame decoder and message assembly (detail/ws_frame.hpp, ws_session.hpp)
// through a real upgraded session over the in-memory stream. Input: a config byte, then either
// raw client bytes (config bit 0) or frame descriptions the harness masks properly, so mutations
// reach fragmentation, control frames, UTF-8 and close codes instead of dying on the mask bit.
// Whatever arrives, the server answers with valid frames, and exactly the frames a model of the
// echo endpoint written here from RFC 6455 predicts: each complete text or binary message echoed
// once, in order, a pong per ping, and for a protocol error a close with 1002, 1007 or 1009 and
// nothing after it; a close from the client is answered with its code; EOF sends no close.
#include "support/server.hpp"

#include <aster/application.hpp>

namespace {

using aster::task;

task<> echo(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto m = co_await ws.receive();
        if (m.text) co_await ws.send_text(m.data);
        else co_await ws.send_bytes(m.data);
    }
}

constexpr aster::application app{aster::routes(aster::websocket_route<"/ws">(echo))};

constexpr std::string_view handshake =
    "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// Frames from descriptions: [b0 as sent][length selector][mask byte][payload...].
void build_frames(aster_fuzz::input& in, std::string& out, std::vector<std::size_t>& cuts) {
    while (!in.empty()) {
        std::uint8_t b0 = in.byte(), sel = in.byte(), key_seed = in.byte();
        std::string_view payload = in.take(sel & 0x7F);
        std::uint64_t length = payload.size();
        std::uint8_t header[14];
        std::array<std::uint8_t, 4> key{key_seed, std::uint8_t(key_seed * 7), 0x5A,
                                        std::uint8_t(key_seed ^ 0xC3)};
        bool masked = !(sel & 0x80) || (key_seed & 1); // mostly masked, sometimes not
        std::size_t n = aster::detail::encode_frame_header(header, (b0 & 0x80) != 0,
                                                           aster::detail::opcode(b0 & 0x0F), length,
                                                           masked ? &key : nullptr);
        header[0] = b0; // RSV bits and opcodes as sent
        out.append(reinterpret_cast<const char*>(header), n);
        std::string body(payload);
        if (masked)
            for (std::size_t i = 0; i < body.size(); ++i) body[i] = char(body[i] ^ key[i % 4]);
        out += body;
        if (key_seed & 0x10) cuts.push_back(out.size() - body.size() / 2);
    }
}

// RFC 3629 §4 incrementally: false as soon as the bytes cannot begin valid UTF-8.
struct utf8_model {
    int need = 0;
    std::uint8_t lo = 0x80, hi = 0xBF;
    bool feed(std::string_view bytes) {
        for (char ch : bytes) {
            const auto c = std::uint8_t(ch);
            if (need > 0) {
                if (c < lo || c > hi) return false;
                lo = 0x80, hi = 0xBF, --need;
            } else if (c >= 0x80) {
                if (c >= 0xC2 && c <= 0xDF) need = 1;
                else if (c == 0xE0) need = 2, lo = 0xA0;
                else if (c == 0xED) need = 2, hi = 0x9F; // no surrogates
                else if (c >= 0xE1 && c <= 0xEF) need = 2;
                else if (c == 0xF0) need = 3, lo = 0x90;
                else if (c == 0xF4) need = 3, hi = 0x8F; // up to U+10FFFF
                else if (c >= 0xF1 && c <= 0xF3) need = 3;
                else return false;
            }
        }
        return true;
    }
    bool complete() const { return need == 0; }
};

struct expected_frame {
    std::uint8_t op;
    std::string payload; // for a close: empty; only `close_code` is compared
    std::uint16_t close_code = 0;
};

// What the echo endpoint must send for the client's bytes after the handshake. Frames are acted
// on once whole; a broken header as soon as its bytes are there (the server fails fast, so a
// stream cut inside the header still gets its 1002).
std::vector<expected_frame> model_echo(std::string_view in, std::size_t max_message) {
    std::vector<expected_frame> out;
    auto close_with = [&](std::uint16_t code) { out.push_back({8, {}, code}); };
    bool in_message = false, text = false;
    std::string message;
    utf8_model utf8;
    for (;;) {
        // RFC 6455 §5.2, byte by byte.
        if (in.size() < 1) return out;
        const auto b0 = std::uint8_t(in[0]);
        const bool fin = b0 & 0x80;
        const std::uint8_t op = b0 & 0x0F;
        const bool control = op >= 8;
        if ((b0 & 0x70) || (op >= 3 && op <= 7) || op >= 11 || (control && !fin)) {
            close_with(1002);
            return out;
        }
        if (in.size() < 2) return out;
        const auto b1 = std::uint8_t(in[1]);
        const std::size_t len7 = b1 & 0x7F;
        if (!(b1 & 0x80) || (control && len7 > 125)) { // §5.1: clients mask; §5.5
            close_with(1002);
            return out;
        }
        std::uint64_t length = len7;
        std::size_t at = 2;
        if (len7 == 126) {
            if (in.size() < 4) return out;
            length = std::uint64_t(std::uint8_t(in[2])) << 8 | std::uint8_t(in[3]);
            at = 4;
            if (length < 126) {
                close_with(1002); // not the shortest form
                return out;
            }
        } else if (len7 == 127) {
            if (in.size() >= 3 && (std::uint8_t(in[2]) & 0x80)) {
                close_with(1002);
                return out;
            }
            if (in.size() < 10) return out;
            length = 0;
            for (std::size_t i = 2; i < 10; ++i) length = length << 8 | std::uint8_t(in[i]);
            at = 10;
            if (length <= 0xFFFF) {
                close_with(1002);
                return out;
            }
        }
        if (in.size() < at + 4) return out;
        const std::string_view key = in.substr(at, 4);
        at += 4;
        if (length > max_message) {
            close_with(1009);
            return out;
        }
        if (in.size() - at < length) return out; // EOF inside the frame: no close
        std::string payload(in.substr(at, std::size_t(length)));
        for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = char(payload[i] ^ key[i % 4]);
        in.remove_prefix(at + std::size_t(length));
        switch (op) {
        case 9:
            out.push_back({10, payload});
            break; // §5.5.2: pong with the same payload
        case 10:
            break;
        case 8: {
            // §5.5.1: empty, or a code that may be sent plus UTF-8: echoed; anything else 1002.
            if (payload.empty()) {
                close_with(1005);
                return out;
            }
            std::uint16_t code = payload.size() >= 2 ? std::uint16_t(std::uint8_t(payload[0]) << 8 |
                                                                     std::uint8_t(payload[1]))
                                                     : 0;
            utf8_model reason;
            bool valid = payload.size() >= 2 &&
                         ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                          (code >= 3000 && code <= 4999)) &&
                         reason.feed(std::string_view(payload).substr(2)) && reason.complete();
            close_with(valid ? code : 1002);
            return out;
        }
        case 1:
        case 2:
            if (in_message) {
                close_with(1002);
                return out;
            }
            text = op == 1;
            utf8 = {};
            if (text && !utf8.feed(payload)) {
                close_with(1007);
                return out;
            }
            if (fin) {
                if (!utf8.complete()) {
                    close_with(1007);
                    return out;
                }
                out.push_back({op, payload});
            } else {
                in_message = true;
                message = payload;
            }
            break;
        case 0:
            if (!in_message) {
                close_with(1002);
                return out;
            }
            if (message.size() + payload.size() > max_message) {
                close_with(1009);
                return out;
            }
            if (text && !utf8.feed(payload)) {
                close_with(1007);
                return out;
            }
            message += payload;
            if (fin) {
                if (text && !utf8.complete()) {
                    close_with(1007);
                    return out;
                }
                out.push_back({std::uint8_t(text ? 1 : 2), message});
                in_message = false;
            }
            break;
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    aster_fuzz::input in(data, size);
    const std::uint8_t config = in.byte();
    std::string client(handshake);
    std::vector<std::size_t> cuts{client.size()};
    if (config & 1) client += in.rest();
    else build_frames(in, client, cuts);
    cuts.push_back(client.size());
    std::sort(cuts.begin(), cuts.end());
    std::vector<std::string_view> pieces;
    std::size_t from = 0;
    for (auto c : cuts) {
        pieces.push_back(std::string_view(client).substr(from, c - from));
        from = c;
    }

    aster::detail::connection_options options;
    options.websocket.max_message_bytes = (config & 2) ? 64 : 4096; // 1009 within reach
    const std::size_t read_sizes[] = {std::size_t(-1), 1, 3, 16};
    auto run = aster_fuzz::serve(app.ref(), pieces, read_sizes[(config >> 2) & 3], options);
    if (run.handler_error) aster_fuzz::fail("the WebSocket handler failed");

    aster_fuzz::response_checker checker;
    auto rest = checker.check(run.output, [](std::size_t) { return false; });
    ASTER_FUZZ_CHECK(checker.responses().size() == 1 && checker.responses()[0].status == 101,
                     run.output);
    std::uint16_t code = 0;
    auto frames = aster_fuzz::check_server_frames(rest, code);
    if (code != 0)
        ASTER_FUZZ_CHECK(code == 1005 || aster::detail::is_valid_close_code_on_wire(code));
    const auto expected = model_echo(std::string_view(client).substr(handshake.size()),
                                     options.websocket.max_message_bytes);
    ASTER_FUZZ_CHECK(frames.size() == expected.size(), run.output);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        ASTER_FUZZ_CHECK(std::uint8_t(frames[i].op) == expected[i].op, run.output);
        if (expected[i].op == 8) {
            // The last frame (check_server_frames: nothing follows a close); the reason is ours.
            ASTER_FUZZ_CHECK(code == expected[i].close_code, run.output);
            if (code == 1005) ASTER_FUZZ_CHECK(frames[i].payload.empty());
        } else {
            ASTER_FUZZ_CHECK(frames[i].payload == expected[i].payload, run.output);
        }
    }
    return 0;
}
