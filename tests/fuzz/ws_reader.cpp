// SPDX-License-Identifier: MIT
// Fuzzes detail/ws_reader.hpp with plain bytes: a client's frames read whole, and read as they
// arrive in fuzzer-chosen pieces (byte by byte too, for short inputs), must give the same events
// with the same payloads, codes and reasons; a message never passes its limit, and text handed
// out is always valid UTF-8.
#include "support/fuzz.hpp"

#include <aster/detail/ws_reader.hpp>

#include <string>
#include <vector>

namespace {

using aster::detail::ws_reader;

struct seen {
    ws_reader::event what;
    std::string bytes; // message data, control payload or reason
    bool text = false;
    std::uint16_t code = 0;
    bool operator==(const seen&) const = default;
};

// Reads `wire` arriving in pieces of the given sizes (the rest at once after them), as a
// session would: the buffer keeps what the reader has not used, and grows as bytes come.
std::vector<seen> read_all(std::string_view wire, const std::vector<std::size_t>& pieces,
                           std::size_t limit) {
    ws_reader reader({.from_client = true, .max_message_bytes = limit});
    std::string buffer;
    std::vector<seen> out;
    std::size_t fed = 0, next_piece = 0, at = 0;
    for (;;) {
        std::size_t used = 0;
        auto e =
            reader.read(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(buffer.data()) + at,
                                                buffer.size() - at),
                        used);
        at += used;
        if (e == ws_reader::event::need_more) {
            if (fed == wire.size()) break;
            buffer.erase(0, at); // nothing views these bytes any more
            at = 0;
            std::size_t n = next_piece < pieces.size() ? pieces[next_piece++] : wire.size();
            n = std::min(std::max<std::size_t>(n, 1), wire.size() - fed);
            buffer.append(wire.substr(fed, n));
            fed += n;
            continue;
        }
        if (e == ws_reader::event::inflating) continue;
        seen s{e, {}, false, 0};
        if (e == ws_reader::event::message) {
            s.bytes = std::string(reader.data());
            s.text = reader.text();
            ASTER_FUZZ_CHECK(s.bytes.size() <= limit);
            if (s.text) ASTER_FUZZ_CHECK(aster::detail::is_valid_utf8(s.bytes), s.bytes);
        } else if (e == ws_reader::event::ping || e == ws_reader::event::pong) {
            s.bytes = std::string(reader.payload());
        } else {
            s.code = aster::code(reader.close_code());
            s.bytes = std::string(reader.reason());
        }
        out.push_back(std::move(s));
        if (e == ws_reader::event::failed || e == ws_reader::event::close) break;
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    aster_fuzz::input in(data, size);
    const std::size_t limit = in.flag() ? std::size_t(in.u16()) : std::size_t(-1);
    std::vector<std::size_t> pieces;
    for (int n = in.byte() % 8; n > 0; --n) pieces.push_back(in.byte());
    const std::string wire(in.rest());
    const auto whole = read_all(wire, {}, limit);
    ASTER_FUZZ_CHECK(read_all(wire, pieces, limit) == whole, wire);
    if (wire.size() <= 512) {
        const std::vector<std::size_t> bytes(wire.size(), 1);
        ASTER_FUZZ_CHECK(read_all(wire, bytes, limit) == whole, wire);
    }
    return 0;
}
